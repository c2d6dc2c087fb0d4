// Names shared by the local-path provisioner (controllers), the server that configures it and the agent that
// cleans up its directories: k3s's provisioner name and ConfigMap, and kubun's cleanup finalizer.

/** k3s's provisioner name, so charts and manifests written for k3s that name it keep working. */
export const LOCAL_PATH_PROVISIONER = "rancher.io/local-path";
export const LOCAL_PATH_CLASS = "local-path";
/** kube-system ConfigMap in local-path-provisioner's format: config.json with a nodePathMap. */
export const LOCAL_PATH_CONFIG = "local-path-config";
export const DEFAULT_NODE_KEY = "DEFAULT_PATH_FOR_NON_LISTED_NODES";
/** Kept on provisioned volumes until the node's agent has dealt with the directory. */
export const LOCAL_PATH_FINALIZER = "kubun.io/local-path-cleanup";
/** The node a local-path volume lives on (local-path-provisioner's annotation). */
export const ANN_LOCAL_PATH_NODE = "local.path.provisioner/selected-node";

/** The directory root for a node from config.json's nodePathMap (its own entry, else the default), or undefined. */
export function basePathFor(configJSON: string | undefined, node: string): string | undefined {
  let cfg: { nodePathMap?: { node?: string; paths?: string[] }[] };
  try {
    cfg = JSON.parse(configJSON ?? "{}");
  } catch {
    return undefined;
  }
  const map = Array.isArray(cfg?.nodePathMap) ? cfg.nodePathMap : [];
  const entry = map.find((e) => e?.node === node) ?? map.find((e) => e?.node === DEFAULT_NODE_KEY);
  const p = entry?.paths?.[0];
  return typeof p === "string" && p.startsWith("/") ? p.replace(/\/+$/, "") || "/" : undefined;
}

/** The directory name local-path-provisioner uses: <pv>_<namespace>_<claim>. */
export function volumeDirName(pvName: string, namespace: string, claim: string): string {
  return `${pvName}_${namespace}_${claim}`;
}
