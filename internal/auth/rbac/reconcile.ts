// Writes the bootstrap policy into the store at API server start, as upstream's rbac/bootstrap-roles post-start
// hook: missing objects are created; existing ones marked autoupdate=true get missing rules / subjects added
// (never removed: an admin's additions stay). Objects without the annotation are left alone.
// Also keeps aggregated ClusterRoles' rules written out (upstream's clusterrole-aggregation controller), so
// `kubectl get clusterrole admin -o yaml` shows the rules, not only the authorizer.
import type { ClusterRole, PolicyRule, Subject } from "kubernetes-types/rbac/v1";
import { ConflictError, KeyExistsError, NotFoundError, type Store } from "../../store/types.ts";
import { bootstrapPolicy, BOOTSTRAP_ANNOTATIONS } from "./policy.ts";
import { aggregateRules, type RBACCache } from "./cache.ts";
import { logger } from "../../log/log.ts";

const log = logger("rbac-bootstrap");
const PREFIX = "/registry/rbac.authorization.k8s.io/";
const AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate";

function keyOf(kind: string, obj: { metadata?: { name?: string; namespace?: string } }): string {
  const m = obj.metadata!;
  return m.namespace ? `${PREFIX}${kind}/${m.namespace}/${m.name}` : `${PREFIX}${kind}/${m.name}`;
}

function nowRFC3339(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const ruleKey = (r: PolicyRule) =>
  JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
const subjectKey = (s: Subject) => JSON.stringify([s.kind, s.name, s.namespace ?? ""]);

/** Mutates `live` toward `wanted` additively; returns true when something changed. */
function merge(kind: string, live: any, wanted: any): boolean {
  if (live.metadata?.annotations?.[AUTOUPDATE] !== "true") return false;
  let changed = false;
  if (kind === "clusterroles" || kind === "roles") {
    if (wanted.aggregationRule) {
      // The aggregation controller owns the rules of aggregated roles; only the selectors are reconciled.
      const have = new Set((live.aggregationRule?.clusterRoleSelectors ?? []).map((s: unknown) => JSON.stringify(s)));
      for (const s of wanted.aggregationRule.clusterRoleSelectors ?? []) {
        if (!have.has(JSON.stringify(s))) {
          live.aggregationRule ??= { clusterRoleSelectors: [] };
          live.aggregationRule.clusterRoleSelectors.push(s);
          changed = true;
        }
      }
    } else {
      const have = new Set((live.rules ?? []).map(ruleKey));
      for (const r of wanted.rules ?? []) {
        if (!have.has(ruleKey(r))) {
          (live.rules ??= []).push(r);
          changed = true;
        }
      }
    }
  } else {
    const have = new Set((live.subjects ?? []).map(subjectKey));
    for (const s of wanted.subjects ?? []) {
      if (!have.has(subjectKey(s))) {
        (live.subjects ??= []).push(s);
        changed = true;
      }
    }
  }
  for (const [k, v] of Object.entries(wanted.metadata?.labels ?? {})) {
    if (live.metadata.labels?.[k] === undefined) {
      (live.metadata.labels ??= {})[k] = v;
      changed = true;
    }
  }
  return changed;
}

async function ensureObject(store: Store, kind: string, wanted: any): Promise<void> {
  const key = keyOf(kind, wanted);
  for (let attempt = 0; attempt < 5; attempt++) {
    const { kv } = await store.get(key);
    try {
      if (!kv) {
        const obj = structuredClone(wanted);
        obj.metadata.uid = crypto.randomUUID();
        obj.metadata.creationTimestamp = nowRFC3339();
        await store.create(key, JSON.stringify(obj));
        return;
      }
      const live = JSON.parse(kv.value);
      if (!merge(kind, live, wanted)) return;
      await store.update(key, JSON.stringify(live), kv.modRevision);
      return;
    } catch (err) {
      // Another server reconciling at the same time: re-read and retry.
      if (err instanceof KeyExistsError || err instanceof ConflictError || err instanceof NotFoundError) continue;
      throw err;
    }
  }
  log.warn("gave up reconciling bootstrap object after conflicts", { key });
}

/**
 * Create/refresh the default roles and bindings. Call once the store is open,
 * before serving requests.
 */
export async function reconcileBootstrapPolicy(store: Store): Promise<void> {
  const p = bootstrapPolicy();
  // All at once: the objects are independent, and concurrent writes share one store commit (one fsync for the
  // ~100 objects of a first start instead of one each, which dominated the time to /readyz).
  await Promise.all([
    ...p.clusterRoles.map((o) => ensureObject(store, "clusterroles", o)),
    ...p.clusterRoleBindings.map((o) => ensureObject(store, "clusterrolebindings", o)),
    ...p.roles.map((o) => ensureObject(store, "roles", o)),
    ...p.roleBindings.map((o) => ensureObject(store, "rolebindings", o)),
  ]);
  log.info("bootstrap RBAC policy reconciled", {
    clusterRoles: p.clusterRoles.length,
    clusterRoleBindings: p.clusterRoleBindings.length,
  });
}

/**
 * Writes aggregated rules into aggregated ClusterRoles whenever they differ (upstream's
 * clusterrole-aggregation controller, here driven by the authorizer's RBAC cache). Runs until the signal aborts.
 */
export function runClusterRoleAggregation(store: Store, cache: RBACCache, signal: AbortSignal, intervalMs = 2000): void {
  let seen = -1;
  const tick = async () => {
    await cache.ready;
    if (cache.generation === seen) return;
    seen = cache.generation;
    for (const cr of [...cache.clusterRoles.values()]) {
      if (!cr.aggregationRule) continue;
      const rules = aggregateRules(cr, cache.clusterRoles.values());
      if (JSON.stringify(rules) === JSON.stringify(cr.rules ?? [])) continue;
      const key = `${PREFIX}clusterroles/${cr.metadata!.name}`;
      const { kv } = await store.get(key);
      if (!kv) continue;
      const live = JSON.parse(kv.value) as ClusterRole;
      live.rules = rules;
      try {
        await store.update(key, JSON.stringify(live), kv.modRevision);
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
        seen = -1; // retry next tick
      }
    }
  };
  const loop = async () => {
    while (!signal.aborted) {
      await tick().catch((err) => {
        if (!signal.aborted) log.warn("clusterrole aggregation failed", { err });
      });
      await new Promise((r) => {
        const t = setTimeout(r, intervalMs);
        signal.addEventListener("abort", () => (clearTimeout(t), r(undefined)), { once: true });
      });
    }
  };
  void loop();
}

export { BOOTSTRAP_ANNOTATIONS };
