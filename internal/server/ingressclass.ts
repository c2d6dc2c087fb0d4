// The default IngressClass `kubun` (controller kubun.dev/ingress, marked default), as k3s ships Traefik's class:
// created through the normal write path when missing at start. An admin may change its annotations (e.g. make
// another class the default); a deleted class comes back on the next start, as k3s re-applies its manifest.
import type { UserInfo } from "../auth/types.ts";
import type { ApiServerDeps } from "../apiserver/deps.ts";
import { findResource } from "../api/resources.ts";
import { StatusError } from "../api/status.ts";
import { createObject } from "../apiserver/writes.ts";
import { DEFAULT_CLASS_ANNOTATION, INGRESS_CLASS, INGRESS_CONTROLLER } from "../api/ingress.ts";

export async function ensureDefaultIngressClass(deps: ApiServerDeps, user: UserInfo): Promise<void> {
  const ri = findResource("networking.k8s.io", "v1", "ingressclasses")!;
  try {
    await createObject(
      { deps, ri, user, dryRun: false, fieldManager: "kubun", fieldValidation: "Ignore", warnings: [] },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "IngressClass",
        metadata: { name: INGRESS_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" }, labels: { "app.kubernetes.io/managed-by": "kubun" } },
        spec: { controller: INGRESS_CONTROLLER },
      },
    );
  } catch (err) {
    if (!(err instanceof StatusError && err.reason === "AlreadyExists")) throw err;
  }
}
