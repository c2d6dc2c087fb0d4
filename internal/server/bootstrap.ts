// First-start objects: the default namespaces, created through the normal write path (idempotent).
import type { UserInfo } from "../auth/types.ts";
import type { ApiServerDeps } from "../apiserver/deps.ts";
import { findResource } from "../api/resources.ts";
import { StatusError } from "../api/status.ts";
import { createObject } from "../apiserver/writes.ts";

export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export async function ensureDefaultNamespaces(deps: ApiServerDeps, user: UserInfo): Promise<void> {
  const ri = findResource("", "v1", "namespaces")!;
  // Concurrently: the store commits them together (one fsync on a first start, not four).
  await Promise.all(
    DEFAULT_NAMESPACES.map(async (name) => {
      try {
        await createObject(
          { deps, ri, user, dryRun: false, fieldManager: "kube-apiserver", fieldValidation: "Ignore", warnings: [] },
          { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "kubernetes.io/metadata.name": name } } },
        );
      } catch (err) {
        if (!(err instanceof StatusError && err.reason === "AlreadyExists")) throw err;
      }
    }),
  );
}
