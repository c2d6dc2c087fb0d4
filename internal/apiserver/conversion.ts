// events.k8s.io/v1 Events share storage with core/v1 Events (as upstream); objects are stored in the
// core form and converted on the way in and out.
import type { KObject } from "./objects.ts";
import { findResource, type ResourceInfo } from "../api/resources.ts";
import { hpaV1ToV2, hpaV2ToV1 } from "./hpaconversion.ts";

export function isEventsV1(ri: Pick<ResourceInfo, "group" | "resource">): boolean {
  return ri.group === "events.k8s.io" && ri.resource === "events";
}

export const CORE_EVENTS = findResource("", "v1", "events")!;

function compact(o: Record<string, unknown>): KObject {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o as KObject;
}

/** events.k8s.io/v1 → core/v1 (storage form). */
export function eventToCore(e: KObject): KObject {
  return compact({
    apiVersion: "v1",
    kind: "Event",
    metadata: e.metadata,
    involvedObject: e.regarding ?? {},
    reason: e.reason,
    message: e.note,
    source: e.deprecatedSource,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
    type: e.type,
    eventTime: e.eventTime,
    series: e.series,
    action: e.action,
    related: e.related,
    reportingComponent: e.reportingController,
    reportingInstance: e.reportingInstance,
  });
}

/** core/v1 (storage form) → events.k8s.io/v1. */
export function eventFromCore(e: KObject): KObject {
  return compact({
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: e.metadata,
    eventTime: e.eventTime ?? null,
    series: e.series,
    reportingController: e.reportingComponent,
    reportingInstance: e.reportingInstance,
    action: e.action,
    reason: e.reason,
    regarding: e.involvedObject,
    related: e.related,
    note: e.message,
    type: e.type,
    deprecatedSource: e.source && Object.keys(e.source).length ? e.source : undefined,
    deprecatedFirstTimestamp: e.firstTimestamp,
    deprecatedLastTimestamp: e.lastTimestamp,
    deprecatedCount: e.count,
  });
}

/** Conversion of custom resources (set by internal/apiextensions): apiVersion of the served version, defaults. */
export interface CustomConversion {
  /** True when objects of this resource are not served exactly as stored. */
  needed(ri: ResourceInfo): boolean;
  /** The stored object as the resource's version shows it; never mutates `obj` (it may be shared). */
  convert(ri: ResourceInfo, obj: KObject): KObject;
}
let custom: CustomConversion | undefined;

export function setCustomConversion(c: CustomConversion | undefined): void {
  custom = c;
}

/**
 * A built-in version stored in another version's shape: events.k8s.io/v1 Events (stored as core/v1) and
 * autoscaling/v1 HorizontalPodAutoscalers (stored as autoscaling/v2). Writes convert with toStorage and are
 * validated and stored as `ri`; reads convert back with fromStorage.
 */
export interface StorageForm {
  ri: ResourceInfo;
  toStorage(obj: KObject): KObject;
  fromStorage(obj: KObject): KObject;
}

const HPA_V2 = findResource("autoscaling", "v2", "horizontalpodautoscalers");

export function storageFormOf(ri: Pick<ResourceInfo, "group" | "version" | "resource">): StorageForm | undefined {
  if (isEventsV1(ri)) return { ri: CORE_EVENTS, toStorage: eventToCore, fromStorage: eventFromCore };
  if (HPA_V2 && ri.group === "autoscaling" && ri.version === "v1" && ri.resource === "horizontalpodautoscalers") {
    return { ri: HPA_V2, toStorage: hpaV1ToV2, fromStorage: hpaV2ToV1 };
  }
  return undefined;
}

/** True when stored objects of the resource must go through toExternal (no pass-through of stored JSON). */
export function needsConversion(ri: ResourceInfo): boolean {
  return storageFormOf(ri) !== undefined || (custom?.needed(ri) ?? false);
}

/** The object as the requested group-version shows it. */
export function toExternal(ri: ResourceInfo, obj: KObject): KObject {
  const form = storageFormOf(ri);
  if (form) return form.fromStorage(obj);
  return custom?.needed(ri) ? custom.convert(ri, obj) : obj;
}
