// Which files of the manifests directory are applied, and the objects in them. As k3s: *.yaml, *.yml and *.json
// files (not in subfolders); "X.skip" next to X keeps X from being applied; a --disable name (the file's name
// without extension) skips the file; several YAML documents per file, and `kind: List` unpacked.
import { readdirSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { parseAllDocuments } from "yaml";

export const MANIFEST_EXTENSIONS = [".yaml", ".yml", ".json"];

/** Most bytes one manifest file may have (a bigger one is refused, not read). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface ManifestFile {
  path: string;
  /** File name without extension: the Addon's name source and what --disable matches. */
  base: string;
}

/** The files to apply, sorted by name (k3s applies them in directory order). */
export function manifestFiles(dir: string, disabled: ReadonlySet<string>): ManifestFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const present = new Set(names);
  const out: ManifestFile[] = [];
  for (const name of names.sort()) {
    const ext = extname(name);
    if (!MANIFEST_EXTENSIONS.includes(ext.toLowerCase())) continue;
    if (present.has(`${name}.skip`)) continue;
    const base = basename(name, ext);
    if (disabled.has(base)) continue;
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
    } catch {
      continue;
    }
    out.push({ path, base });
  }
  return out;
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** The objects of one file, in file order; throws with the document number on a parse or shape error. */
export function parseManifest(text: string, path: string): ManifestObject[] {
  const docs = path.toLowerCase().endsWith(".json") ? [jsonDoc(text)] : yamlDocs(text);
  const out: ManifestObject[] = [];
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    const items = isObj(doc) && doc.kind === "List" && Array.isArray(doc.items) ? doc.items : [doc];
    for (const o of items) {
      if (!isObj(o)) throw new Error(`document ${i + 1}: not an object`);
      if (typeof o.apiVersion !== "string" || !o.apiVersion) throw new Error(`document ${i + 1}: apiVersion not set`);
      if (typeof o.kind !== "string" || !o.kind) throw new Error(`document ${i + 1}: kind not set`);
      if (!isObj(o.metadata) || typeof o.metadata.name !== "string" || !o.metadata.name) {
        throw new Error(`document ${i + 1} (${o.kind}): metadata.name not set`);
      }
      out.push(o as ManifestObject);
    }
  });
  return out;
}

function isObj(v: unknown): v is Record<string, any> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function jsonDoc(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON: ${(err as Error).message}`);
  }
}

function yamlDocs(text: string): unknown[] {
  // Aliases are bounded so a small file cannot expand into a huge object (billion laughs).
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((d, i) => {
    if (d.errors.length) throw new Error(`document ${i + 1}: ${d.errors[0]!.message.split("\n")[0]!.replace(/:\s*$/, "")}`);
    return d.toJS({ maxAliasCount: 100 });
  });
}

const CRD = (o: ManifestObject) => o.kind === "CustomResourceDefinition" && o.apiVersion.startsWith("apiextensions.k8s.io/");
const NAMESPACE = (o: ManifestObject) => o.kind === "Namespace" && o.apiVersion === "v1";

/** CRDs first, then Namespaces, then everything else (each group in file order). */
export function applyOrder(objs: ManifestObject[]): ManifestObject[] {
  return [...objs.filter(CRD), ...objs.filter(NAMESPACE), ...objs.filter((o) => !CRD(o) && !NAMESPACE(o))];
}

export function isCRD(o: ManifestObject): boolean {
  return CRD(o);
}
