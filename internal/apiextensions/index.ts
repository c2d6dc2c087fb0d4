// CustomResourceDefinitions (apiextensions.k8s.io/v1) for the API server: hooks custom resources into the
// schema library, tables, conversion and the REST handler, keeps OpenAPI in step, and runs the CRD
// controllers on the store. startControlPlane calls enableCustomResources once, before serving.
import type { ApiServerDeps } from "../apiserver/deps.ts";
import { setCustomConversion } from "../apiserver/conversion.ts";
import { invalidateOpenAPI, setCustomDefinitions } from "../apiserver/openapi/index.ts";
import { onResourcesChanged } from "../api/resources.ts";
import { setCustomFieldSelectors } from "../api/selectors/fields.ts";
import { evaluate } from "./jsonpath.ts";
import { refreshApplyTypes } from "./applyschema.ts";
import { startCRDController, type CRDController } from "./controller.ts";
import { customDefinitions } from "./openapi.ts";
import { customResourceHooks } from "./rest.ts";
import { withCustomResources } from "./schemalib.ts";
import { servedVersion, toServedVersion } from "./served.ts";
import { customTable } from "./tables.ts";

export { validateValue } from "./schema/validate.ts";
export { applyDefaults } from "./schema/default.ts";
export { prune } from "./schema/prune.ts";
export { servedVersion } from "./served.ts";

/** OpenAPI and the apply type table follow the served schemas. */
function refreshOpenAPI(): void {
  setCustomDefinitions(customDefinitions());
  invalidateOpenAPI();
  refreshApplyTypes();
}

/** Wires custom resources into deps (schema, tables, REST hooks) and starts the CRD controller. */
export function enableCustomResources(deps: ApiServerDeps): CRDController {
  if (deps.schema) deps.schema = withCustomResources(deps.schema);
  const tables = deps.tables;
  deps.tables = {
    toTable(ri, objects, opts) {
      const sv = servedVersion(ri);
      if (sv) return customTable(sv, objects, opts);
      if (!tables) throw new Error("no table printer");
      return tables.toTable(ri, objects, opts);
    },
  };
  deps.customResources = customResourceHooks;
  setCustomConversion({
    needed: (ri) => {
      const sv = servedVersion(ri);
      // Objects keep the apiVersion they were written with: with several versions every read rewrites it.
      return !!sv && (sv.defaults || sv.crd.spec.versions.length > 1);
    },
    convert: (ri, obj) => {
      const sv = servedVersion(ri);
      return sv ? (toServedVersion(sv, obj) as typeof obj) : obj;
    },
  });
  setCustomFieldSelectors((ri) => {
    const sv = ri.version ? servedVersion(ri as { group: string; version: string; resource: string }) : undefined;
    if (!sv) return undefined;
    const out: Record<string, (o: any) => string> = {};
    for (const f of sv.version.selectableFields ?? []) {
      const path = f.jsonPath.replace(/^\./, "");
      out[path] = (o) => {
        const v = evaluate(o, f.jsonPath)[0];
        return v === undefined || v === null ? "" : String(v);
      };
    }
    return out;
  });
  const off = onResourcesChanged(() => refreshOpenAPI());
  const ctl = startCRDController(deps.store, deps.log.child("apiextensions"), { onChange: refreshOpenAPI });
  return {
    ready: ctl.ready,
    stop: () => {
      off();
      ctl.stop();
    },
  };
}
