// Validation of CustomResourceDefinition objects (upstream's ValidateCustomResourceDefinition and
// ...Update), with upstream's field paths and messages.
import { Errors, type Cause } from "../../apiserver/validation/errors.ts";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain } from "../../apiserver/validation/names.ts";
import { validateStructuralSchema } from "../schema/structural.ts";
import type { Schema } from "../schema/types.ts";
import type { CRD } from "./types.ts";

const PRINTER_TYPES = ["integer", "number", "string", "boolean", "date"];
const PROTECTED = /(^|\.)(k8s\.io|kubernetes\.io)$/;
const APPROVAL = "api-approved.kubernetes.io";

/** Fills what upstream's defaulting fills on CRDs (singular, listKind, conversion strategy, column priority). */
export function defaultCRD(crd: CRD): void {
  const spec = (crd.spec ??= {} as CRD["spec"]);
  const names = (spec.names ??= {} as any);
  if (!names.singular && typeof names.kind === "string") names.singular = names.kind.toLowerCase();
  if (!names.listKind && typeof names.kind === "string") names.listKind = `${names.kind}List`;
  spec.conversion ??= { strategy: "None" };
  spec.conversion.strategy ??= "None";
  for (const v of spec.versions ?? []) {
    for (const col of v.additionalPrinterColumns ?? []) col.priority ??= 0;
  }
}

export function validateCRD(crd: CRD): Cause[] {
  const e = new Errors();
  const spec = crd.spec as any;
  const name = crd.metadata?.name ?? "";
  const group: string = spec?.group ?? "";
  const plural: string = spec?.names?.plural ?? "";
  if (name !== `${plural}.${group}`) e.invalid("metadata.name", name, `must be spec.names.plural+"."+spec.group`);

  if (!group) e.required("spec.group", "");
  else {
    e.invalidEach("spec.group", group, isDNS1123Subdomain(group));
    if (!group.includes(".")) e.invalid("spec.group", group, "should be a domain with at least one dot");
    if (PROTECTED.test(group)) {
      const v = crd.metadata?.annotations?.[APPROVAL];
      if (!v) e.required(`metadata.annotations[${APPROVAL}]`, `protected groups must have approval annotation "${APPROVAL}", see https://github.com/kubernetes/enhancements/pull/1111`);
    }
  }
  if (spec?.scope !== "Namespaced" && spec?.scope !== "Cluster") {
    if (!spec?.scope) e.required("spec.scope", "");
    else e.notSupported("spec.scope", spec.scope, ["Cluster", "Namespaced"]);
  }
  names(e, spec?.names, "spec.names");

  const versions: any[] = Array.isArray(spec?.versions) ? spec.versions : [];
  if (!versions.length) e.invalid("spec.versions", null, "must have exactly one version marked as storage version");
  else if (versions.filter((v) => v?.storage === true).length !== 1) {
    e.invalid("spec.versions", versions.map((v) => v?.name), "must have exactly one version marked as storage version");
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (!v?.name) e.required(`${p}.name`, "");
    else {
      e.invalidEach(`${p}.name`, v.name, isDNS1035Label(v.name));
      if (seen.has(v.name)) e.duplicate(`${p}.name`, v.name);
      seen.add(v.name);
    }
    for (const c of validateStructuralSchema(v?.schema?.openAPIV3Schema as Schema | undefined, `${p}.schema.openAPIV3Schema`)) e.list.push(c);
    subresources(e, v?.subresources, `${p}.subresources`);
    selectableFields(e, v?.selectableFields, v?.schema?.openAPIV3Schema as Schema | undefined, `${p}.selectableFields`);
    (v?.additionalPrinterColumns ?? []).forEach((col: any, j: number) => printerColumn(e, col, `${p}.additionalPrinterColumns[${j}]`));
    if (v?.deprecationWarning !== undefined && !v.deprecated) e.invalid(`${p}.deprecationWarning`, v.deprecationWarning, "can only be set for deprecated versions");
    if (typeof v?.deprecationWarning === "string" && v.deprecationWarning.length > 256) e.tooLong(`${p}.deprecationWarning`, 256);
  });
  if (versions.length && !versions.some((v) => v?.served)) e.invalid("spec.versions", versions.map((v) => v?.name), "must have at least one served version");

  if (spec?.preserveUnknownFields === true) {
    e.invalid("spec.preserveUnknownFields", true, "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead");
  }
  const strategy = spec?.conversion?.strategy;

  if (strategy !== "None" && strategy !== "Webhook") e.notSupported("spec.conversion.strategy", strategy, ["None", "Webhook"]);
  if (strategy === "Webhook" && !spec.conversion.webhook?.clientConfig) e.required("spec.conversion.webhook", "required when strategy is set to Webhook");
  if (strategy === "None" && spec.conversion.webhook !== undefined) e.forbidden("spec.conversion.webhook", "should not be set when strategy is not set to Webhook");

  (crd.status?.storedVersions ?? []).forEach((sv: string, i: number) => {
    if (versions.length && !seen.has(sv)) e.invalid(`status.storedVersions[${i}]`, sv, "must appear in spec.versions");
  });
  return e.list;
}

export function validateCRDUpdate(crd: CRD, old: CRD): Cause[] {
  const out = validateCRD(crd);
  const e = new Errors();
  if (old.spec?.group !== crd.spec?.group) e.invalid("spec.group", crd.spec?.group, "field is immutable");
  if (old.spec?.scope !== crd.spec?.scope) e.invalid("spec.scope", crd.spec?.scope, "field is immutable");
  return [...out, ...e.list];
}

function names(e: Errors, n: any, p: string) {
  if (!n || typeof n !== "object") {
    e.required(`${p}.plural`, "");
    e.required(`${p}.kind`, "");
    return;
  }
  if (!n.plural) e.required(`${p}.plural`, "");
  else e.invalidEach(`${p}.plural`, n.plural, isDNS1123Label(n.plural));
  if (n.singular) e.invalidEach(`${p}.singular`, n.singular, isDNS1123Label(n.singular));
  if (!n.kind) e.required(`${p}.kind`, "");
  else if (!/^[A-Za-z][A-Za-z0-9]*$/.test(n.kind)) e.invalid(`${p}.kind`, n.kind, "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?");
  if (n.listKind && !/^[A-Za-z][A-Za-z0-9]*$/.test(n.listKind)) e.invalid(`${p}.listKind`, n.listKind, "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?");
  if (n.kind && n.listKind && n.kind === n.listKind) e.invalid(`${p}.listKind`, n.listKind, "kind and listKind may not be the same");
  (n.shortNames ?? []).forEach((s: string, i: number) => e.invalidEach(`${p}.shortNames[${i}]`, s, isDNS1123Label(String(s))));
  (n.categories ?? []).forEach((s: string, i: number) => e.invalidEach(`${p}.categories[${i}]`, s, isDNS1123Label(String(s))));
}

/** selectableFields (GA in 1.32): at most 8 distinct paths to string, integer or boolean fields of the schema. */
function selectableFields(e: Errors, fields: any, schema: Schema | undefined, p: string) {
  if (!Array.isArray(fields)) return;
  if (fields.length > 8) e.list.push({ reason: "FieldValueTooMany", field: p, message: `Too many: ${fields.length}: must have at most 8 items` });
  const seen = new Set<string>();
  fields.forEach((f: any, i: number) => {
    const fp = `${p}[${i}].jsonPath`;
    const path = typeof f?.jsonPath === "string" ? f.jsonPath : "";
    if (!path) return e.required(fp, "");
    if (seen.has(path)) e.duplicate(fp, path);
    seen.add(path);
    if (!/^(\.[A-Za-z_][A-Za-z0-9_-]*)+$/.test(path)) return e.invalid(fp, path, "must be a simple field path like .spec.field");
    if (path === ".metadata.name" || path === ".metadata.namespace") return e.invalid(fp, path, "metadata.name and metadata.namespace are always selectable");
    let s: Schema | undefined = schema;
    for (const seg of path.slice(1).split(".")) s = s?.properties?.[seg];
    if (!s) return e.invalid(fp, path, "is an invalid path: does not refer to a field in the schema");
    if (!(s.type === "string" || s.type === "integer" || s.type === "boolean")) {
      e.invalid(fp, path, "must point to a field of type string, boolean or integer. Enum string types and strings with formats are allowed.");
    }
  });
}

function subresources(e: Errors, s: any, p: string) {
  const scale = s?.scale;
  if (!scale) return;
  if (!scale.specReplicasPath) e.required(`${p}.scale.specReplicasPath`, "");
  else if (!String(scale.specReplicasPath).startsWith(".spec.")) e.invalid(`${p}.scale.specReplicasPath`, scale.specReplicasPath, "should be a json path under .spec");
  if (!scale.statusReplicasPath) e.required(`${p}.scale.statusReplicasPath`, "");
  else if (!String(scale.statusReplicasPath).startsWith(".status.")) e.invalid(`${p}.scale.statusReplicasPath`, scale.statusReplicasPath, "should be a json path under .status");
  if (scale.labelSelectorPath && !/^\.(spec|status)\./.test(scale.labelSelectorPath)) {
    e.invalid(`${p}.scale.labelSelectorPath`, scale.labelSelectorPath, "should be a json path under either .spec or .status");
  }
}

function printerColumn(e: Errors, col: any, p: string) {
  if (!col?.name) e.required(`${p}.name`, "");
  if (!col?.type) e.required(`${p}.type`, "");
  else if (!PRINTER_TYPES.includes(col.type)) e.notSupported(`${p}.type`, col.type, PRINTER_TYPES);
  if (col?.format && !["int32", "int64", "float", "double", "byte", "date", "date-time", "password"].includes(col.format)) {
    e.notSupported(`${p}.format`, col.format, ["int32", "int64", "float", "double", "byte", "date", "date-time", "password"]);
  }
  if (!col?.jsonPath) e.required(`${p}.JSONPath`, "");
  if (col?.priority !== undefined && col.priority < 0) e.invalid(`${p}.priority`, col.priority, "must be greater than or equal to 0");
}
