// Generates types.generated.ts: the patch/merge schema of the built-in kinds kubun serves, read from
// upstream's Go API types (struct tags `patchStrategy`/`patchMergeKey` and the `+listType`, `+listMapKey`,
// `+structType`, `+mapType`, `+default` markers), the same source upstream's OpenAPI extensions come from.
// kubernetes-types carries no patch metadata, hence this generator. The table is the one source of merge keys
// and list types: internal/apiserver/openapi/list-meta.ts derives the published OpenAPI extensions from it.
//
// Usage: bun internal/apiserver/patch/schema/generate.ts <kubernetes/api git dir> <kubernetes/apimachinery git dir> [tag]
// (tag defaults to v0.32.9, matching kubectl 1.32). Runs at development time only; the output is committed.
import { $ } from "bun";
import { RESOURCES } from "../../../api/resources.ts";
import type { FieldSchema, TypeSchema } from "./types.ts";

const [apiDir, machineryDir, tag = "v0.32.9"] = process.argv.slice(2);
if (!apiDir || !machineryDir) {
  console.error("usage: generate.ts <kubernetes/api git dir> <kubernetes/apimachinery git dir> [tag]");
  process.exit(1);
}

// Go packages we read, keyed by the name used in the generated table.
const PACKAGES: Record<string, { dir: string; path: string; importPath: string }> = {
  "meta.v1": { dir: machineryDir, path: "pkg/apis/meta/v1/types.go", importPath: "k8s.io/apimachinery/pkg/apis/meta/v1" },
  "autoscaling.v1": { dir: apiDir, path: "autoscaling/v1/types.go", importPath: "k8s.io/api/autoscaling/v1" },
};
for (const ri of RESOURCES) {
  if (ri.computed) continue; // read-only APIServices (kube-aggregator types, not in kubernetes/api)
  if (ri.group === "apiextensions.k8s.io") continue; // CRDs' Go types live in apiextensions-apiserver
  const pkg = `${ri.group.split(".")[0] || "core"}.${ri.version}`;
  const rel = pkg.replace(".", "/");
  PACKAGES[pkg] = { dir: apiDir, path: `${rel}/types.go`, importPath: `k8s.io/api/${rel}` };
}
// Types that are JSON scalars on the wire although Go declares them as structs.
const SCALAR_STRUCTS = new Set([
  "meta.v1.Time",
  "meta.v1.MicroTime",
  "meta.v1.Duration",
  "meta.v1.FieldsV1",
  "resource.Quantity",
  "intstr.IntOrString",
  "runtime.RawExtension",
]);

interface GoField {
  json: string;
  inline: boolean;
  goType: string;
  tags: Record<string, string>;
  markers: Record<string, string[]>;
}
interface GoStruct {
  name: string;
  markers: Record<string, string[]>;
  fields: GoField[];
}

const structs = new Map<string, GoStruct>(); // "core.v1.PodSpec" → struct
const aliases = new Map<string, string>(); // "core.v1.ResourceList" → "map[ResourceName]resource.Quantity"
const imports = new Map<string, Map<string, string>>(); // pkg → alias → pkg name in table

function parseMarkers(comments: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of comments) {
    const m = /^\/\/\s*\+([\w.-]+)(?:=(.*))?$/.exec(c.trim());
    if (m) (out[m[1]!] ??= []).push((m[2] ?? "").trim());
  }
  return out;
}

async function parsePackage(pkg: string): Promise<void> {
  const { dir, path } = PACKAGES[pkg]!;
  const src = await $`git --git-dir=${dir}/.git show ${tag}:${path}`.quiet().nothrow().text();
  const text = src || (await $`git --git-dir=${dir} show ${tag}:${path}`.quiet().text());
  const imp = new Map<string, string>();
  for (const m of text.matchAll(/^\s*(?:(\w+)\s+)?"([^"]+)"$/gm)) {
    const importPath = m[2]!;
    const alias = m[1] ?? importPath.split("/").pop()!;
    const known = Object.entries(PACKAGES).find(([, p]) => p.importPath === importPath)?.[0];
    imp.set(alias, known ?? importPath.split("/").pop()!);
  }
  imports.set(pkg, imp);
  const lines = text.split("\n");
  let comments: string[] = [];
  let current: GoStruct | undefined;
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith("//")) {
      comments.push(t);
      continue;
    }
    if (!current) {
      const s = /^type (\w+) struct \{$/.exec(t);
      if (s) {
        current = { name: s[1]!, markers: parseMarkers(comments), fields: [] };
        structs.set(`${pkg}.${s[1]}`, current);
      } else {
        const a = /^type (\w+) (.+)$/.exec(t);
        if (a && !a[2]!.startsWith("struct") && !a[2]!.startsWith("interface")) aliases.set(`${pkg}.${a[1]}`, a[2]!);
      }
      comments = [];
      continue;
    }
    if (t === "}") {
      current = undefined;
      comments = [];
      continue;
    }
    const f = /^(?:(\w+)\s+)?([^\s`]+)\s+`([^`]*)`/.exec(t);
    if (f) {
      const tags: Record<string, string> = {};
      for (const m of f[3]!.matchAll(/(\w+):"([^"]*)"/g)) tags[m[1]!] = m[2]!;
      const json = (tags.json ?? "").split(",");
      if (json[0] !== "-") {
        current.fields.push({
          json: json[0]!,
          inline: json.includes("inline"),
          goType: f[2]!,
          tags,
          markers: parseMarkers(comments),
        });
      }
    }
    comments = [];
  }
}

/** Resolves a Go type expression in package pkg to a table type name ("core.v1.Container") or a shape. */
type Shape =
  | { kind: "scalar" }
  | { kind: "struct"; name: string }
  | { kind: "list"; elem: Shape }
  | { kind: "map"; elem: Shape };

function resolve(pkg: string, goType: string): Shape {
  let t = goType.replace(/^\*/, "");
  if (t === "[]byte") return { kind: "scalar" };
  if (t.startsWith("[]")) return { kind: "list", elem: resolve(pkg, t.slice(2)) };
  const mm = /^map\[[^\]]+\](.+)$/.exec(t);
  if (mm) return { kind: "map", elem: resolve(pkg, mm[1]!) };
  let name: string;
  if (t.includes(".")) {
    const [alias, local] = t.split(".") as [string, string];
    name = `${imports.get(pkg)?.get(alias) ?? alias}.${local}`;
  } else name = `${pkg}.${t}`;
  if (SCALAR_STRUCTS.has(name)) return { kind: "scalar" };
  if (structs.has(name)) return { kind: "struct", name };
  const al = aliases.get(name);
  if (al) return resolve(name.slice(0, name.lastIndexOf(".")), al);
  return { kind: "scalar" };
}

const out: Record<string, TypeSchema> = {};
const keyFields = new Map<string, Set<string>>(); // type → key field names needing defaults

function emit(name: string): void {
  if (out[name]) return;
  const st = structs.get(name)!;
  const pkg = name.slice(0, name.lastIndexOf("."));
  const ts: TypeSchema = { fields: {} };
  out[name] = ts;
  if (st.markers.structType?.[0] === "atomic") ts.atomic = true;
  const pending: string[] = [];
  const addFields = (s: GoStruct, spkg: string) => {
    for (const f of s.fields) {
      const shape = resolve(spkg, f.goType);
      if (f.inline || f.json === "") {
        if (shape.kind === "struct") {
          addFields(structs.get(shape.name)!, shape.name.slice(0, shape.name.lastIndexOf(".")));
        }
        continue;
      }
      if (shape.kind === "scalar") continue;
      const fs: FieldSchema = {};
      // Go serializes non-pointer structs and non-omitempty fields even when empty: upstream's "empty object"
      // therefore already has them, which decides whether a create owns the field itself (".") or only its children.
      const omitempty = (f.tags.json ?? "").split(",").includes("omitempty");
      if ((shape.kind === "struct" && !f.goType.startsWith("*")) || (shape.kind !== "struct" && !omitempty)) {
        fs.always = true;
      }
      let elem: Shape = shape;
      if (shape.kind === "list") {
        elem = shape.elem;
        const lt = f.markers.listType?.[0];
        if (lt === "atomic" || lt === "set" || lt === "map") fs.list = lt;
        else fs.list = "atomic";
        const strategy = f.tags.patchStrategy;
        if (strategy) fs.strategy = strategy;
        if (f.tags.patchMergeKey) fs.mergeKey = f.tags.patchMergeKey;
        if (!lt && strategy?.split(",").includes("merge")) fs.list = fs.mergeKey ? "map" : "set";
        if (fs.list === "map") {
          fs.keys = f.markers.listMapKey ?? (fs.mergeKey ? [fs.mergeKey] : []);
          if (elem.kind === "struct") {
            const set = keyFields.get(elem.name) ?? new Set();
            for (const k of fs.keys) set.add(k);
            keyFields.set(elem.name, set);
          }
        }
      } else if (shape.kind === "map") {
        elem = shape.elem;
        fs.map = true;
        if (f.markers.mapType?.[0] === "atomic") fs.atomic = true;
      } else if (f.tags.patchStrategy) {
        fs.strategy = f.tags.patchStrategy;
      }
      if (elem.kind === "struct") {
        fs.type = elem.name;
        pending.push(elem.name);
      } else if (elem.kind !== "scalar") {
        // Lists of lists / maps of lists are rare (e.g. none in the kinds served); keep them atomic.
        fs.list = "atomic";
      }
      ts.fields[f.json] = fs;
    }
  };
  addFields(st, pkg);
  for (const p of pending) emit(p);
}

for (const pkg of Object.keys(PACKAGES)) await parsePackage(pkg);
const roots: Record<string, string> = {};
for (const ri of RESOURCES) {
  if (ri.computed || ri.group === "apiextensions.k8s.io") continue;
  const pkg = `${ri.group.split(".")[0] || "core"}.${ri.version}`;
  const name = `${pkg}.${ri.kind}`;
  if (!structs.has(name)) throw new Error(`no Go type for ${name}`);
  roots[`${ri.group}/${ri.version}/${ri.kind}`] = name;
  emit(name);
}
roots["autoscaling/v1/Scale"] = "autoscaling.v1.Scale";
emit("autoscaling.v1.Scale");

// Defaults of list-map key fields (e.g. ContainerPort.protocol = "TCP"): upstream fills them before merging.
for (const [type, keys] of keyFields) {
  const st = structs.get(type)!;
  for (const f of st.fields) {
    const d = f.markers.default?.[0];
    if (keys.has(f.json) && d !== undefined) {
      (out[type]!.keyDefaults ??= {})[f.json] = JSON.parse(d);
    }
  }
}

const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
const body = `// Code generated by generate.ts from kubernetes/api and kubernetes/apimachinery ${tag}. DO NOT EDIT.
import type { TypeSchema } from "./types.ts";

/** apiVersion-group/version/kind ("apps/v1/Deployment", "/v1/Pod") → root type. */
export const ROOTS: Record<string, string> = ${JSON.stringify(roots, null, 1)};

/** Non-scalar fields of every type reachable from the roots. */
export const TYPES: Record<string, TypeSchema> = ${JSON.stringify(sorted)
  .replace(/^\{/, "{\n")
  .replace(/\},"/g, '},\n"')};
`;
await Bun.write(new URL("./types.generated.ts", import.meta.url), body);
console.log(`wrote ${Object.keys(sorted).length} types`);
