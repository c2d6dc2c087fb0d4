// Per-kind rules upstream keeps in each resource's "strategy": what create resets, which parts of the
// object the main resource vs. its status subresource may change, and when metadata.generation moves.
import { clone, deepEqual, hasStatus, specPart, type KObject } from "./objects.ts";
import type { ResourceInfo } from "../api/resources.ts";
import type { UserInfo } from "../auth/types.ts";
import { isCSR, prepareCSRForCreate, prepareCSRForUpdate } from "./csrstrategy.ts";

/** Kinds whose status may be set on create (upstream lets nodes register with status). */
const STATUS_ON_CREATE = new Set(["/nodes", "/events", "events.k8s.io/events"]);

export function prepareForCreate(ri: ResourceInfo, obj: KObject, user?: UserInfo): void {
  const key = `${ri.group}/${ri.resource}`;
  if (isCSR(ri)) prepareCSRForCreate(obj, user);
  if (hasStatus(ri) && !STATUS_ON_CREATE.has(key)) delete obj.status;
  if (key === "/pods") {
    obj.status = { phase: "Pending", ...(obj.status ?? {}) };
  }
  if (key === "/namespaces") {
    obj.spec = { ...(obj.spec ?? {}) };
    if (!obj.spec.finalizers) obj.spec.finalizers = ["kubernetes"];
    obj.status = { phase: "Active" };
  }
  // Other kinds keep what the client sent, but 0 is none: Go's omitempty drops the 0 a protobuf body carries.
  if (ri.generation) obj.metadata.generation = 1;
  else if (!obj.metadata.generation) delete obj.metadata.generation;
}

/**
 * Merge an update of the main resource or of a subresource onto the stored object:
 * the main resource keeps the stored status; "status" keeps everything but status.
 */
export function prepareForUpdate(ri: ResourceInfo, next: KObject, old: KObject, subresource?: string): KObject {
  let out: KObject;
  if (isCSR(ri)) {
    out = prepareCSRForUpdate(next, old, subresource);
  } else if (subresource === "status") {
    out = clone(old);
    // An absent status is an empty one (Go's zero struct), not a field set to undefined.
    if (next.status === undefined) delete out.status;
    else out.status = next.status;
    if (next.metadata?.managedFields) out.metadata.managedFields = next.metadata.managedFields;
    // Status writers (kubelet, controllers) may still maintain these upstream allows on status updates.
    if (ri.resource === "pods" || ri.resource === "nodes") {
      if (next.metadata?.labels !== undefined) out.metadata.labels = next.metadata.labels;
      if (next.metadata?.annotations !== undefined) out.metadata.annotations = next.metadata.annotations;
    }
  } else if (subresource === "ephemeralcontainers" && ri.resource === "pods") {
    // kubectl debug: only the ephemeral containers of the pod may change.
    out = clone(old);
    out.spec = { ...(old.spec ?? {}), ephemeralContainers: next.spec?.ephemeralContainers ?? [] };
    if (next.metadata?.managedFields) out.metadata.managedFields = next.metadata.managedFields;
  } else if (subresource === "finalize" && ri.resource === "namespaces") {
    out = clone(old);
    out.spec = { ...(old.spec ?? {}), finalizers: next.spec?.finalizers ?? [] };
  } else if (subresource) {
    // Internal writers (binding, scale) built `next` from the live object themselves.
    out = next;
  } else {
    out = next;
    if (hasStatus(ri) && ri.resource !== "events") {
      if (old.status === undefined) delete out.status;
      else out.status = clone(old.status);
    }
  }
  // Fields the system owns; clients cannot change them through update.
  const m = out.metadata;
  m.uid = old.metadata.uid;
  m.creationTimestamp = old.metadata.creationTimestamp;
  m.namespace = old.metadata.namespace;
  m.name = old.metadata.name;
  if (old.metadata.deletionTimestamp) m.deletionTimestamp = old.metadata.deletionTimestamp;
  else delete m.deletionTimestamp;
  if (old.metadata.deletionGracePeriodSeconds !== undefined)
    m.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
  else delete m.deletionGracePeriodSeconds;
  // Clients cannot set generation (upstream's BeforeUpdate copies the old one; 0 means none).
  if (old.metadata.generation) m.generation = old.metadata.generation;
  else delete m.generation;
  // Without a status subresource (custom resources can have none) status is part of what generation tracks.
  const tracked = (o: KObject) => (hasStatus(ri) ? specPart(o) : { ...specPart(o), status: o.status });
  if (ri.generation && subresource !== "status" && !deepEqual(tracked(out), tracked(old))) {
    m.generation = (old.metadata.generation ?? 0) + 1;
  }
  return out;
}

/** An update that removes the last finalizer of an object being deleted removes it (upstream's ShouldDeleteDuringUpdate). */
export function shouldDeleteAfterUpdate(ri: ResourceInfo, obj: KObject, old: KObject): boolean {
  if (!old.metadata.deletionTimestamp) return false;
  if ((obj.metadata.finalizers ?? []).length > 0) return false;
  if (ri.resource === "namespaces" && ri.group === "") return (obj.spec?.finalizers ?? []).length === 0;
  return (old.metadata.deletionGracePeriodSeconds ?? 0) === 0;
}

/** Kinds whose DELETE answers with the object rather than a Success Status (upstream ReturnDeletedObject). */
export const RETURNS_DELETED_OBJECT = new Set(["/pods", "/services", "/namespaces", "/persistentvolumes", "/persistentvolumeclaims"]);
