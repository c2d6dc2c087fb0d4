// The admission chain of the control plane: auth's default plugins (namespace lifecycle, service accounts,
// default tolerations, node restriction).
import type { AdmissionPlugin } from "../admission/types.ts";
import type { ApiServerDeps } from "../apiserver/deps.ts";
import type { Authorizer } from "../auth/types.ts";
import type { Store } from "../store/types.ts";

// Resolved at run time while internal/admission/index.ts is being written in parallel; becomes a static import.
const ADMISSION_MODULE = "../admission/index.ts";

export async function loadAdmission(deps: ApiServerDeps, extra: { store: Store; authorizer: Authorizer }): Promise<AdmissionPlugin[]> {
  let mod: any;
  try {
    mod = await import(ADMISSION_MODULE);
  } catch (err) {
    deps.log.warn("admission plugins not available; running without admission", { err });
    return [];
  }
  return mod.defaultAdmissionPlugins({ store: extra.store, authorizer: extra.authorizer });
}
