// In-memory copy of all RBAC objects, kept fresh by one store watch on the rbac group's prefix, so that
// authorization never touches the database per request. Bindings are indexed by subject.
// Aggregated ClusterRoles (aggregationRule) get their effective rules computed here from the ClusterRoles their
// selectors match, so admin/edit/view work even before anything writes the aggregated rules back.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from "kubernetes-types/rbac/v1";
import type { Store, WatchEvent } from "../../store/types.ts";
import { followPrefix } from "../followprefix.ts";
import { logger } from "../../log/log.ts";
import { selectorMatches } from "../../api/selectors/objects.ts";

const log = logger("rbac-cache");

export const RBAC_PREFIX = "/registry/rbac.authorization.k8s.io/";
const KINDS = ["roles", "rolebindings", "clusterroles", "clusterrolebindings"] as const;
type Kind = (typeof KINDS)[number];

/** A binding reduced to what authorization needs. */
export interface BindingRef {
  kind: "ClusterRoleBinding" | "RoleBinding";
  name: string;
  /** For RoleBindings. */
  namespace?: string;
  roleRef: { kind: string; name: string };
  /** The subject that matched, e.g. `User "alice"` (for upstream's "allowed by" reason). */
  subject: string;
}

function describeSubject(s: Subject): string {
  return s.kind === "ServiceAccount" ? `ServiceAccount "${s.name}/${s.namespace ?? ""}"` : `${s.kind} "${s.name}"`;
}

/** The key a subject is indexed by: users and service accounts by username, groups by group name. */
export function subjectKeys(s: Subject, bindingNamespace?: string): string | undefined {
  switch (s.kind) {
    case "User":
      return `u:${s.name}`;
    case "Group":
      return `g:${s.name}`;
    case "ServiceAccount": {
      const ns = s.namespace || bindingNamespace;
      if (!ns) return undefined;
      return `u:system:serviceaccount:${ns}:${s.name}`;
    }
  }
  return undefined;
}

export class RBACCache {
  readonly roles = new Map<string, Role>(); // "ns/name"
  readonly clusterRoles = new Map<string, ClusterRole>();
  private roleBindings = new Map<string, RoleBinding>(); // "ns/name"
  private clusterRoleBindings = new Map<string, ClusterRoleBinding>();
  /** subject key → cluster role bindings naming it. */
  private crbIndex = new Map<string, BindingRef[]>();
  /** namespace → subject key → role bindings. */
  private rbIndex = new Map<string, Map<string, BindingRef[]>>();
  private aggregated = new Map<string, PolicyRule[]>();
  private _dirty = true;
  /** Bumped on every change; lets pollers skip work when nothing changed. */
  generation = 0;
  private get dirty(): boolean {
    return this._dirty;
  }
  private set dirty(v: boolean) {
    if (v) this.generation++;
    this._dirty = v;
  }
  private abort = new AbortController();
  readonly ready: Promise<void>;

  constructor(private store?: Store) {
    this.ready = store ? this.start(store) : Promise.resolve();
  }

  close(): void {
    this.abort.abort();
  }

  /** Replace or remove an object (also used directly by tests and by bootstrap before the store write lands). */
  apply(kind: Kind, obj: any, deleted = false): void {
    const ns = obj?.metadata?.namespace;
    const name = obj?.metadata?.name;
    if (!name) return;
    const key = ns ? `${ns}/${name}` : name;
    const map = this.mapFor(kind);
    if (deleted) map.delete(key);
    else map.set(key, obj);
    this.dirty = true;
  }

  private mapFor(kind: Kind): Map<string, any> {
    switch (kind) {
      case "roles":
        return this.roles;
      case "rolebindings":
        return this.roleBindings;
      case "clusterroles":
        return this.clusterRoles;
      case "clusterrolebindings":
        return this.clusterRoleBindings;
    }
  }

  private kindOfKey(key: string): Kind | undefined {
    const rest = key.slice(RBAC_PREFIX.length);
    const k = rest.slice(0, rest.indexOf("/")) as Kind;
    return KINDS.includes(k) ? k : undefined;
  }

  private start(store: Store): Promise<void> {
    return followPrefix(store, RBAC_PREFIX, {
      load: () => this.loadAll(store),
      onEvent: (ev) => this.onEvent(ev),
      signal: this.abort.signal,
      log,
      what: "RBAC",
    });
  }

  private async loadAll(store: Store): Promise<number> {
    const res = await store.list(RBAC_PREFIX);
    for (const m of [this.roles, this.roleBindings, this.clusterRoles, this.clusterRoleBindings]) m.clear();
    for (const kv of res.items) {
      const kind = this.kindOfKey(kv.key);
      if (!kind) continue;
      try {
        this.apply(kind, JSON.parse(kv.value));
      } catch {
        log.warn("unparseable RBAC object", { key: kv.key });
      }
    }
    this.dirty = true;
    return res.revision;
  }

  private onEvent(ev: WatchEvent): void {
    const kind = this.kindOfKey(ev.kv.key);
    if (!kind) return;
    if (ev.type === "DELETE") {
      const rest = ev.kv.key.slice(RBAC_PREFIX.length + kind.length + 1);
      this.mapFor(kind).delete(rest);
      this.dirty = true;
      return;
    }
    try {
      this.apply(kind, JSON.parse(ev.kv.value));
    } catch {
      log.warn("unparseable RBAC object", { key: ev.kv.key });
    }
  }

  private rebuild(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.crbIndex.clear();
    this.rbIndex.clear();
    for (const b of this.clusterRoleBindings.values()) {
      for (const s of b.subjects ?? []) {
        const k = subjectKeys(s);
        if (!k) continue;
        const ref: BindingRef = { kind: "ClusterRoleBinding", name: b.metadata!.name!, roleRef: b.roleRef, subject: describeSubject(s) };
        let list = this.crbIndex.get(k);
        if (!list) this.crbIndex.set(k, (list = []));
        list.push(ref);
      }
    }
    for (const b of this.roleBindings.values()) {
      const ns = b.metadata!.namespace!;
      let nsIdx = this.rbIndex.get(ns);
      if (!nsIdx) this.rbIndex.set(ns, (nsIdx = new Map()));
      for (const s of b.subjects ?? []) {
        const k = subjectKeys(s, ns);
        if (!k) continue;
        const ref: BindingRef = { kind: "RoleBinding", name: b.metadata!.name!, namespace: ns, roleRef: b.roleRef, subject: describeSubject(s) };
        let list = nsIdx.get(k);
        if (!list) nsIdx.set(k, (list = []));
        list.push(ref);
      }
    }
    this.aggregated.clear();
  }

  /** Bindings that apply to the user: cluster-wide ones, and those in `namespace` when given. */
  bindingsFor(username: string, groups: string[], namespace?: string): BindingRef[] {
    this.rebuild();
    const keys = [`u:${username}`, ...groups.map((g) => `g:${g}`)];
    const out: BindingRef[] = [];
    const seen = new Set<BindingRef>();
    const add = (list: BindingRef[] | undefined) => {
      for (const b of list ?? []) if (!seen.has(b)) (seen.add(b), out.push(b));
    };
    for (const k of keys) add(this.crbIndex.get(k));
    if (namespace) {
      const nsIdx = this.rbIndex.get(namespace);
      if (nsIdx) for (const k of keys) add(nsIdx.get(k));
    }
    return out;
  }

  /** Effective rules of a ClusterRole: its own rules plus, when aggregated, those of the roles it selects. */
  clusterRoleRules(name: string): PolicyRule[] | undefined {
    this.rebuild();
    const cr = this.clusterRoles.get(name);
    if (!cr) return undefined;
    if (!cr.aggregationRule) return cr.rules ?? [];
    const cached = this.aggregated.get(name);
    if (cached) return cached;
    const rules = aggregateRules(cr, this.clusterRoles.values());
    this.aggregated.set(name, rules);
    return rules;
  }

  roleRules(namespace: string, name: string): PolicyRule[] | undefined {
    return this.roles.get(`${namespace}/${name}`)?.rules ?? (this.roles.has(`${namespace}/${name}`) ? [] : undefined);
  }
}

function ruleKey(r: PolicyRule): string {
  return JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
}

/**
 * Rules of an aggregated ClusterRole, as upstream's clusterrole-aggregation controller computes them: the union
 * (deduplicated, in order) of the rules of every other ClusterRole matching one of its selectors, sorted by role name.
 * Aggregation is one level deep there too (the controller's output feeds the next round), so we follow it transitively.
 */
export function aggregateRules(target: ClusterRole, all: Iterable<ClusterRole>): PolicyRule[] {
  const roles = [...all].sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  const out: PolicyRule[] = [];
  const seenRules = new Set<string>();
  const visited = new Set<string>([target.metadata!.name!]);
  const visit = (cr: ClusterRole) => {
    for (const sel of cr.aggregationRule?.clusterRoleSelectors ?? []) {
      for (const r of roles) {
        const n = r.metadata!.name!;
        if (visited.has(n) || !selectorMatches(sel, r.metadata?.labels)) continue;
        visited.add(n);
        for (const rule of r.rules ?? []) {
          const k = ruleKey(rule);
          if (!seenRules.has(k)) (seenRules.add(k), out.push(rule));
        }
        if (r.aggregationRule) visit(r);
      }
    }
  };
  visit(target);
  return out;
}
