// The cluster's PKI: a self-signed CA made once on first start and a serving certificate for the API server
// signed by it. Files live in <dataDir>/server/tls/ with k3s's names. The serving certificate is re-issued
// when the wanted SANs change or it is within 90 days of expiry (as k3s's dynamiclistener does); the CA never is.
// ECDSA P-256 through WebCrypto; certificates are made with @peculiar/x509 (x509certs.ts), which is loaded only when
// something must be created or checked: a small sidecar (serving-kube-apiserver.json) records what the serving
// certificate was issued for, so an ordinary restart never loads the library.
import { hostname } from "node:os";
import { isIP } from "node:net";
import { join } from "node:path";
import { writeAtomic } from "../api/files.ts";
import { readIfExists } from "./files.ts";
import { PKI_FILES, tlsDir } from "./paths.ts";
import { adoptClusterBootstrap } from "./bootstrap.ts";
import { exportKeyPEM, generateKeyPair, importKeyPairPEM } from "./pem.ts";
import type { Store } from "../store/types.ts";

export { tlsDir, PKI_FILES };
// Key helpers, re-exported for callers that import them from here.
export { exportKeyPEM, generateKeyPair, importKeyPairPEM };

const DAY = 86_400_000;
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
const RENEW_BEFORE_DAYS = 90;
const SIDECAR = "serving-kube-apiserver.json";

export interface PKIOptions {
  sans: { dns: string[]; ips: string[] };
  /**
   * HA: with the shared store, a server whose data dir has no CA adopts the cluster's CA (and admin token) from the
   * store; `token` (the --token flag) decrypts it. See bootstrap.ts.
   */
  store?: Store;
  token?: string;
  /** For tests: override the clock. */
  now?: Date;
}

export interface PKI {
  caCertPEM: string;
  caKeyPEM: string;
  serverCertPEM: string;
  serverKeyPEM: string;
}

interface ServingRecord {
  sans: { dns: string[]; ips: string[] };
  notAfter: string;
  caHash: string;
  certHash: string;
}

function normalizeIP(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  // Canonical form so a stored "0:0:0:0:0:0:0:1" compares equal to "::1".
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** The names every API server certificate carries, plus the caller's. */
export function defaultSANs(extra: { dns: string[]; ips: string[] }): { dns: string[]; ips: string[] } {
  const dns = new Set<string>([
    hostname(),
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
  ]);
  const ips = new Set<string>(["127.0.0.1", "::1", "10.43.0.1"]);
  for (const n of extra.dns) if (n) (isIP(n) ? ips : dns).add(n);
  for (const ip of extra.ips) if (ip) (isIP(ip) ? ips : dns).add(ip);
  return { dns: [...dns].sort(), ips: [...new Set([...ips].map(normalizeIP))].sort() };
}

function sha256(s: string): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}

function sameSANs(a: { dns: string[]; ips: string[] }, b: { dns: string[]; ips: string[] }): boolean {
  return a.dns.join(",") === b.dns.join(",") && a.ips.join(",") === b.ips.join(",");
}

/**
 * Loads or creates the CA and serving certificate. Safe to call on every start: the CA is created only when
 * absent; the serving certificate is re-issued only when SANs differ or expiry is near.
 */
export async function ensurePKI(dataDir: string, opts: PKIOptions): Promise<PKI> {
  const dir = tlsDir(dataDir);
  const now = opts.now ?? new Date();
  const p = (f: string) => join(dir, f);
  if (opts.store) await adoptClusterBootstrap(dataDir, opts.store, opts.token);

  let caCertPEM = readIfExists(p(PKI_FILES.caCert));
  let caKeyPEM = readIfExists(p(PKI_FILES.caKey));
  if (caCertPEM && !caKeyPEM) {
    throw new Error(`CA certificate ${p(PKI_FILES.caCert)} has no key ${PKI_FILES.caKey}; restore it or remove both`);
  }
  if (!caCertPEM || !caKeyPEM) {
    // No CA yet (a lone key is a crash between the two writes below: nothing can have trusted it).
    const { createCA } = await import("./x509certs.ts");
    const ca = await createCA(now, CA_DAYS);
    caCertPEM = ca.certPEM;
    caKeyPEM = await exportKeyPEM(ca.keys.privateKey);
    // Key first: a cert without its key would be unusable after a crash between the two writes.
    writeAtomic(p(PKI_FILES.caKey), caKeyPEM, 0o600);
    writeAtomic(p(PKI_FILES.caCert), caCertPEM, 0o644);
  }

  const wanted = defaultSANs(opts.sans);
  let serverCertPEM = readIfExists(p(PKI_FILES.servingCert));
  let serverKeyPEM = readIfExists(p(PKI_FILES.servingKey));
  let reissue = !serverCertPEM || !serverKeyPEM;
  if (!reissue) {
    const recordText = readIfExists(p(SIDECAR));
    let record: ServingRecord | undefined;
    try {
      record = recordText ? (JSON.parse(recordText) as ServingRecord) : undefined;
    } catch {
      record = undefined;
    }
    // The sidecar is trusted only for exactly the files it was written with.
    if (!record || record.certHash !== sha256(serverCertPEM!) || record.caHash !== sha256(caCertPEM)) {
      const { inspectServing } = await import("./x509certs.ts");
      const info = await inspectServing(serverCertPEM!, caCertPEM);
      record = info.signedByCA
        ? { sans: info.sans, notAfter: info.notAfter.toISOString(), caHash: sha256(caCertPEM), certHash: sha256(serverCertPEM!) }
        : undefined;
    }
    reissue = !record || !sameSANs(record.sans, wanted) || Date.parse(record.notAfter) - now.getTime() < RENEW_BEFORE_DAYS * DAY;
  }
  if (reissue) {
    const { createServing } = await import("./x509certs.ts");
    const serving = await createServing({ certPEM: caCertPEM, keyPEM: caKeyPEM }, wanted, now, SERVING_DAYS);
    serverKeyPEM = await exportKeyPEM(serving.keys.privateKey);
    serverCertPEM = serving.certPEM;
    writeAtomic(p(PKI_FILES.servingKey), serverKeyPEM, 0o600);
    writeAtomic(p(PKI_FILES.servingCert), serverCertPEM, 0o644);
    const record: ServingRecord = {
      sans: wanted,
      notAfter: serving.notAfter.toISOString(),
      caHash: sha256(caCertPEM),
      certHash: sha256(serverCertPEM),
    };
    writeAtomic(p(SIDECAR), JSON.stringify(record, null, 2) + "\n", 0o644);
  }
  return { caCertPEM, caKeyPEM, serverCertPEM: serverCertPEM!, serverKeyPEM: serverKeyPEM! };
}

/** Parses a PEM certificate (loads the x509 library; for tests and diagnostics). */
export async function parseCertificate(pem: string) {
  const { parseCertificate } = await import("./x509certs.ts");
  return parseCertificate(pem);
}

/** A self-signed serving certificate and its PKCS#8 key (e.g. for the kubelet's endpoint); loads x509 lazily. */
export async function selfSignedServingCert(opts: {
  commonName: string;
  days?: number;
  dns?: string[];
  ips?: string[];
}): Promise<{ certPEM: string; keyPEM: string }> {
  const { createSelfSignedServingCert } = await import("./x509certs.ts");
  const c = await createSelfSignedServingCert({ ...opts, days: opts.days ?? 3650 });
  return { certPEM: c.certPEM, keyPEM: await exportKeyPEM(c.keys.privateKey) };
}
