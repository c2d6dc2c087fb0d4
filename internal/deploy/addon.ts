// The per-file status object, like k3s's Addon (k3s.cattle.io/v1) in kube-system: kubun serves it as the
// CustomResourceDefinition addons.kubun.io (kind Addon), installed by the deploy controller. One Addon per manifest
// file, named after the file; spec.source and spec.checksum as k3s; status.phase Applied/Failed with the error and
// the objects written. `kubectl get addons -n kube-system` lists them; Events about each file are on its Addon.
import type { Client } from "../client/client.ts";
import { ApiError } from "../client/types.ts";

export const ADDON_NAMESPACE = "kube-system";
export const FIELD_MANAGER = "kubun-deploy";
const CRD_NAME = "addons.kubun.io";
const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;

const str = (description: string) => ({ type: "string", description });

export const ADDON_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: CRD_NAME },
  spec: {
    group: "kubun.io",
    scope: "Namespaced",
    names: { kind: "Addon", listKind: "AddonList", plural: "addons", singular: "addon" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        additionalPrinterColumns: [
          { name: "Source", type: "string", jsonPath: ".spec.source" },
          { name: "Checksum", type: "string", jsonPath: ".spec.checksum" },
          { name: "Status", type: "string", jsonPath: ".status.phase" },
          { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            description: "A manifest file of the server's manifests directory, applied by kubun (k3s's Addon).",
            properties: {
              spec: {
                type: "object",
                properties: {
                  source: str("Path of the manifest file on the server."),
                  checksum: str("SHA-256 of the file's content when it was last applied."),
                },
              },
              status: {
                type: "object",
                properties: {
                  phase: str("Applying, Applied, or Failed (see message and the Addon's Events)."),
                  message: str("Why the last apply failed."),
                  objects: { type: "array", items: { type: "string" }, description: "The objects the file wrote (kind/namespace/name)." },
                  lastApplyTime: { type: "string", format: "date-time", description: "When the file was last applied." },
                },
              },
            },
          },
        },
      },
    ],
  },
};

const applyHeaders = { "Content-Type": "application/apply-patch+yaml" };
const applyQuery = `?fieldManager=${FIELD_MANAGER}&force=true`;

/** Applies the Addon CRD and waits until it is Established (at most `timeoutMs`). */
export async function ensureAddonCRD(client: Client, timeoutMs = 30_000, signal?: AbortSignal): Promise<void> {
  await client.request("PATCH", CRD_PATH + applyQuery, ADDON_CRD, applyHeaders);
  await waitEstablished(client, CRD_NAME, timeoutMs, signal);
}

export async function waitEstablished(client: Client, name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const crd = await client.request<any>("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`);
      const c = (crd?.status?.conditions ?? []).find((x: any) => x?.type === "Established");
      if (c?.status === "True") return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    if (Date.now() > deadline || signal?.aborted) throw new Error(`CustomResourceDefinition ${name} is not Established after ${timeoutMs / 1000} s`);
    await Bun.sleep(100);
  }
}

/** DNS-1123 name for a file's Addon ("Traefik Config" → "traefik-config"). */
export function addonName(base: string): string {
  const n = base.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "").slice(0, 253);
  return n || "manifest";
}

export interface AddonState {
  source: string;
  checksum: string;
  phase: "Applying" | "Applied" | "Failed";
  message?: string;
  objects?: string[];
}

/** Server-side applies the file's Addon; returns it (for Events), or undefined when it cannot be written. */
export async function writeAddon(client: Client, name: string, s: AddonState): Promise<any> {
  const status: Record<string, unknown> = { phase: s.phase, lastApplyTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
  if (s.message) status.message = s.message;
  if (s.objects) status.objects = s.objects;
  const body = {
    apiVersion: "kubun.io/v1",
    kind: "Addon",
    metadata: { name, namespace: ADDON_NAMESPACE },
    spec: { source: s.source, checksum: s.checksum },
    status,
  };
  return client.request("PATCH", `/apis/kubun.io/v1/namespaces/${ADDON_NAMESPACE}/addons/${name}${applyQuery}`, body, applyHeaders);
}
