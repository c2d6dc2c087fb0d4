// Writes a kubeconfig with a bearer token, laid out as k3s's (cluster, user and context all named "default").
import { stringify } from "yaml";
import { writeAtomic } from "../api/files.ts";

export interface KubeconfigOptions {
  /** e.g. https://127.0.0.1:6443 */
  server: string;
  caPEM: string;
  token: string;
  /** File mode, default 0600 (the file holds a credential). */
  mode?: number;
}

export function kubeconfigYAML(opts: Omit<KubeconfigOptions, "mode">): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "default",
        cluster: {
          server: opts.server,
          "certificate-authority-data": Buffer.from(opts.caPEM).toString("base64"),
        },
      },
    ],
    contexts: [{ name: "default", context: { cluster: "default", user: "default" } }],
    "current-context": "default",
    preferences: {},
    users: [{ name: "default", user: { token: opts.token } }],
  });
}

/** Writes the kubeconfig atomically (directory created), returns the YAML written. */
export function writeKubeconfig(path: string, opts: KubeconfigOptions): string {
  const yaml = kubeconfigYAML(opts);
  writeAtomic(path, yaml, opts.mode ?? 0o600);
  return yaml;
}
