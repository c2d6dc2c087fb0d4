// Where credentials live in the data dir (k3s's layout and file names).
import { join } from "node:path";

export function tlsDir(dataDir: string): string {
  return join(dataDir, "server", "tls");
}

export const PKI_FILES = {
  caCert: "server-ca.crt",
  caKey: "server-ca.key",
  servingCert: "serving-kube-apiserver.crt",
  servingKey: "serving-kube-apiserver.key",
} as const;

export function adminTokenPath(dataDir: string): string {
  return join(dataDir, "server", "cred", "admin-token");
}

export function joinTokenPath(dataDir: string): string {
  return join(dataDir, "server", "token");
}

/** Join endpoints served by every server (see joinroutes.ts). */
export const CACERTS_PATH = "/cacerts";
export const NODE_CREDENTIALS_PATH = "/v1-kubun/node-credentials";
