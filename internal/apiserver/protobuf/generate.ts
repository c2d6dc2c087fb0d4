// Generates schema.generated.json: field numbers and types of the Kubernetes protobuf messages, read from
// upstream's generated.proto files, so that request bodies kubectl sends as application/vnd.kubernetes.protobuf
// can be decoded into the same JSON objects the rest of the API server works with.
//
// Usage: bun internal/apiserver/protobuf/generate.ts <kubernetes/api checkout> <kubernetes/apimachinery checkout>
// (git work trees or bare repos; files are read at HEAD).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { definitions } from "../openapi/definitions.ts";

/** [name, type, flags]: flags "r" repeated, "m" map (type "key,value"), "i" inlined into the parent in JSON. */
export type FieldSpec = [name: string, type: string, flags: string];
export type MessageSpec = Record<string, FieldSpec>;

const API_GROUPS = ["core", "apps", "batch", "coordination", "discovery", "events", "policy", "scheduling", "rbac", "authentication", "authorization", "autoscaling", "certificates", "node", "flowcontrol", "networking", "storage", "admissionregistration"];
const MACHINERY = ["pkg/apis/meta/v1", "pkg/runtime", "pkg/util/intstr", "pkg/api/resource", "pkg/runtime/schema"];

function readAtHead(repo: string, path: string): string | undefined {
  const r = Bun.spawnSync(["git", "-C", repo, "show", `HEAD:${path}`], { stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString() : undefined;
}

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

function main(): void {
  const [apiRepo, machineryRepo] = process.argv.slice(2);
  if (!apiRepo || !machineryRepo) throw new Error("usage: generate.ts <kubernetes/api> <kubernetes/apimachinery>");
  const messages: Record<string, MessageSpec> = {};
  const lists = new Set<string>();
  for (const g of API_GROUPS) {
    const t = readAtHead(apiRepo, `${g}/v1/generated.proto`);
    if (!t) throw new Error(`missing ${g}/v1/generated.proto`);
    parse(t, messages, lists);
  }
  for (const p of MACHINERY) {
    const t = readAtHead(machineryRepo, `${p}/generated.proto`);
    if (t) parse(t, messages, lists);
  }
  // Embedded Go structs (json:",inline") are a named message field in protobuf but flattened in JSON:
  // a message field whose name is not a property of the OpenAPI definition is one of those.
  const defs = definitions();
  for (const [name, fields] of Object.entries(messages)) {
    const def = defs[name.replace(/^k8s\.io\./, "io.k8s.")];
    if (!def?.properties) continue;
    for (const f of Object.values(fields)) {
      // Go names an embedded field after its type, so the proto field is the type name in lowerCamel.
      const short = f[1].slice(f[1].lastIndexOf(".") + 1);
      const embedded = f[0] === short[0]!.toLowerCase() + short.slice(1);
      // Some embeddings are renamed (Probe's `handler` is a ProbeHandler): a message field that is not a JSON
      // property but whose own fields all are properties of the parent is inlined too.
      const sub = messages[f[1]];
      const flattened = !!sub && Object.keys(sub).length > 0 && Object.values(sub).every((g) => g[0] in def.properties);
      if (f[2] === "" && (embedded || flattened) && !(f[0] in def.properties) && sub) f[2] = "i";
    }
  }
  const out = { source: "kubernetes/api + kubernetes/apimachinery generated.proto", lists: [...lists].sort(), messages };
  writeFileSync(join(import.meta.dir, "schema.generated.json"), JSON.stringify(out));
  console.log(`wrote ${Object.keys(messages).length} messages`);
}

if (import.meta.main) main();
