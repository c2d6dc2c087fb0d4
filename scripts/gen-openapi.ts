// Generates the OpenAPI definitions the API server publishes (/openapi/v2, /openapi/v3) from the
// .d.ts files of `kubernetes-types`, which carry every API type with its field documentation.
// The TypeScript compiler (v7, through its API server) parses the files; we map each interface to a
// Swagger 2.0 schema named like upstream ("io.k8s.api.apps.v1.Deployment"), add the extensions
// kubectl relies on (group-version-kind, patch merge keys, list types) and write one JSON file that
// internal/apiserver/openapi embeds at build time.
//
//   bun run gen:openapi            (writes internal/apiserver/openapi/generated/definitions.json)
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { API } from "typescript/unstable/async";
import { SyntaxKind } from "typescript/unstable/ast";
import { ATOMIC_STRUCTS, listMetaTable } from "../internal/apiserver/openapi/list-meta.ts";

const ROOT = join(import.meta.dir, "..");
const TYPES_DIR = join(ROOT, "node_modules/kubernetes-types");
export const OUTPUT = join(ROOT, "internal/apiserver/openapi/generated/definitions.json");

/** kubernetes-types module → upstream OpenAPI package prefix. Only the groups kubun serves (and their deps). */
const MODULES: Record<string, { pkg: string; group?: string; version?: string }> = {
  "core/v1": { pkg: "io.k8s.api.core.v1", group: "", version: "v1" },
  "apps/v1": { pkg: "io.k8s.api.apps.v1", group: "apps", version: "v1" },
  "batch/v1": { pkg: "io.k8s.api.batch.v1", group: "batch", version: "v1" },
  "autoscaling/v1": { pkg: "io.k8s.api.autoscaling.v1", group: "autoscaling", version: "v1" },
  "autoscaling/v2": { pkg: "io.k8s.api.autoscaling.v2", group: "autoscaling", version: "v2" },
  "coordination/v1": { pkg: "io.k8s.api.coordination.v1", group: "coordination.k8s.io", version: "v1" },
  "discovery/v1": { pkg: "io.k8s.api.discovery.v1", group: "discovery.k8s.io", version: "v1" },
  "events/v1": { pkg: "io.k8s.api.events.v1", group: "events.k8s.io", version: "v1" },
  "policy/v1": { pkg: "io.k8s.api.policy.v1", group: "policy", version: "v1" },
  "scheduling/v1": { pkg: "io.k8s.api.scheduling.v1", group: "scheduling.k8s.io", version: "v1" },
  "certificates/v1": { pkg: "io.k8s.api.certificates.v1", group: "certificates.k8s.io", version: "v1" },
  "networking/v1": { pkg: "io.k8s.api.networking.v1", group: "networking.k8s.io", version: "v1" },
  "node/v1": { pkg: "io.k8s.api.node.v1", group: "node.k8s.io", version: "v1" },
  "storage/v1": { pkg: "io.k8s.api.storage.v1", group: "storage.k8s.io", version: "v1" },
  "flowcontrol/v1": { pkg: "io.k8s.api.flowcontrol.v1", group: "flowcontrol.apiserver.k8s.io", version: "v1" },
  "rbac/v1": { pkg: "io.k8s.api.rbac.v1", group: "rbac.authorization.k8s.io", version: "v1" },
  "admissionregistration/v1": { pkg: "io.k8s.api.admissionregistration.v1", group: "admissionregistration.k8s.io", version: "v1" },
  "authentication/v1": { pkg: "io.k8s.api.authentication.v1", group: "authentication.k8s.io", version: "v1" },
  "authorization/v1": { pkg: "io.k8s.api.authorization.v1", group: "authorization.k8s.io", version: "v1" },
  "meta/v1": { pkg: "io.k8s.apimachinery.pkg.apis.meta.v1", group: "meta.k8s.io", version: "v1" },
  "api/resource": { pkg: "io.k8s.apimachinery.pkg.api.resource" },
  runtime: { pkg: "io.k8s.apimachinery.pkg.runtime" },
  version: { pkg: "io.k8s.apimachinery.pkg.version" },
};

const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

/** Fields upstream declares int64 (every other number in the served groups is int32), from k8s.io/api types.go. */
const INT64_FIELDS = new Set([
  "activeDeadlineSeconds", "deletionGracePeriodSeconds", "expirationSeconds", "fsGroup", "generation", "gid",
  "gracePeriodSeconds", "limitBytes", "observedGeneration", "remainingItemCount", "revision", "runAsGroup", "runAsUser",
  "sinceSeconds", "sizeBytes", "startingDeadlineSeconds", "supplementalGroups", "tailLines", "terminationGracePeriodSeconds",
  "tolerationSeconds", "uid",
]);

/** Maps of base64 data ([]byte values upstream), published with format "byte". */
const BYTE_MAPS = new Set(["io.k8s.api.core.v1.Secret.data", "io.k8s.api.core.v1.ConfigMap.binaryData"]);

/** Type aliases that upstream publishes as their own string definitions. */
const ALIAS_FORMATS: Record<string, { type: string; format?: string }> = {
  Quantity: { type: "string" },
  Time: { type: "string", format: "date-time" },
  MicroTime: { type: "string", format: "date-time" },
};

export type Schema = Record<string, unknown>;

interface ParsedModule {
  mod: string;
  imports: Map<string, string>; // local name → module ("meta/v1")
  decls: Map<string, unknown>; // local name → declaration node
}

function docText(node: any): string | undefined {
  const jsDoc = node.jsDoc?.[0];
  if (!jsDoc) return undefined;
  const raw: string = jsDoc.getText();
  const text = raw
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim();
  return text || undefined;
}

function resolveImport(fromMod: string, spec: string): string {
  // Specifiers look like "../meta/v1", "../../runtime", "./v1".
  const base = fromMod.includes("/") ? fromMod.split("/").slice(0, -1) : [];
  const parts = [...base];
  for (const seg of spec.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== ".") parts.push(seg);
  }
  return parts.join("/");
}

async function parseModules(): Promise<Map<string, ParsedModule>> {
  const api = new API({ cwd: ROOT });
  try {
    const files = Object.keys(MODULES).map((m) => join(TYPES_DIR, `${m}.d.ts`));
    const snap = await api.updateSnapshot({ openFiles: files });
    const out = new Map<string, ParsedModule>();
    for (const mod of Object.keys(MODULES)) {
      const file = join(TYPES_DIR, `${mod}.d.ts`);
      const project = await snap.getDefaultProjectForFile(file);
      const sf: any = project && (await project.program.getSourceFile(file));
      if (!sf) throw new Error(`cannot parse ${file}`);
      const parsed: ParsedModule = { mod, imports: new Map(), decls: new Map() };
      for (const st of sf.statements) {
        if (st.kind === SyntaxKind.ImportDeclaration) {
          const spec = JSON.parse(st.moduleSpecifier.getText());
          const target = resolveImport(mod, spec);
          for (const el of st.importClause?.namedBindings?.elements ?? []) parsed.imports.set(el.name.text, target);
        } else if (st.kind === SyntaxKind.InterfaceDeclaration || st.kind === SyntaxKind.TypeAliasDeclaration) {
          parsed.decls.set(st.name.text, st);
        }
      }
      out.set(mod, parsed);
    }
    return out;
  } finally {
    await api.close();
  }
}

function defName(mod: string, name: string): string {
  return `${MODULES[mod]!.pkg}.${name}`;
}

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

/** Schema of a type written as text in the .d.ts (e.g. "Array<Container>", "{ [name: string]: Quantity; }"). */
function typeSchema(text: string, m: ParsedModule, field: string): Schema {
  const t = text.trim();
  if (t === "string" || /^"[^"]*"$/.test(t)) return { type: "string" };
  if (t === "boolean") return { type: "boolean" };
  if (t === "number") return { type: "integer", format: INT64_FIELDS.has(field) ? "int64" : "int32" };
  if (t === "number | string" || t === "string | number") return ref(INT_OR_STRING);
  if (t === "any" || t === "object" || t === "unknown") return { type: "object" };
  const arr = /^Array<(.+)>$/s.exec(t);
  if (arr) return { type: "array", items: typeSchema(arr[1]!, m, field) };
  const map = /^\{\s*\[\w+: string\]:\s*(.+?);?\s*\}$/s.exec(t);
  if (map) return { type: "object", additionalProperties: typeSchema(map[1]!, m, field) };
  if (/^\w+$/.test(t)) {
    const mod = m.decls.has(t) ? m.mod : m.imports.get(t);
    if (!mod || !MODULES[mod]) throw new Error(`${m.mod}: unresolved type ${t}`);
    return ref(defName(mod, t));
  }
  throw new Error(`${m.mod}: unsupported type text ${JSON.stringify(t)}`);
}

const listMeta = listMetaTable();

function interfaceSchema(node: any, m: ParsedModule, name: string): Schema {
  // EphemeralContainer inlines EphemeralContainerCommon upstream.
  const metaName = name.endsWith(".EphemeralContainer") ? `${name}Common` : name;
  const fieldMeta = listMeta.get(metaName);
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  let apiVersion: string | undefined;
  let kind: string | undefined;
  for (const member of node.members ?? []) {
    if (member.kind !== SyntaxKind.PropertySignature) continue;
    const fieldName: string = member.name.text ?? JSON.parse(member.name.getText());
    const optional = /^\s*(readonly\s+)?("[^"]+"|[\w$]+)\?\s*:/.test(member.getText());
    const typeText: string = member.type.getText();
    let schema = typeSchema(typeText, m, fieldName);
    if (BYTE_MAPS.has(`${name}.${fieldName}`)) schema = { type: "object", additionalProperties: { type: "string", format: "byte" } };
    const doc = docText(member);
    if (doc) schema = { ...schema, description: doc };
    const lm = fieldMeta?.get(fieldName);
    if (lm?.listType) schema["x-kubernetes-list-type"] = lm.listType;
    if (lm?.listMapKeys) schema["x-kubernetes-list-map-keys"] = lm.listMapKeys;
    if (lm?.patchMergeKey) schema["x-kubernetes-patch-merge-key"] = lm.patchMergeKey;
    if (lm?.patchStrategy) schema["x-kubernetes-patch-strategy"] = lm.patchStrategy;
    properties[fieldName] = schema;
    if (!optional) required.push(fieldName);
    const lit = /^"([^"]*)"$/.exec(typeText.trim());
    if (fieldName === "apiVersion" && lit) apiVersion = lit[1];
    if (fieldName === "kind" && lit) kind = lit[1];
  }
  const schema: Schema = {};
  const doc = docText(node);
  if (doc) schema.description = doc;
  schema.type = "object";
  if (Object.keys(properties).length) schema.properties = properties;
  if (required.length) schema.required = required;
  if (ATOMIC_STRUCTS.has(name)) schema["x-kubernetes-map-type"] = "atomic";
  if (apiVersion && kind) {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    schema["x-kubernetes-group-version-kind"] = [{ group, kind, version }];
  }
  return schema;
}

export async function generateDefinitions(): Promise<Record<string, Schema>> {
  const modules = await parseModules();
  const defs: Record<string, Schema> = {};
  for (const m of modules.values()) {
    for (const [name, node] of m.decls) {
      const full = defName(m.mod, name);
      const n: any = node;
      if (n.kind === SyntaxKind.TypeAliasDeclaration) {
        const fmt = ALIAS_FORMATS[name];
        if (!fmt) continue;
        defs[full] = { description: docText(n), ...fmt };
      } else {
        defs[full] = interfaceSchema(n, m, full);
      }
    }
  }
  defs[INT_OR_STRING] = {
    description:
      "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.",
    type: "string",
    format: "int-or-string",
  };
  Object.assign(defs, apiregistrationDefinitions());
  // Sorted keys keep the output stable between runs.
  return Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * apiregistration.k8s.io/v1 (kube-aggregator's types, which kubernetes-types does not carry), written out from
 * k8s.io/kube-aggregator/pkg/apis/apiregistration/v1/types.go: kubun serves these read-only.
 */
function apiregistrationDefinitions(): Record<string, Schema> {
  const P = "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1";
  const M = "io.k8s.apimachinery.pkg.apis.meta.v1";
  const ref = (n: string) => ({ $ref: `#/definitions/${n}` });
  const str = (description: string) => ({ type: "string", description });
  const int = (description: string) => ({ type: "integer", format: "int32", description });
  const gvk = (kind: string) => [{ group: "apiregistration.k8s.io", kind, version: "v1" }];
  return {
    [`${P}.APIService`]: {
      description: "APIService represents a server for a particular GroupVersion. Name must be \"version.group\".",
      type: "object",
      properties: {
        apiVersion: str("APIVersion defines the versioned schema of this representation of an object."),
        kind: str("Kind is a string value representing the REST resource this object represents."),
        metadata: { ...ref(`${M}.ObjectMeta`), description: "Standard object's metadata." },
        spec: { ...ref(`${P}.APIServiceSpec`), description: "Spec contains information for locating and communicating with a server" },
        status: { ...ref(`${P}.APIServiceStatus`), description: "Status contains derived information about an API server" },
      },
      "x-kubernetes-group-version-kind": gvk("APIService"),
    },
    [`${P}.APIServiceList`]: {
      description: "APIServiceList is a list of APIService objects.",
      type: "object",
      required: ["items"],
      properties: {
        apiVersion: str("APIVersion defines the versioned schema of this representation of an object."),
        items: { type: "array", items: ref(`${P}.APIService`), description: "Items is the list of APIService" },
        kind: str("Kind is a string value representing the REST resource this object represents."),
        metadata: { ...ref(`${M}.ListMeta`), description: "Standard list metadata." },
      },
      "x-kubernetes-group-version-kind": gvk("APIServiceList"),
    },
    [`${P}.APIServiceSpec`]: {
      description: "APIServiceSpec contains information for locating and communicating with a server. Only https is supported, though you are able to disable certificate verification.",
      type: "object",
      required: ["groupPriorityMinimum", "versionPriority"],
      properties: {
        caBundle: { type: "string", format: "byte", description: "CABundle is a PEM encoded CA bundle which will be used to validate an API server's serving certificate.", "x-kubernetes-list-type": "atomic" },
        group: str("Group is the API group name this server hosts"),
        groupPriorityMinimum: int("GroupPriorityMinimum is the priority this group should have at least."),
        insecureSkipTLSVerify: { type: "boolean", description: "InsecureSkipTLSVerify disables TLS certificate verification when communicating with this server." },
        service: { ...ref(`${P}.ServiceReference`), description: "Service is a reference to the service for this API server. If empty, the API is handled locally." },
        version: str("Version is the API version this server hosts.  For example, \"v1\""),
        versionPriority: int("VersionPriority controls the ordering of this API version inside of its group."),
      },
    },
    [`${P}.APIServiceStatus`]: {
      description: "APIServiceStatus contains derived information about an API server",
      type: "object",
      properties: {
        conditions: {
          type: "array",
          items: ref(`${P}.APIServiceCondition`),
          description: "Current service state of apiService.",
          "x-kubernetes-list-map-keys": ["type"],
          "x-kubernetes-list-type": "map",
          "x-kubernetes-patch-merge-key": "type",
          "x-kubernetes-patch-strategy": "merge",
        },
      },
    },
    [`${P}.APIServiceCondition`]: {
      description: "APIServiceCondition describes the state of an APIService at a particular point",
      type: "object",
      required: ["type", "status"],
      properties: {
        lastTransitionTime: { ...ref(`${M}.Time`), description: "Last time the condition transitioned from one status to another." },
        message: str("Human-readable message indicating details about last transition."),
        reason: str("Unique, one-word, CamelCase reason for the condition's last transition."),
        status: str("Status is the status of the condition. Can be True, False, Unknown."),
        type: str("Type is the type of the condition."),
      },
    },
    [`${P}.ServiceReference`]: {
      description: "ServiceReference holds a reference to Service.legacy.k8s.io",
      type: "object",
      properties: {
        name: str("Name is the name of the service"),
        namespace: str("Namespace is the namespace of the service"),
        port: int("If specified, the port on the service that hosting webhook. Default to 443 for backward compatibility."),
      },
    },
  };
}

/**
 * kubernetes-types drops the fields of embedded Go structs: admissionregistration's RuleWithOperations (and
 * NamedRuleWithOperations) embed Rule, whose resources and scope upstream's OpenAPI lists inline.
 */
function inlineEmbeddedRule(definitions: Record<string, any>): void {
  for (const name of ["RuleWithOperations", "NamedRuleWithOperations"]) {
    const d = definitions[`io.k8s.api.admissionregistration.v1.${name}`];
    if (!d?.properties) continue;
    d.properties.resources ??= {
      type: "array",
      items: { type: "string" },
      "x-kubernetes-list-type": "atomic",
      description:
        "Resources is a list of resources this rule applies to.\n\nFor example: 'pods' means pods. 'pods/log' means the log subresource of pods. '*' means all resources, but not subresources. 'pods/*' means all subresources of pods. '*/scale' means all scale subresources. '*/*' means all resources and their subresources.\n\nIf wildcard is present, the validation rule will ensure resources do not overlap with each other.\n\nDepending on the enclosing object, subresources might not be allowed. Required.",
    };
    d.properties.scope ??= {
      type: "string",
      description:
        'scope specifies the scope of this rule. Valid values are "Cluster", "Namespaced", and "*" "Cluster" means that only cluster-scoped resources will match this rule. Namespace API objects are cluster-scoped. "Namespaced" means that only namespaced resources will match this rule. "*" means that there are no scope restrictions. Subresources match the scope of their parent resource. Default is "*".',
    };
  }
}

export async function writeDefinitions(path = OUTPUT): Promise<number> {
  const definitions = await generateDefinitions();
  inlineEmbeddedRule(definitions);
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename, so a process loading the file concurrently never sees half of it.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ generatedFrom: "kubernetes-types", definitions }));
  renameSync(tmp, path);
  return Object.keys(definitions).length;
}

if (import.meta.main) {
  const count = await writeDefinitions(process.argv[2] ?? OUTPUT);
  console.log(`gen-openapi: wrote ${count} definitions to ${process.argv[2] ?? OUTPUT}`);
}
