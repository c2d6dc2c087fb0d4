// Binding a pod to a node (pods/binding and the core "bindings" resource), as the scheduler does.
//
// As upstream's BindingREST: admission sees a CREATE of pods/binding with the Binding, then the pod is changed
// directly in storage (a read-modify-write on its revision, retried on conflicts) — nodeName, annotations and the
// PodScheduled condition — without the generic update pipeline (no pod UPDATE admission, no managedFields entry,
// no revalidation of a spec the binding cannot touch). The scheduler binds every pod, so this is its hot path.
import { readObject } from "../body.ts";
import { admit } from "../admission.ts";
import { decode, encode, nowRFC3339 } from "../objects.ts";
import { findResource, storageKey } from "../../api/resources.ts";
import { writeCtx, type Rest } from "../rest.ts";
import { json } from "../respond.ts";
import { badRequest, conflict, methodNotAllowed, MODIFIED, notFound } from "../../api/status.ts";
import { ConflictError, NotFoundError } from "../../store/types.ts";
import { conflictRetry } from "../writes.ts";

const BINDING = { group: "", resource: "pods/binding" };

export async function handleBinding(r: Rest, method: string): Promise<Response> {
  if (method !== "POST") throw methodNotAllowed();
  const body = (await readObject(r.c)) as any;
  const pods = findResource("", "v1", "pods")!;
  const podName = r.name ?? body.metadata?.name;
  if (!podName) throw badRequest("a binding must name the pod in metadata.name");
  if (r.name && body.metadata?.name && body.metadata.name !== r.name) {
    throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${r.name})`);
  }
  const node = body.target?.name;
  if (!node || typeof node !== "string" || (body.target?.kind && body.target.kind !== "Node")) {
    throw badRequest("binding target must be a Node with a name");
  }
  const annotations = body.metadata?.annotations;
  if (annotations !== undefined && annotations !== null) {
    const ok = typeof annotations === "object" && !Array.isArray(annotations) && Object.values(annotations).every((v) => typeof v === "string");
    if (!ok) throw badRequest("metadata.annotations must be a map of strings");
  }
  const w = { ...writeCtx({ ...r, ri: pods }, "binding"), namespace: r.namespace };
  const { deps } = w;
  // The Binding is what admission sees (webhooks matching pods/binding get kind Binding). Its few fields are
  // checked above, so the pod schema's validation (which admit runs on CREATE) is not applied to it.
  await admit({
    deps: { ...deps, schema: undefined },
    ri: { ...pods, kind: "Binding" },
    user: w.user,
    operation: "CREATE",
    subresource: "binding",
    namespace: w.namespace,
    name: podName,
    object: { ...body, metadata: { ...(body.metadata ?? {}), name: podName, namespace: w.namespace } },
    dryRun: w.dryRun,
    options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1", ...(w.dryRun ? { dryRun: ["All"] } : {}), fieldManager: w.fieldManager },
    warnings: w.warnings,
  });

  const key = storageKey(pods, w.namespace, podName);
  const retry = conflictRetry();
  for (;;) {
    const { kv } = await deps.store.get(key);
    if (!kv) throw notFound(pods, podName);
    const pod = decode(kv);
    if (pod.metadata.deletionTimestamp) throw conflict(BINDING, podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
    const uid = body.metadata?.uid;
    if (uid && uid !== pod.metadata.uid) throw conflict(BINDING, podName, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
    const rv = body.metadata?.resourceVersion;
    if (rv && String(rv) !== pod.metadata.resourceVersion) {
      throw conflict(BINDING, podName, `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${pod.metadata.resourceVersion}`);
    }
    if (pod.spec?.nodeName) throw conflict(BINDING, podName, `pod ${podName} is already assigned to node "${pod.spec.nodeName}"`);
    if (pod.spec?.schedulingGates?.length) throw conflict(BINDING, podName, `pod ${podName} has non-empty .spec.schedulingGates`);
    pod.spec = { ...(pod.spec ?? {}), nodeName: node };
    if (annotations) {
      // Prototype-free: "__proto__" in a request is an ordinary annotation key.
      const merged: Record<string, string> = Object.assign(Object.create(null), pod.metadata.annotations ?? {});
      for (const [k, v] of Object.entries(annotations)) merged[k] = v as string;
      pod.metadata.annotations = merged;
    }
    const conditions = (pod.status?.conditions ?? []).filter((c: any) => c.type !== "PodScheduled");
    conditions.push({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: nowRFC3339() });
    pod.status = { ...(pod.status ?? {}), conditions };
    if (w.dryRun) break;
    try {
      await deps.store.update(key, encode(pod), kv.modRevision);
      break;
    } catch (err) {
      // Someone else wrote the pod meanwhile (the kubelet, a label change): bind onto theirs, as GuaranteedUpdate.
      if (err instanceof ConflictError && (await retry())) continue;
      if (err instanceof ConflictError) throw conflict(pods, podName, MODIFIED);
      if (err instanceof NotFoundError) throw notFound(pods, podName);
      throw err;
    }
  }
  return json(r.c, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, 201);
}
