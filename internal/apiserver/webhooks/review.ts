// The AdmissionReview (admission.k8s.io/v1) a webhook receives, and the objects in it converted to the
// group/version the webhook registered for (matchPolicy Equivalent).
import { groupVersion, type ResourceInfo } from "../../api/resources.ts";
import { eventFromCore, eventToCore, isEventsV1 } from "../conversion.ts";
import { clone, type KObject } from "../objects.ts";
import type { WebhookAttributes } from "./types.ts";

/** obj (served as `from`) as the webhook's version `to` expects it. */
export function convertObject(obj: KObject | undefined, from: ResourceInfo, to: ResourceInfo): KObject | undefined {
  if (!obj || from === to) return obj;
  if (isEventsV1(to) && !isEventsV1(from)) return eventFromCore(clone(obj));
  if (isEventsV1(from) && !isEventsV1(to)) return eventToCore(clone(obj));
  // Custom resources without conversion webhooks differ only in apiVersion (conversion strategy None).
  return { ...obj, apiVersion: groupVersion(to), kind: to.kind };
}

export function buildReview(a: WebhookAttributes, as: ResourceInfo, object: KObject | undefined, uid: string): any {
  const u = a.user;
  const userInfo: Record<string, unknown> = { username: u.username, groups: u.groups ?? [] };
  if (u.uid) userInfo.uid = u.uid;
  if (u.extra && Object.keys(u.extra).length) userInfo.extra = u.extra;
  const request: Record<string, unknown> = {
    uid,
    kind: { group: as.group, version: as.version, kind: a.kind ?? as.kind },
    resource: { group: as.group, version: as.version, resource: as.resource },
    requestKind: { group: a.ri.group, version: a.ri.version, kind: a.kind ?? a.ri.kind },
    requestResource: { group: a.ri.group, version: a.ri.version, resource: a.ri.resource },
    name: a.name ?? "",
    operation: a.operation,
    userInfo,
    object: object ?? null,
    oldObject: convertObject(a.oldObject, a.ri, as) ?? null,
    dryRun: a.dryRun,
    options: a.options ?? null,
  };
  if (a.subresource) {
    request.subResource = a.subresource;
    request.requestSubResource = a.subresource;
  }
  if (a.namespace) request.namespace = a.namespace;
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request };
}
