// Generates schema.generated.json: field numbers and types of the Kubernetes protobuf messages, read from
// upstream's generated.proto files, with what the JSON form differs in (embedded structs, omitted zeros) read from
// the Go struct tags beside them, so that request bodies kubectl sends as application/vnd.kubernetes.protobuf
// can be decoded into the same JSON objects the rest of the API server works with, and answers encoded back.
//
// Usage: bun internal/apiserver/protobuf/generate.ts <kubernetes/api checkout> <kubernetes/apimachinery checkout>
// (git work trees or bare repos; files are read at HEAD).
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * [name, type, flags]: flags "r" repeated, "m" map (type "key,value"), "i" inlined into the parent in JSON,
 * "z" a number or bool whose zero value Go's JSON omits (non-pointer `omitempty`; protobuf always sends it).
 */
export type FieldSpec = [name: string, type: string, flags: string];
export type MessageSpec = Record<string, FieldSpec>;

// The k8s.io/api packages of the group-versions kubun serves.
const API_PACKAGES = [
  ...["core", "apps", "batch", "coordination", "discovery", "events", "policy", "scheduling", "rbac", "authentication", "authorization", "autoscaling", "certificates", "node", "flowcontrol", "networking", "storage", "admissionregistration"].map((g) => `${g}/v1`),
  "autoscaling/v2",
];
const MACHINERY = ["pkg/apis/meta/v1", "pkg/runtime", "pkg/util/intstr", "pkg/api/resource", "pkg/runtime/schema"];

function readAtHead(repo: string, path: string): string | undefined {
  const r = Bun.spawnSync(["git", "-C", repo, "show", `HEAD:${path}`], { stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString() : undefined;
}

const NUMERIC = new Set(["int32", "int64", "uint32", "uint64", "bool", "double", "float"]);
const SCALARS = new Set(["string", "int32", "int64", "bool", "double", "float", "bytes", "uint32", "uint64"]);

function parse(text: string, out: Record<string, MessageSpec>, lists: Set<string>): void {
  const pkg = /^package\s+([\w.]+);/m.exec(text)![1]!;
  const lines = text.split("\n");
  let current: string | undefined;
  let nullable = false;
  const qualify = (t: string) => (SCALARS.has(t) ? t : t.includes(".") ? t.replace(/^\./, "") : `${pkg}.${t}`);
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith("// +protobuf.nullable=true")) nullable = true;
    let m: RegExpExecArray | null;
    if ((m = /^message\s+(\w+)\s*\{/.exec(line))) {
      current = `${pkg}.${m[1]}`;
      out[current] = {};
      if (nullable) lists.add(current);
      nullable = false;
      continue;
    }
    if (!line.startsWith("//") && line !== "") {
      if (!line.startsWith("message")) nullable = nullable && line.startsWith("//");
    }
    if (line === "}") {
      current = undefined;
      continue;
    }
    if (!current) continue;
    if ((m = /^(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)/.exec(line))) {
      out[current]![m[4]!] = [m[3]!, qualify(m[2]!), m[1] === "repeated" ? "r" : ""];
    } else if ((m = /^map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)/.exec(line))) {
      out[current]![m[4]!] = [m[3]!, `${qualify(m[1]!)},${qualify(m[2]!)}`, "m"];
    }
  }
}

/**
 * Embedded Go structs: `type X struct { Y \`json:",inline" protobuf:"bytes,N,..."\` }`. encoding/json flattens
 * an embedded struct whose JSON name is empty into its parent, while protobuf keeps it a field of its own, so
 * these are read from the Go sources next to generated.proto rather than guessed (the OpenAPI definitions miss
 * renamed embeddings and mistake new fields for embeddings). Returns [Go struct, protobuf field number] pairs.
 */
export function embeddedFields(goSource: string): [struct: string, field: number][] {
  const out: [string, number][] = [];
  for (const { struct, line } of structLines(goSource)) {
    // An embedded field is a bare (possibly pointer, possibly package-qualified) type followed by its tag.
    const m = /^\s+\*?[\w.]+\s+`([^`]*)`/.exec(line);
    if (!m) continue;
    const { json, proto } = tags(m[1]!);
    // A JSON name (`json:"metadata"`) keeps the struct nested; `json:"-"` drops it; no protobuf number, no field.
    if (proto && (json === undefined || json.split(",")[0] === "")) out.push([struct, proto]);
  }
  return out;
}

/** Each line inside a top-level `type X struct { ... }` of a Go source, with X. */
function* structLines(goSource: string): Generator<{ struct: string; line: string }> {
  let struct: string | undefined;
  for (const line of goSource.split("\n")) {
    const m = /^type\s+(\w+)\s+struct\s*\{/.exec(line);
    if (m) struct = m[1];
    else if (line.startsWith("}")) struct = undefined;
    else if (struct) yield { struct, line };
  }
}

/** The json tag's text and the protobuf tag's field number of a Go struct tag. */
function tags(tag: string): { json?: string; proto?: number } {
  const proto = /protobuf:"\w+,(\d+)/.exec(tag)?.[1];
  return { json: /json:"([^"]*)"/.exec(tag)?.[1], proto: proto ? Number(proto) : undefined };
}

/**
 * Non-pointer numbers and bools tagged `omitempty`: protobuf carries their zero value, Go's JSON leaves it out
 * (ServiceBackendPort.number beside a port name, ObjectMeta.generation). Returns [Go struct, protobuf field number].
 */
export function omitZeroFields(goSource: string): [struct: string, field: number][] {
  const out: [string, number][] = [];
  for (const { struct, line } of structLines(goSource)) {
    const m = /^\s+\w+\s+(?:u?int\d*|bool|float\d+)\s+`([^`]*)`/.exec(line);
    if (!m) continue;
    const { json, proto } = tags(m[1]!);
    if (proto && json?.split(",").slice(1).includes("omitempty")) out.push([struct, proto]);
  }
  return out;
}

/** Go types whose JSON form is not their struct (runtime.Unknown marshals as its raw bytes), so nothing is inlined. */
const CUSTOM_JSON = new Set(["k8s.io.apimachinery.pkg.runtime.Unknown"]);

function goFiles(repo: string, dir: string): string[] {
  const r = Bun.spawnSync(["git", "-C", repo, "ls-tree", "--name-only", "HEAD", `${dir}/`], { stdout: "pipe", stderr: "ignore" });
  return r.stdout
    .toString()
    .split("\n")
    .filter((f) => f.endsWith(".go") && !f.endsWith("_test.go") && !f.includes("zz_generated") && !f.endsWith("generated.pb.go"));
}

/** Parses one package's generated.proto and flags its fields "i" and "z" from the Go sources beside it. */
function readPackage(repo: string, dir: string, messages: Record<string, MessageSpec>, lists: Set<string>): boolean {
  const proto = readAtHead(repo, `${dir}/generated.proto`);
  if (!proto) return false;
  parse(proto, messages, lists);
  const pkg = /^package\s+([\w.]+);/m.exec(proto)![1]!;
  for (const file of goFiles(repo, dir)) {
    const source = readAtHead(repo, file) ?? "";
    for (const [struct, num] of embeddedFields(source)) {
      const type = `${pkg}.${struct}`;
      if (CUSTOM_JSON.has(type)) continue;
      const f = messages[type]?.[num];
      if (!f) throw new Error(`${file}: ${struct} embeds protobuf field ${num}, which ${dir}/generated.proto lacks`);
      // Only a message can be flattened (meta/v1 Duration embeds a time.Duration, a scalar with its own JSON form).
      if (messages[f[1]] && f[2] === "") f[2] = "i";
    }
    for (const [struct, num] of omitZeroFields(source)) {
      const f = messages[`${pkg}.${struct}`]?.[num];
      if (f && f[2] === "" && NUMERIC.has(f[1])) f[2] = "z";
    }
  }
  return true;
}

function main(): void {
  const [apiRepo, machineryRepo] = process.argv.slice(2);
  if (!apiRepo || !machineryRepo) throw new Error("usage: generate.ts <kubernetes/api> <kubernetes/apimachinery>");
  const messages: Record<string, MessageSpec> = {};
  const lists = new Set<string>();
  for (const p of API_PACKAGES) {
    if (!readPackage(apiRepo, p, messages, lists)) throw new Error(`missing ${p}/generated.proto`);
  }
  for (const p of MACHINERY) readPackage(machineryRepo, p, messages, lists);
  const out = { source: "kubernetes/api + kubernetes/apimachinery generated.proto", lists: [...lists].sort(), messages };
  writeFileSync(join(import.meta.dir, "schema.generated.json"), JSON.stringify(out));
  console.log(`wrote ${Object.keys(messages).length} messages`);
}

if (import.meta.main) main();
