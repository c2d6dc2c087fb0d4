// kubun version: the binary's version, the Kubernetes version it serves, and the Bun runtime.
import { defineCommand } from "citty";
import pkg from "../package.json" with { type: "json" };

/** The Kubernetes API version kubun implements (what /version reports, with a +kubun suffix). */
export const KUBERNETES_VERSION = "v1.32.0";
export const KUBUN_VERSION = `v${pkg.version}`;

export const versionCommand = defineCommand({
  meta: { name: "version", description: "Print the version" },
  run() {
    console.log(`kubun version ${KUBUN_VERSION} (kubernetes ${KUBERNETES_VERSION}+kubun, bun ${Bun.version}, ${process.platform}/${process.arch})`);
  },
});
