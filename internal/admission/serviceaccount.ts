// ServiceAccount admission, as upstream's plugin/pkg/admission/serviceaccount: pods run as the "default"
// ServiceAccount unless they name one; the ServiceAccount must exist; unless automounting is disabled (pod, then
// ServiceAccount), a projected volume kube-api-access-<suffix> (token + kube-root-ca.crt's ca.crt + namespace) is
// added and mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container; the
// ServiceAccount's imagePullSecrets are copied when the pod has none.
import type { Pod, ServiceAccount, Volume, VolumeMount } from "kubernetes-types/core/v1";
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Getter } from "./deps.ts";
import { forbidden } from "./errors.ts";
import { referencesSecrets } from "./podrefs.ts";

export const DEFAULT_SERVICE_ACCOUNT = "default";
export const SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
export const SA_VOLUME_PREFIX = "kube-api-access-";
const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";
/** upstream: one hour plus 7 s, so the kubelet can tell an admission-defaulted token from a user-set one. */
const TOKEN_EXPIRATION_SECONDS = 3607;

const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
function suffix(n = 5): string {
  let s = "";
  for (const b of crypto.getRandomValues(new Uint8Array(n))) s += ALPHABET[b % ALPHABET.length];
  return s;
}

export function projectedTokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    },
  };
}

export function serviceAccountAdmission(get: Getter, opts: { waitMs?: number } = {}): AdmissionPlugin {
  const waitMs = opts.waitMs ?? 3000;

  async function lookup(ns: string, name: string): Promise<ServiceAccount | undefined> {
    let sa = await get.get<ServiceAccount>("", "serviceaccounts", ns, name);
    // A namespace's "default" ServiceAccount is created by a controller right after the namespace; give it a
    // moment rather than failing a pod created in the same breath as its namespace.
    const end = Date.now() + (name === DEFAULT_SERVICE_ACCOUNT ? waitMs : 0);
    while (!sa && Date.now() < end) {
      await Bun.sleep(100);
      sa = await get.get<ServiceAccount>("", "serviceaccounts", ns, name);
    }
    return sa;
  }

  return {
    name: "ServiceAccount",
    async admit(req: AdmissionRequest) {
      if (req.operation !== "CREATE" || req.group !== "" || req.resource !== "pods" || req.subresource) return;
      const pod = req.object as Pod | undefined;
      if (!pod?.spec) return;
      const target = { group: "", resource: "pods", name: req.name ?? pod.metadata?.name };
      const annotations = pod.metadata?.annotations;
      if (annotations && Object.hasOwn(annotations, MIRROR_ANNOTATION)) {
        // Upstream: a mirror pod's spec is never mutated (the kubelet would see a different pod and delete it),
        // and it may not use API credentials; this runs before NodeRestriction, as upstream's chain does.
        checkMirrorPod(pod, target);
        return;
      }
      const spec = pod.spec as Pod["spec"] & { serviceAccount?: string };
      if (!spec!.serviceAccountName) spec!.serviceAccountName = spec!.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
      spec!.serviceAccount = spec!.serviceAccountName;
      const saName = spec!.serviceAccountName!;
      const ns = req.namespace ?? pod.metadata?.namespace ?? "default";
      const sa = await lookup(ns, saName);
      if (!sa) {
        throw forbidden(target, `error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`);
      }
      const automount = spec!.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
      if (automount) mountToken(pod);
      if (!spec!.imagePullSecrets?.length && sa.imagePullSecrets?.length) {
        spec!.imagePullSecrets = sa.imagePullSecrets.map((s) => ({ name: s.name }));
      }
    },
  };
}

/** Upstream's Validate for mirror pods: no ServiceAccount, no secrets, no ServiceAccount token projections. */
function checkMirrorPod(pod: Pod, target: { group: string; resource: string; name?: string }): void {
  const spec = pod.spec as NonNullable<Pod["spec"]> & { serviceAccount?: string };
  if (spec.serviceAccountName || spec.serviceAccount) throw forbidden(target, "a mirror pod may not reference service accounts");
  if (referencesSecrets(spec)) throw forbidden(target, "a mirror pod may not reference secrets");
  for (const v of spec.volumes ?? []) {
    if (v.projected?.sources?.some((s) => s.serviceAccountToken)) {
      throw forbidden(target, "a mirror pod may not use ServiceAccountToken volume projections");
    }
  }
}

function mountToken(pod: Pod): void {
  const spec = pod.spec!;
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  // Upstream: if any container already mounts something at the path, the pod brings its own credentials.
  let volumeName = spec.volumes?.find((v) => v.name.startsWith(SA_VOLUME_PREFIX) && v.projected)?.name;
  const needs = all.filter((c) => !(c.volumeMounts ?? []).some((m) => m.mountPath === SA_MOUNT_PATH));
  if (needs.length === 0) return;
  if (!volumeName) {
    const taken = new Set((spec.volumes ?? []).map((v) => v.name));
    do volumeName = SA_VOLUME_PREFIX + suffix();
    while (taken.has(volumeName));
    (spec.volumes ??= []).push(projectedTokenVolume(volumeName));
  }
  const mount: VolumeMount = { name: volumeName, readOnly: true, mountPath: SA_MOUNT_PATH };
  for (const c of needs) (c.volumeMounts ??= []).push({ ...mount });
}
