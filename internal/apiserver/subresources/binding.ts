// Binding a pod to a node (pods/binding and the core "bindings" resource), as the scheduler does.
import { readObject } from "../body.ts";
import { nowRFC3339 } from "../objects.ts";
import { findResource } from "../../api/resources.ts";
import { writeCtx, type Rest } from "../rest.ts";
import { json } from "../respond.ts";
import { badRequest, conflict, methodNotAllowed, notFound } from "../../api/status.ts";
import { updateObject } from "../writes.ts";

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
  if (!node || (body.target?.kind && body.target.kind !== "Node")) {
    throw badRequest("binding target must be a Node with a name");
  }
  const w = { ...writeCtx({ ...r, ri: pods }, "binding"), namespace: r.namespace };
  await updateObject(w, podName, (pod) => {
    if (!pod) throw notFound(pods, podName);
    if (pod.metadata.deletionTimestamp) throw conflict({ group: "", resource: "pods/binding" }, podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
    if (pod.spec?.nodeName) throw conflict({ group: "", resource: "pods/binding" }, podName, `pod ${podName} is already assigned to node "${pod.spec.nodeName}"`);
    const uid = body.metadata?.uid;
    if (uid && uid !== pod.metadata.uid) throw conflict({ group: "", resource: "pods/binding" }, podName, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
    pod.spec = { ...(pod.spec ?? {}), nodeName: node };
    if (body.metadata?.annotations) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...body.metadata.annotations };
    const conditions = (pod.status?.conditions ?? []).filter((c: any) => c.type !== "PodScheduled");
    conditions.push({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: nowRFC3339() });
    pod.status = { ...(pod.status ?? {}), conditions };
    delete pod.metadata.resourceVersion;
    return pod;
  });
  return json(r.c, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, 201);
}
