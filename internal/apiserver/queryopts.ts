// Request options from the query string, decoded and validated as upstream's parameter codec and
// apimachinery validation do it (booleans, dryRun).
import { StatusError } from "../api/status.ts";

export { queryBool } from "../api/querybool.ts";

/** Go's strconv.ParseBool, used upstream for `pretty` (an unparsable value there means false). */
export function parseGoBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

export type OptionsKind = "CreateOptions" | "UpdateOptions" | "PatchOptions" | "DeleteOptions";

/** Which *Options object upstream decodes the query of a write request into. */
export function optionsKindOf(method: string): OptionsKind {
  switch (method.toUpperCase()) {
    case "PUT":
      return "UpdateOptions";
    case "PATCH":
      return "PatchOptions";
    case "DELETE":
      return "DeleteOptions";
    default:
      return "CreateOptions";
  }
}

/** Go's %#v of a []string, as field.NotSupported prints a bad dryRun list. */
function goStringSlice(v: string[]): string {
  return `[]string{${v.map((s) => JSON.stringify(s)).join(", ")}}`;
}

/**
 * dryRun values must all be "All" (upstream's ValidateDryRun → 422 Invalid on the options kind).
 * Returns whether the request is a dry run.
 */
export function validateDryRun(values: unknown, kind: OptionsKind): boolean {
  if (values === undefined || values === null) return false;
  const list = Array.isArray(values) ? values.map(String) : [String(values)];
  if (list.every((v) => v === "All")) return list.length > 0;
  const message = `Unsupported value: ${goStringSlice(list)}: supported values: "All"`;
  throw new StatusError(422, "Invalid", `${kind}.meta.k8s.io "" is invalid: dryRun: ${message}`, {
    group: "meta.k8s.io",
    kind,
    causes: [{ reason: "FieldValueNotSupported", message, field: "dryRun" }],
  });
}
