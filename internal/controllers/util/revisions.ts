// ControllerRevisions for DaemonSets and StatefulSets: one per distinct pod template, named
// <owner>-<hash>, with increasing revision numbers (what `kubectl rollout history ds/sts` reads).

import type { ControllerRevision } from "kubernetes-types/apps/v1";
import type { PodTemplateSpec } from "kubernetes-types/core/v1";
import type { Client } from "../../client/client.ts";
import type { Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { canonicalJSON, computeHash, semanticNormalize } from "../deployment/hash.ts";
import { newControllerRef } from "../../api/meta.ts";

export const REVISION_HASH_LABEL = "controller-revision-hash";

/** Hash of a template's meaning: explicit zero values (as a protobuf round trip writes them) do not change it. */
export function templateHash(t: PodTemplateSpec | undefined, collisionCount?: number): string {
  return computeHash((semanticNormalize(t) ?? {}) as PodTemplateSpec, collisionCount);
}

/** Revisions owned by the object, oldest first. */
export function ownedRevisions(inf: Informer<ControllerRevision>, owner: { metadata?: { namespace?: string; uid?: string } }): ControllerRevision[] {
  return inf
    .list()
    .filter((r) => r.metadata?.namespace === owner.metadata?.namespace && r.metadata?.ownerReferences?.some((o) => o.uid === owner.metadata?.uid))
    .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
}

/** Makes sure a revision for the current template exists and is the newest; returns its name (= hash label value). */
export async function ensureRevision(
  client: Client,
  inf: Informer<ControllerRevision>,
  owner: any,
  kind: "DaemonSet" | "StatefulSet",
  historyLimit = 10,
): Promise<{ hash: string; name: string; revisions: ControllerRevision[] }> {
  const ns = owner.metadata.namespace;
  // A missing collisionCount is 0 (status writes fill it in; the hash must not change when they do).
  const hash = templateHash(owner.spec.template, owner.status?.collisionCount ?? 0);
  const name = `${owner.metadata.name}-${hash}`;
  const revs = ownedRevisions(inf, owner);
  const max = revs.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
  const c = client.resource<ControllerRevision>(refs.controllerrevisions, ns);
  const existing = revs.find((r) => r.metadata?.name === name);
  const data = { spec: { template: { ...structuredClone(owner.spec.template), $patch: "replace" } } };
  if (!existing) {
    // As upstream, a revision carries the owner's annotations: `kubectl rollout history` shows its change-cause.
    const annotations = owner.metadata.annotations;
    try {
      await c.create({
        apiVersion: "apps/v1",
        kind: "ControllerRevision",
        metadata: {
          name,
          namespace: ns,
          labels: { ...(owner.spec.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
          ...(annotations && Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
          ownerReferences: [newControllerRef(owner, "apps/v1", kind)],
        },
        data,
        revision: max + 1,
      });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
  } else if ((existing.revision ?? 0) < max) {
    // Rolled back to an older template: it becomes the newest revision again.
    await c.update({ ...structuredClone(existing), revision: max + 1 });
  } else if (canonicalJSON(existing.data) !== canonicalJSON(data)) {
    // Equal hash but different content should not happen; leave it.
  }
  // Trim history: oldest revisions beyond the limit that are not current.
  const old = revs.filter((r) => r.metadata?.name !== name);
  for (const r of old.slice(0, Math.max(0, old.length - historyLimit))) {
    await c.delete(r.metadata!.name!).catch(() => undefined);
  }
  return { hash, name, revisions: revs };
}
