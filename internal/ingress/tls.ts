// TLS certificates of the ingress proxy: for every TLS entry of the served Ingresses, the kubernetes.io/tls Secret
// it names (in the Ingress's namespace) serves each of its hosts, selected by SNI. The first certificate is also the
// default one, for clients that send no server name.
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { Secret } from "kubernetes-types/core/v1";
import type { Ingress } from "kubernetes-types/networking/v1";

export interface CertEntry {
  serverName: string;
  cert: string;
  key: string;
}

const decode = (b64: string | undefined) => (b64 ? Buffer.from(b64, "base64").toString("utf8") : "");

/** Whether the pair can be served: one bad Secret must not keep the listener from loading the others. */
export function usablePair(cert: string, key: string): boolean {
  try {
    return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

export function collectCerts(
  ingresses: Ingress[],
  secret: (namespace: string, name: string) => Secret | undefined,
  rejected?: (namespace: string, secretName: string) => void,
): CertEntry[] {
  const byHost = new Map<string, CertEntry>();
  for (const ing of ingresses) {
    for (const tls of ing.spec?.tls ?? []) {
      if (!tls.secretName) continue;
      const s = secret(ing.metadata!.namespace!, tls.secretName);
      const cert = decode(s?.data?.["tls.crt"]);
      const key = decode(s?.data?.["tls.key"]);
      if (!cert || !key) continue;
      if (!usablePair(cert, key)) {
        rejected?.(ing.metadata!.namespace!, tls.secretName);
        continue;
      }
      for (const host of tls.hosts ?? []) {
        const h = host.toLowerCase();
        if (!byHost.has(h)) byHost.set(h, { serverName: h, cert, key });
      }
    }
  }
  return [...byHost.values()].sort((a, b) => a.serverName.localeCompare(b.serverName));
}
