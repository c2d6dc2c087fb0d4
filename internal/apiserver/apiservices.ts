// apiregistration.k8s.io/v1 APIServices, read-only: one `Local` APIService per group-version this server
// serves (upstream's kube-aggregator creates the same objects for the built-in groups), so tools that read
// them (`kubectl get apiservices`, metrics-server installers, client discovery checks) see every local API
// as Available. kubun aggregates no external API servers, so nothing else can be registered.
import { createHash } from "node:crypto";
import { groupVersions } from "./discovery.ts";
import { matches, parseSelectors } from "./listing.ts";
import type { KObject } from "./objects.ts";
import { groupVersion } from "../api/resources.ts";
import type { Rest } from "./rest.ts";
import { renderObject, renderObjects } from "./respond.ts";
import { methodNotAllowed, notFound } from "../api/status.ts";

/** Upstream's apiVersionPriorities (kube-apiserver aggregator.go): [groupPriorityMinimum, versionPriority]. */
const PRIORITIES: Record<string, [number, number]> = {
  v1: [18000, 1],
  "apiregistration.k8s.io/v1": [18000, 15],
  "apps/v1": [17800, 15],
  "events.k8s.io/v1": [17750, 15],
  "authentication.k8s.io/v1": [17700, 15],
  "authorization.k8s.io/v1": [17600, 15],
  "autoscaling/v1": [17500, 15],
  "autoscaling/v2": [17500, 30],
  // What metrics-server's APIService asks for.
  "metrics.k8s.io/v1beta1": [100, 100],
  "batch/v1": [17400, 15],
  "certificates.k8s.io/v1": [17300, 15],
  "networking.k8s.io/v1": [17200, 15],
  "policy/v1": [17100, 15],
  "rbac.authorization.k8s.io/v1": [17000, 15],
  "storage.k8s.io/v1": [16800, 15],
  "scheduling.k8s.io/v1": [16600, 15],
  "coordination.k8s.io/v1": [16500, 15],
  "node.k8s.io/v1": [16300, 15],
  "discovery.k8s.io/v1": [16200, 15],
};

const startedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");

function uidOf(name: string): string {
  const h = createHash("sha256").update(`apiservice/${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The APIService objects of the local group-versions, sorted by name as a list from the store would be. */
export function localAPIServices(resourceVersion: string): KObject[] {
  const out: KObject[] = [];
  for (const gv of groupVersions()) {
    const name = `${gv.version}.${gv.group}`;
    const [groupPriorityMinimum, versionPriority] = PRIORITIES[groupVersion(gv)] ?? [1000, 15];
    out.push({
      kind: "APIService",
      apiVersion: "apiregistration.k8s.io/v1",
      metadata: {
        name,
        uid: uidOf(name),
        resourceVersion,
        creationTimestamp: startedAt,
        labels: { "kube-aggregator.kubernetes.io/automanaged": "onstart" },
      },
      spec: { group: gv.group || undefined, version: gv.version, groupPriorityMinimum, versionPriority },
      status: {
        conditions: [
          { type: "Available", status: "True", lastTransitionTime: startedAt, reason: "Local", message: "Local APIServices are always available" },
        ],
      },
    } as KObject);
  }
  return out.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
}

const enc = new TextEncoder();

/** get, list and watch of the computed APIServices; every write is refused as for a read-only resource. */
export async function handleComputed(r: Rest, method: string): Promise<Response> {
  if (method !== "GET") throw methodNotAllowed();
  const rv = String(await r.deps.store.currentRevision());
  const all = localAPIServices(rv);
  const sel = parseSelectors(r.ri, r.q);
  if (r.name) {
    const obj = all.find((o) => o.metadata.name === r.name);
    if (!obj) throw notFound(r.ri, r.name);
    if (r.info.verb !== "watch") return renderObject(r.c, r.deps, r.ri, obj);
  }
  const selected = all.filter((o) => (!r.name || o.metadata.name === r.name) && matches(r.ri, sel, o));
  if (r.info.verb !== "watch") return renderObjects(r.c, r.deps, r.ri, selected, { resourceVersion: rv });
  // Watch: the objects never change while the server runs, so the stream is the initial ADDED events
  // (unless resuming from a resourceVersion) and then stays open until the timeout or the client leaves.
  const from = r.q.get("resourceVersion");
  const initial = !from || from === "0";
  const timeoutMs = (Number(r.q.get("timeoutSeconds")) || 1800) * 1000;
  let timer: Timer | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      const text = initial ? selected.map((o) => JSON.stringify({ type: "ADDED", object: o }) + "\n").join("") : "\n";
      c.enqueue(enc.encode(text || "\n"));
      const end = () => {
        clearTimeout(timer);
        try {
          c.close();
        } catch {}
      };
      timer = setTimeout(end, timeoutMs);
      r.c.req.raw.signal?.addEventListener("abort", end, { once: true });
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(stream, { headers: { "Content-Type": "application/json", "Cache-Control": "no-cache, private" } });
}
