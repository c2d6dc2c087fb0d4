// NodeRestriction, as upstream's plugin/pkg/admission/noderestriction: a node (system:node:<name> in
// system:nodes) may change only its own Node (not its taints, nor labels outside the kubelet's allowed set), its
// own Lease, the status of pods bound to it, delete/evict only pods bound to it, create only mirror pods bound to
// it, and request ServiceAccount tokens only bound to its own pods. Messages are upstream's.
import type { Node, Pod } from "kubernetes-types/core/v1";
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Getter } from "./deps.ts";
import { forbidden, notFound } from "./errors.ts";
import { referencesConfigMaps, referencesSecrets } from "./podrefs.ts";
import { nodeIdentity } from "../auth/node/authorizer.ts";

const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";
const RESTRICTED_PREFIX = "node-restriction.kubernetes.io/";

// Labels a kubelet may set on its own Node (upstream kubeletapis.KubeletLabels + label namespaces).
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
]);
const KUBELET_LABEL_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];

function labelNamespace(key: string): string {
  const i = key.indexOf("/");
  return i < 0 ? "" : key.slice(0, i);
}

/** upstream getForbiddenLabels: restricted prefix, or kubernetes.io/k8s.io namespaces outside the kubelet's set. */
export function forbiddenNodeLabels(keys: string[]): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const ns = labelNamespace(key);
    if (ns === "node-restriction.kubernetes.io" || key.startsWith(RESTRICTED_PREFIX)) {
      out.push(key);
      continue;
    }
    const isK8s = ns === "kubernetes.io" || ns.endsWith(".kubernetes.io") || ns === "k8s.io" || ns.endsWith(".k8s.io");
    if (!isK8s) continue;
    if (KUBELET_LABELS.has(key)) continue;
    if (KUBELET_LABEL_NAMESPACES.some((n) => ns === n || ns.endsWith("." + n))) continue;
    out.push(key);
  }
  return out.sort();
}

/** Taints compared as a set: a re-ordered but identical list is not a modification. */
function taintSet(taints: { key: string; value?: string; effect: string; timeAdded?: string }[] | undefined): string {
  return (taints ?? [])
    .map((t) => JSON.stringify([t.key, t.value ?? "", t.effect, t.timeAdded ?? ""]))
    .sort()
    .join("\n");
}

function modifiedLabels(a: Record<string, string> = {}, b: Record<string, string> = {}): string[] {
  const keys = new Set<string>();
  for (const k of Object.keys(a)) if (a[k] !== b[k]) keys.add(k);
  for (const k of Object.keys(b)) if (a[k] !== b[k]) keys.add(k);
  return [...keys];
}

export function nodeRestriction(get: Getter): AdmissionPlugin {
  return {
    name: "NodeRestriction",
    async admit(req: AdmissionRequest) {
      const { isNode, nodeName } = nodeIdentity(req.user);
      if (!isNode) return;
      const name = req.name ?? req.object?.metadata?.name;
      if (!nodeName) throw forbidden({ group: req.group, resource: req.resource, name }, `could not determine node from user "${req.user.username}"`);
      const target = { group: req.group, resource: req.resource, name };

      if (req.group === "" && req.resource === "pods") return admitPod(req, nodeName, target, get);
      if (req.group === "" && req.resource === "nodes") return admitNode(req, nodeName, target);
      if (req.group === "coordination.k8s.io" && req.resource === "leases") {
        if (req.operation === "CREATE" && req.object?.metadata?.name !== nodeName) {
          throw forbidden(target, "can only access node lease with the same name as the requesting node");
        }
        return;
      }
      if (req.group === "" && req.resource === "serviceaccounts" && req.subresource === "token" && req.operation === "CREATE") {
        return admitTokenRequest(req, nodeName, target, get);
      }
    },
  };
}

/** Upstream: a mirror pod is owned (as controller, without blockOwnerDeletion) by its Node, and only by it. */
async function checkMirrorOwner(pod: Pod, nodeName: string, target: { group: string; resource: string; name?: string }, get: Getter) {
  const owners = pod.metadata?.ownerReferences ?? [];
  if (owners.length > 1) throw forbidden(target, `node "${nodeName}" can only create pods with a single owner reference set to itself`);
  const owner = owners[0];
  if (!owner || owner.apiVersion !== "v1" || owner.kind !== "Node" || owner.name !== nodeName) {
    throw forbidden(target, `node "${nodeName}" can only create pods with an owner reference set to itself`);
  }
  if (!owner.controller) throw forbidden(target, `node "${nodeName}" can only create pods with a controller owner reference set to itself`);
  if (owner.blockOwnerDeletion) throw forbidden(target, `node "${nodeName}" must not set blockOwnerDeletion on an owner reference`);
  const node = await (get.getLive ?? get.get)<Node>("", "nodes", undefined, nodeName);
  if (!node) throw notFound("", "nodes", nodeName);
  if (owner.uid !== node.metadata?.uid) throw forbidden(target, `node ${nodeName} UID mismatch: expected ${owner.uid} got ${node.metadata?.uid}`);
}

async function admitPod(req: AdmissionRequest, nodeName: string, target: { group: string; resource: string; name?: string }, get: Getter) {
  switch (req.subresource ?? "") {
    case "": {
      if (req.operation === "CREATE") {
        const pod = req.object as Pod;
        if (pod?.metadata?.annotations?.[MIRROR_ANNOTATION] === undefined) {
          throw forbidden(target, `pod does not have "${MIRROR_ANNOTATION}" annotation, node "${nodeName}" can only create mirror pods`);
        }
        if (pod.spec?.nodeName !== nodeName) throw forbidden(target, `node "${nodeName}" can only create pods with spec.nodeName set to itself`);
        await checkMirrorOwner(pod, nodeName, target, get);
        // A mirror pod may not reference other API objects: through the Node authorizer's graph that would give
        // the node read access to them.
        const spec = pod.spec ?? ({ containers: [] } as NonNullable<Pod["spec"]>);
        if (spec.serviceAccountName) throw forbidden(target, `node "${nodeName}" can not create pods that reference a service account`);
        if (referencesSecrets(spec)) throw forbidden(target, `node "${nodeName}" can not create pods that reference secrets`);
        if (referencesConfigMaps(spec)) throw forbidden(target, `node "${nodeName}" can not create pods that reference configmaps`);
        if (spec.volumes?.some((v) => v.persistentVolumeClaim)) {
          throw forbidden(target, `node "${nodeName}" can not create pods that reference persistentvolumeclaims`);
        }
        if (spec.resourceClaims?.length) throw forbidden(target, `node "${nodeName}" can not create pods that reference resourceclaims`);
        return;
      }
      if (req.operation === "DELETE") {
        const pod = (req.oldObject as Pod | undefined) ?? (await get.get<Pod>("", "pods", req.namespace, req.name!));
        if (!pod) throw notFound("", "pods", req.name ?? "");
        if (pod.spec?.nodeName !== nodeName) throw forbidden(target, `node "${nodeName}" can only delete pods with spec.nodeName set to itself`);
        return;
      }
      throw forbidden(target, `unexpected operation "${req.operation}", node "${nodeName}" can only create and delete mirror pods`);
    }
    case "status": {
      if (req.operation !== "UPDATE") throw forbidden(target, `unexpected operation "${req.operation}"`);
      const old = req.oldObject as Pod | undefined;
      const pod = req.object as Pod | undefined;
      if (old?.spec?.nodeName !== nodeName) {
        throw forbidden(target, `node "${nodeName}" can only update pod status for pods with spec.nodeName set to itself`);
      }
      if (modifiedLabels(pod?.metadata?.labels, old?.metadata?.labels).length > 0) {
        throw forbidden(target, `node "${nodeName}" cannot update labels through pod status`);
      }
      return;
    }
    case "eviction": {
      if (req.operation !== "CREATE") throw forbidden(target, `unexpected operation "${req.operation}"`);
      const podName = req.name ?? req.object?.metadata?.name;
      const pod = podName ? await get.get<Pod>("", "pods", req.namespace, podName) : undefined;
      if (!pod) throw notFound("", "pods", podName ?? "");
      if (pod.spec?.nodeName !== nodeName) throw forbidden(target, `node "${nodeName}" can only evict pods with spec.nodeName set to itself`);
      return;
    }
    default:
      throw forbidden(target, `unexpected pod subresource "${req.subresource}", only 'status' and 'eviction' are allowed`);
  }
}

function admitNode(req: AdmissionRequest, nodeName: string, target: { group: string; resource: string; name?: string }) {
  const requested = req.name ?? req.object?.metadata?.name;
  if (requested !== nodeName) throw forbidden(target, `node "${nodeName}" is not allowed to modify node "${requested}"`);
  if (req.operation === "CREATE") {
    const node = req.object as Node;
    if ((node.spec as any)?.configSource) throw forbidden(target, `node "${nodeName}" is not allowed to create pods with a non-nil configSource`);
    const bad = forbiddenNodeLabels(modifiedLabels(node.metadata?.labels, undefined));
    if (bad.length) throw forbidden(target, `node "${nodeName}" is not allowed to set the following labels: ${bad.join(", ")}`);
  }
  if (req.operation === "UPDATE") {
    const node = req.object as Node;
    const old = req.oldObject as Node;
    if (taintSet(node?.spec?.taints) !== taintSet(old?.spec?.taints)) {
      throw forbidden(target, `node "${nodeName}" is not allowed to modify taints`);
    }
    const bad = forbiddenNodeLabels(modifiedLabels(node?.metadata?.labels, old?.metadata?.labels));
    if (bad.length) throw forbidden(target, `is not allowed to modify labels: ${bad.join(", ")}`);
  }
}

async function admitTokenRequest(req: AdmissionRequest, nodeName: string, target: { group: string; resource: string; name?: string }, get: Getter) {
  const ref = req.object?.spec?.boundObjectRef;
  if (!ref || ref.apiVersion !== "v1" || ref.kind !== "Pod" || !ref.name) throw forbidden(target, "node requested token not bound to a pod");
  if (!ref.uid) throw forbidden(target, "node requested token with a pod binding without a uid");
  const pod = await get.get<Pod>("", "pods", req.namespace, ref.name);
  if (!pod) throw notFound("", "pods", ref.name);
  if (pod.metadata?.uid !== ref.uid) {
    throw forbidden(
      target,
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  }
  if (pod.spec?.nodeName !== nodeName) throw forbidden(target, "node requested token bound to a pod scheduled on a different node");
}
