// Table output for custom resources: NAME, the version's additionalPrinterColumns (JSONPath cells,
// priority > 0 only shown by `kubectl get -o wide`), and AGE unless the CRD defines its own columns, as upstream.
import { evaluate } from "./jsonpath.ts";
import type { ServedVersion } from "./served.ts";

const NAME_DESC = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATED_DESC = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

function columnsOf(sv: ServedVersion): PrinterColumn[] {
  const cols = (sv.version.additionalPrinterColumns ?? []) as PrinterColumn[];
  if (cols.length) return cols;
  return [{ name: "Age", type: "date", description: CREATED_DESC, jsonPath: ".metadata.creationTimestamp" }];
}

/** Cell value as upstream's printer renders it: dates as relative ages, lists joined, objects as JSON. */
function cell(col: PrinterColumn, obj: unknown, now: number): unknown {
  const vals = evaluate(obj, col.jsonPath);
  if (!vals.length) return null;
  if (col.type === "date") {
    const t = Date.parse(String(vals[0]));
    return Number.isNaN(t) ? String(vals[0]) : ageOf(now - t);
  }
  if (vals.length === 1) {
    const v = vals[0];
    if (v !== null && typeof v === "object") return JSON.stringify(v);
    if (col.type === "integer" && typeof v === "number") return Math.trunc(v);
    if (col.type === "string" && typeof v !== "string") return v === null ? null : String(v);
    return v;
  }
  return vals.map((v) => (v !== null && typeof v === "object" ? JSON.stringify(v) : String(v))).join(",");
}

/** Upstream's duration.HumanDuration (kubectl's AGE column). */
export function ageOf(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (d < 365 * 8) return d % 365 ? `${y}y${d % 365}d` : `${y}y`;
  return `${y}y`;
}

export function customTable(sv: ServedVersion, objects: any[], opts: { includeObject: "None" | "Metadata" | "Object"; now?: number }) {
  const cols = columnsOf(sv);
  const now = opts.now ?? Date.now();
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: {},
    columnDefinitions: [
      { name: "Name", type: "string", format: "name", description: NAME_DESC, priority: 0 },
      ...cols.map((c) => ({ name: c.name, type: c.type === "date" ? "date" : c.type, format: c.format ?? "", description: c.description ?? "", priority: c.priority ?? 0 })),
    ],
    rows: objects.map((o) => {
      const row: Record<string, unknown> = { cells: [o?.metadata?.name ?? "", ...cols.map((c) => cell(c, o, now))] };
      if (opts.includeObject === "Object") row.object = o;
      else if (opts.includeObject === "Metadata") row.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o?.metadata ?? {} };
      return row;
    }),
  };
}
