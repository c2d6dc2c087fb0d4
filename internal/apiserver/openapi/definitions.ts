// The OpenAPI definitions generated at build time by scripts/gen-openapi.ts from kubernetes-types.
// They are loaded lazily with a literal require() so that `bun build --compile` embeds the JSON in the
// binary, while processes that never serve OpenAPI or validate unknown fields don't pay for parsing it.
import { existsSync } from "node:fs";
import { join } from "node:path";

export type Schema = Record<string, any>;
export type Definitions = Record<string, Schema>;

let cached: Definitions | undefined;

function requireGenerated(): Definitions {
  return require("./generated/definitions.json").definitions as Definitions;
}

/** All definitions keyed by upstream name ("io.k8s.api.apps.v1.Deployment"), with "#/definitions/" refs. */
export function definitions(): Definitions {
  if (cached) return cached;
  try {
    cached = requireGenerated();
  } catch {
    // From a source checkout we can generate the file on first use; a compiled binary must embed it.
    const script = join(import.meta.dir, "../../../scripts/gen-openapi.ts");
    if (!existsSync(script)) {
      throw new Error(
        "OpenAPI definitions are missing from this build: run `bun run gen:openapi` before `bun build --compile`",
      );
    }
    const res = Bun.spawnSync([process.execPath, script], { stdout: "ignore", stderr: "pipe" });
    if (res.exitCode !== 0) {
      throw new Error(`generating OpenAPI definitions failed (bun run gen:openapi): ${res.stderr.toString().trim()}`);
    }
    cached = requireGenerated();
  }
  return cached;
}

/** Definition name a "#/definitions/X" or "#/components/schemas/X" ref points to. */
export function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf("/") + 1);
}

let byGVK: Map<string, string> | undefined;
let customNames = new Set<string>();

/** Replaces the definitions of custom resources (internal/apiextensions) inside definitions(). */
export function setCustomDefinitions(defs: Definitions): void {
  const all = definitions();
  for (const name of customNames) delete all[name];
  customNames = new Set(Object.keys(defs));
  Object.assign(all, defs);
  byGVK = undefined;
}

/** Definition name of a top-level kind, found through its x-kubernetes-group-version-kind extension. */
export function definitionNameForKind(group: string, version: string, kind: string): string | undefined {
  if (!byGVK) {
    byGVK = new Map();
    for (const [name, schema] of Object.entries(definitions())) {
      for (const gvk of schema["x-kubernetes-group-version-kind"] ?? []) {
        byGVK.set(`${gvk.group}/${gvk.version}/${gvk.kind}`, name);
      }
    }
  }
  return byGVK.get(`${group}/${version}/${kind}`);
}

/** Follows a schema's $ref (if any) to the definition it names. */
export function deref(schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  if (typeof schema.$ref === "string") return definitions()[refName(schema.$ref)];
  return schema;
}
