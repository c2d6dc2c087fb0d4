// Reads the ConfigMaps, Secrets and ServiceAccount tokens a pod refers to, through the API.
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret } from "kubernetes-types/core/v1";
import type { Client } from "../client/client.ts";
import { refs } from "../client/refs.ts";
import { ApiError } from "../client/types.ts";

export interface PodRefs {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** TokenRequest for the pod's ServiceAccount, bound to the pod. */
  serviceAccountToken(pod: any, audience: string | undefined, expirationSeconds: number): Promise<string>;
  /** The claim and its bound volume, for persistentVolumeClaim volumes (absent: such volumes are refused). */
  persistentVolumeClaim?(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  persistentVolume?(name: string): Promise<PersistentVolume | undefined>;
}

export function apiRefs(client: Client): PodRefs {
  async function get<T>(ref: any, ns: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await client.resource<T>(ref, ns).get(name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }
  return {
    configMap: (ns, name) => get<ConfigMap>(refs.configmaps, ns, name),
    secret: (ns, name) => get<Secret>(refs.secrets, ns, name),
    persistentVolumeClaim: (ns, name) => get<PersistentVolumeClaim>(refs.persistentvolumeclaims, ns, name),
    persistentVolume: (name) => get<PersistentVolume>(refs.persistentvolumes, undefined, name),
    async serviceAccountToken(pod, audience, expirationSeconds) {
      const sa = pod.spec?.serviceAccountName || "default";
      const res = await client.resource(refs.serviceaccounts, pod.metadata.namespace).createSubresource(sa, "token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          audiences: audience ? [audience] : [],
          expirationSeconds,
          boundObjectRef: { kind: "Pod", apiVersion: "v1", name: pod.metadata.name, uid: pod.metadata.uid },
        },
      });
      return res.status.token;
    },
  };
}

export const decodeSecret = (v: string) => Buffer.from(v, "base64");
