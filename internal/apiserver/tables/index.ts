// Server-side Table output (Accept: application/json;as=Table;g=meta.k8s.io;v=v1) for `kubectl get`.
import type { ResourceInfo } from "../../api/resources.ts";
import { PRINTERS, defaultPrinter, type Printer } from "./printers.ts";

export { humanDuration, formatLabels, formatSelector } from "./format.ts";
export type { Column, Printer } from "./printers.ts";

export type IncludeObject = "None" | "Metadata" | "Object";

export interface TableOptions {
  includeObject: IncludeObject;
  /** List metadata (resourceVersion, continue, remainingItemCount) to carry over. */
  listMeta?: Record<string, unknown>;
  /** Clock for ages, for tests (ms since epoch). */
  now?: number;
}

export interface TableRow {
  cells: unknown[];
  conditions?: { type: string; status: string }[];
  object?: unknown;
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: Record<string, unknown>;
  columnDefinitions: import("./printers.ts").Column[];
  rows: TableRow[];
}

export function printerFor(ri: Pick<ResourceInfo, "resource">): Printer {
  return PRINTERS[ri.resource] ?? defaultPrinter;
}

/**
 * A printer's cells, or a row of "<unknown>" (with the name where it belongs) if the object has fields of
 * unexpected types: a listing must never fail because of one odd object.
 */
function safeCells(printer: Printer, obj: any, now: number): unknown[] {
  try {
    return printer.cells(obj, now);
  } catch {
    return printer.columns.map((c) => (c.format === "name" ? String(obj?.metadata?.name ?? "") : "<unknown>"));
  }
}

function rowObject(obj: any, include: IncludeObject): unknown {
  if (include === "Object") return obj;
  if (include === "Metadata") return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj?.metadata ?? {} };
  return undefined;
}

/** A meta.k8s.io/v1 Table of the objects, with the columns upstream prints for the resource. */
export function toTable(ri: Pick<ResourceInfo, "resource">, objects: any[], opts: TableOptions): Table {
  const printer = printerFor(ri);
  const now = opts.now ?? Date.now();
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { ...(opts.listMeta ?? {}) },
    columnDefinitions: printer.columns,
    rows: objects.map((obj) => {
      const row: TableRow = { cells: safeCells(printer, obj ?? {}, now) };
      const conditions = printer.conditions?.(obj ?? {});
      if (conditions) row.conditions = conditions;
      const o = rowObject(obj, opts.includeObject);
      if (o !== undefined) row.object = o;
      return row;
    }),
  };
}
