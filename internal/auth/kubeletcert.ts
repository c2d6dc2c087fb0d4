// The kubelet's serving certificate, issued by the cluster CA at join (and at each credential renewal) for the
// node's name and IPs, and how the API server checks it before it sends anything to a kubelet.
// The node makes its key pair itself; only the public key is sent (SPKI PEM), so the private key never travels.
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { isIP } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PKI_FILES, tlsDir } from "./paths.ts";
import { pemDecode } from "./pem.ts";

/** One year; the agent gets a fresh one each time it renews its credentials and uses it from its next start. */
export const KUBELET_SERVING_DAYS = 365;

export const kubeletCommonName = (nodeName: string) => `system:node:${nodeName}`;

/** Signs a serving certificate for the node's own public key (SPKI PEM, ECDSA P-256). */
export async function issueKubeletServingCert(dataDir: string, nodeName: string, ips: string[], publicKeyPEM: string): Promise<string> {
  const bad = ips.find((ip) => !isIP(ip));
  if (bad !== undefined) throw new Error(`invalid node address ${JSON.stringify(bad)}: must be an IP address`);
  const publicKey = await crypto.subtle.importKey("spki", pemDecode(publicKeyPEM, "PUBLIC KEY"), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
  const dir = tlsDir(dataDir);
  const ca = { certPEM: readFileSync(join(dir, PKI_FILES.caCert), "utf8"), keyPEM: readFileSync(join(dir, PKI_FILES.caKey), "utf8") };
  const { createNodeServing } = await import("./x509certs.ts");
  return (await createNodeServing(ca, publicKey, nodeName, ips, new Date(), KUBELET_SERVING_DAYS)).certPEM;
}

/**
 * checkServerIdentity for a TLS connection to nodeName's kubelet (chain verified against the cluster CA by the
 * caller's `ca`): the certificate must be that node's (CN system:node:<name>) and name the dialled address. So a node
 * that reports another address or port in its status reaches nothing but a kubelet certified as itself.
 */
export function kubeletServerIdentity(nodeName: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    const cn = (cert?.subject as any)?.CN;
    if (cn !== kubeletCommonName(nodeName)) {
      return new Error(`kubelet serving certificate is for ${JSON.stringify(cn ?? "")}, not ${kubeletCommonName(nodeName)}`);
    }
    return checkServerIdentity(host, cert);
  };
}
