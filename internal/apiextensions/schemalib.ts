// The API server's schema hooks (defaulting, validation, unknown fields) extended for custom resources and
// for CustomResourceDefinition objects themselves; everything else goes to the built-in schema library.
import type { SchemaLib } from "../apiserver/deps.ts";
import type { ResourceInfo } from "../api/resources.ts";
import { Errors } from "../apiserver/validation/errors.ts";
import { isDNS1123Subdomain } from "../apiserver/validation/names.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "../apiserver/validation/meta.ts";
import { CRD_GROUP, type CRD } from "./crd/types.ts";
import { crdUnknownFields } from "./crd/unknown.ts";
import { defaultCRD, validateCRD, validateCRDUpdate } from "./crd/validate.ts";
import { applyDefaults } from "./schema/default.ts";
import { prune } from "./schema/prune.ts";
import { validateValue } from "./schema/validate.ts";
import { validateRules } from "./schema/cel.ts";
import { servedVersion } from "./served.ts";

export function isCRDResource(ri: Pick<ResourceInfo, "group" | "resource">): boolean {
  return ri.group === CRD_GROUP && ri.resource === "customresourcedefinitions";
}

export function withCustomResources(base: SchemaLib): SchemaLib {
  return {
    ...base,
    defaultObject(ri, obj) {
      const sv = servedVersion(ri);
      if (sv) return applyDefaults(obj, sv.schema);
      base.defaultObject(ri, obj);
      if (isCRDResource(ri)) {
        crdUnknownFields(obj, true);
        defaultCRD(obj as CRD);
      }
    },
    validateObject(ri, obj, old, opts = {}) {
      const sv = servedVersion(ri);
      if (sv) {
        const e = new Errors();
        validateObjectMeta(e, obj?.metadata, ri.namespaced, isDNS1123Subdomain);
        if (old) validateObjectMetaUpdate(e, obj?.metadata, old?.metadata);
        const schemaErrs = validateValue(obj, sv.schema);
        // As upstream: rules are not run on an object whose values have the wrong types.
        if (schemaErrs.some((c) => c.reason === "FieldValueTypeInvalid")) {
          schemaErrs.push({ reason: "FieldValueInvalid", field: "<nil>", message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' });
          return [...e.list, ...schemaErrs];
        }
        return [...e.list, ...schemaErrs, ...validateRules(obj, sv.schema, old)];
      }
      const causes = base.validateObject(ri, obj, old, opts);
      if (isCRDResource(ri) && !opts.subresource) {
        causes.push(...(old ? validateCRDUpdate(obj as CRD, old as CRD) : validateCRD(obj as CRD)));
      }
      return causes;
    },
    unknownFields(ri, obj) {
      const sv = servedVersion(ri);
      if (sv) return prune(structuredClone(obj), sv.schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true });
      if (isCRDResource(ri)) return [...base.unknownFields(ri, obj).filter((p) => p.startsWith("metadata")), ...crdUnknownFields(obj, false)];
      return base.unknownFields(ri, obj);
    },
    typeErrors(ri, obj) {
      // Custom objects are decoded as unstructured data: a wrong type is a schema (422) error, not a decode error.
      if (servedVersion(ri)) return [];
      return base.typeErrors?.(ri, obj) ?? [];
    },
  };
}
