// The manifests directory (k3s's auto-deploying manifests): <data-dir>/server/manifests applied by the server.
export { DeployController, startDeployController, type DeployOptions } from "./controller.ts";
export { ADDON_CRD, ADDON_NAMESPACE, FIELD_MANAGER, addonName } from "./addon.ts";
export { manifestFiles, parseManifest, applyOrder } from "./manifests.ts";
