// Adoption and release of dependents (upstream ControllerRefManager): a controller claims objects that match
// its selector and have no controller, and releases objects it controls that stopped matching.
// Patches are JSON patches guarded by a `test` op, so a concurrent change makes them fail instead of clobbering.

import type { OwnerReference } from "kubernetes-types/meta/v1";
import { ApiError, type ResourceClient } from "../../client/types.ts";
import { logger } from "../../log/log.ts";

const log = logger("controller.claim");

interface Meta {
  metadata?: { name?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string; ownerReferences?: OwnerReference[]; labels?: Record<string, string> };
}

export interface ClaimOptions<T extends Meta> {
  owner: Meta;
  ownerRef: OwnerReference;
  matches: (obj: T) => boolean;
  client: ResourceClient<T>;
  /** Re-checks (with a live GET) that the owner still exists and is not being deleted before adopting. */
  canAdopt?: () => Promise<boolean>;
}

export async function adopt<T extends Meta>(client: ResourceClient<T>, obj: T, ref: OwnerReference): Promise<T> {
  const m = obj.metadata!;
  const ops: any[] = [{ op: "test", path: "/metadata/resourceVersion", value: m.resourceVersion }];
  if (m.ownerReferences?.length) ops.push({ op: "add", path: "/metadata/ownerReferences/-", value: ref });
  else ops.push({ op: "add", path: "/metadata/ownerReferences", value: [ref] });
  return client.patch(m.name!, "json", ops);
}

export async function release<T extends Meta>(client: ResourceClient<T>, obj: T, ownerUID: string): Promise<void> {
  const refs = obj.metadata?.ownerReferences ?? [];
  const i = refs.findIndex((r) => r.uid === ownerUID);
  if (i < 0) return;
  try {
    await client.patch(obj.metadata!.name!, "json", [
      { op: "test", path: `/metadata/ownerReferences/${i}/uid`, value: ownerUID },
      { op: "remove", path: `/metadata/ownerReferences/${i}` },
    ]);
  } catch (e) {
    // Gone, or its owner references changed under us: nothing left to release.
    if (e instanceof ApiError && (e.code === 404 || e.code === 422 || e.code === 409)) return;
    throw e;
  }
}

/** Returns the objects the owner controls after adopting orphans and releasing non-matching ones. */
export async function claim<T extends Meta>(objs: T[], o: ClaimOptions<T>): Promise<T[]> {
  const uid = o.owner.metadata!.uid!;
  const ownerDeleting = !!o.owner.metadata?.deletionTimestamp;
  const out: T[] = [];
  let adoptChecked: boolean | undefined;
  for (const obj of objs) {
    const ctrl = obj.metadata?.ownerReferences?.find((r) => r.controller);
    if (ctrl) {
      if (ctrl.uid !== uid) continue;
      if (o.matches(obj)) out.push(obj);
      else if (!ownerDeleting) await release(o.client, obj, uid);
      continue;
    }
    if (ownerDeleting || obj.metadata?.deletionTimestamp || !o.matches(obj)) continue;
    if (adoptChecked === undefined) adoptChecked = o.canAdopt ? await o.canAdopt() : true;
    if (!adoptChecked) continue;
    try {
      out.push(await adopt(o.client, obj, o.ownerRef));
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 422 || e.code === 409)) {
        log.debug("adoption skipped", { name: obj.metadata?.name, error: e.message });
        continue;
      }
      throw e;
    }
  }
  return out;
}

/** Index name and function: pods (or any objects) by their controller's uid, orphans under "<ns>/-". */
export const CONTROLLER_INDEX = "controller";
export function controllerIndex(o: Meta & { metadata?: { namespace?: string } }): string[] {
  const ref = o.metadata?.ownerReferences?.find((r) => r.controller);
  return [ref ? ref.uid : `${(o.metadata as any)?.namespace ?? ""}/-`];
}

/** Claim candidates: what the owner already controls plus the orphans of its namespace (not every object there). */
export function claimCandidates<T extends Meta>(inf: { byIndex(name: string, value: string): T[] }, owner: { metadata?: { uid?: string; namespace?: string } }): T[] {
  return [...inf.byIndex(CONTROLLER_INDEX, owner.metadata!.uid!), ...inf.byIndex(CONTROLLER_INDEX, `${owner.metadata?.namespace ?? ""}/-`)];
}
