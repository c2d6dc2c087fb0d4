// Which objects each node may read because a pod bound to it refers to them: the small in-memory relation graph
// behind the Node authorizer (upstream: plugin/pkg/auth/authorizer/node/graph.go). Kept fresh by one store watch on
// pods; per pod we keep only its node and the refs (secrets, configmaps, PVCs, ServiceAccount), never the object.
import type { Pod } from "kubernetes-types/core/v1";
import type { Store } from "../../store/types.ts";
import { followPrefix } from "../followprefix.ts";
import { logger } from "../../log/log.ts";

const log = logger("node-graph");
export const PODS_PREFIX = "/registry/core/pods/";

export type RefKind = "secret" | "configmap" | "pvc" | "serviceaccount";

interface PodRefs {
  node: string;
  refs: string[]; // "<kind>/<ns>/<name>"
}

/** Every object a pod refers to that its node needs to read (upstream's graph_populator "AddPod"). */
export function podRefs(pod: Pod): string[] {
  const ns = pod.metadata?.namespace ?? "";
  const out = new Set<string>();
  const add = (kind: RefKind, name?: string) => {
    if (name) out.add(`${kind}/${ns}/${name}`);
  };
  const spec = pod.spec;
  if (!spec) return [];
  add("serviceaccount", spec.serviceAccountName || "default");
  for (const s of spec.imagePullSecrets ?? []) add("secret", s.name);
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...((spec.ephemeralContainers ?? []) as any[])];
  for (const c of containers) {
    for (const e of c.envFrom ?? []) {
      add("secret", e.secretRef?.name);
      add("configmap", e.configMapRef?.name);
    }
    for (const e of c.env ?? []) {
      add("secret", e.valueFrom?.secretKeyRef?.name);
      add("configmap", e.valueFrom?.configMapKeyRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    add("secret", v.secret?.secretName);
    add("configmap", v.configMap?.name);
    add("pvc", v.persistentVolumeClaim?.claimName);
    if (v.ephemeral) add("pvc", `${pod.metadata?.name}-${v.name}`);
    for (const src of v.projected?.sources ?? []) {
      add("secret", src.secret?.name);
      add("configmap", src.configMap?.name);
    }
    // Secrets referenced by volume plugins (CSI, cephfs, rbd, ...) carry a secretRef.
    for (const val of Object.values(v)) {
      const ref = (val as any)?.secretRef ?? (val as any)?.nodePublishSecretRef;
      if (ref?.name) add("secret", ref.name);
    }
  }
  return [...out];
}

export class NodeGraph {
  private pods = new Map<string, PodRefs>(); // pod key → refs
  /** ref → node → count of pods on that node holding the ref */
  private index = new Map<string, Map<string, number>>();
  private abort = new AbortController();
  readonly ready: Promise<void>;

  constructor(private store?: Store) {
    this.ready = store ? this.start(store) : Promise.resolve();
  }

  close(): void {
    this.abort.abort();
  }

  /** True when a pod bound to `node` refers to the object. */
  hasRef(node: string, kind: RefKind, namespace: string, name: string): boolean {
    return (this.index.get(`${kind}/${namespace}/${name}`)?.get(node) ?? 0) > 0;
  }

  /** PVC names (ns/name) referenced by pods on the node: used to resolve PersistentVolumes. */
  pvcsOf(node: string): string[] {
    const out: string[] = [];
    for (const [ref, nodes] of this.index) if (ref.startsWith("pvc/") && (nodes.get(node) ?? 0) > 0) out.push(ref.slice(4));
    return out;
  }

  /** Add, update or remove (pod undefined) one pod. Pods not yet scheduled hold nothing. */
  setPod(key: string, pod: Pod | undefined): void {
    const old = this.pods.get(key);
    if (old) {
      for (const r of old.refs) {
        const m = this.index.get(r);
        if (!m) continue;
        const n = (m.get(old.node) ?? 0) - 1;
        if (n <= 0) m.delete(old.node);
        else m.set(old.node, n);
        if (m.size === 0) this.index.delete(r);
      }
      this.pods.delete(key);
    }
    const node = pod?.spec?.nodeName;
    if (!pod || !node) return;
    const refs = podRefs(pod);
    this.pods.set(key, { node, refs });
    for (const r of refs) {
      let m = this.index.get(r);
      if (!m) this.index.set(r, (m = new Map()));
      m.set(node, (m.get(node) ?? 0) + 1);
    }
  }

  private start(store: Store): Promise<void> {
    return followPrefix(store, PODS_PREFIX, {
      load: () => this.loadAll(store),
      onEvent: (ev) => this.setPod(ev.kv.key, ev.type === "DELETE" ? undefined : parseBound(ev.kv.value)),
      signal: this.abort.signal,
      log,
      what: "pod",
    });
  }

  private async loadAll(store: Store): Promise<number> {
    const res = await store.list(PODS_PREFIX);
    this.pods.clear();
    this.index.clear();
    for (const kv of res.items) this.setPod(kv.key, parse(kv.value));
    return res.revision;
  }
}

/**
 * A pod that is not bound holds nothing, and most pod writes (creates, and the scheduler's view of pending pods) are of
 * unbound pods: without a "nodeName" key anywhere in the stored JSON (which JSON.stringify wrote: keys are never
 * escaped) there is no spec.nodeName, so the value need not be parsed.
 */
function parseBound(v: string): Pod | undefined {
  return v.includes('"nodeName"') ? parse(v) : undefined;
}

function parse(v: string): Pod | undefined {
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}
