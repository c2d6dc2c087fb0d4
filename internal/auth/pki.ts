// The cluster's PKI: a self-signed CA made once on first start and a serving certificate for the API server
// signed by it. Files live in <dataDir>/server/tls/ with k3s's names. The serving certificate is re-issued
// when the wanted SANs change or it is within 90 days of expiry (as k3s's dynamiclistener does); the CA never is.
// ECDSA P-256 through WebCrypto, certificates built with @peculiar/x509 with the extensions Go's crypto/x509
// (kubectl) insists on: basicConstraints, keyUsage, extKeyUsage, SKI/AKI.
// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { hostname } from "node:os";
import { isIP } from "node:net";
import { join } from "node:path";
import { readIfExists, writeAtomic } from "./files.ts";
import { PKI_FILES, tlsDir } from "./paths.ts";
import { adoptClusterBootstrap } from "./bootstrap.ts";
import type { Store } from "../store/types.ts";

x509.cryptoProvider.set(crypto);

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY = 86_400_000;
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
const RENEW_BEFORE_DAYS = 90;

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

export { tlsDir, PKI_FILES };

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
  return { dns: [...dns].sort(), ips: [...ips].map(normalizeIP).sort() };
}

function normalizeIP(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  // Canonical form so a stored "0:0:0:0:0:0:0:1" compares equal to "::1".
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
}

export async function exportKeyPEM(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

/** Imports a PKCS#8 EC P-256 private key PEM and derives its public key. */
export async function importKeyPairPEM(pem: string): Promise<CryptoKeyPair> {
  const der = x509.PemConverter.decode(pem)[0];
  const privateKey = await crypto.subtle.importKey("pkcs8", der, EC, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  delete jwk.d;
  jwk.key_ops = ["verify"];
  const publicKey = await crypto.subtle.importKey("jwk", jwk, EC, true, ["verify"]);
  return { privateKey, publicKey };
}

async function createCA(now: Date): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    // k3s: "CN=k3s-server-ca@<unix time>"; the timestamp keeps CAs of re-created clusters distinguishable.
    name: `CN=kubun-server-ca@${Math.floor(now.getTime() / 1000)}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY),
    keys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function createServing(
  ca: { cert: x509.X509Certificate; keys: CryptoKeyPair },
  sans: { dns: string[]; ips: string[] },
  now: Date,
): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=kube-apiserver, O=kubun",
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(Math.min(now.getTime() + SERVING_DAYS * DAY, ca.cert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      new x509.SubjectAlternativeNameExtension([
        ...sans.dns.map((value) => ({ type: "dns" as const, value })),
        ...sans.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
    ],
  });
  return { cert, keys };
}

function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f; // positive
  if (b[0] === 0) b[0] = 1;
  return Buffer.from(b).toString("hex");
}

function certSANs(cert: x509.X509Certificate): { dns: string[]; ips: string[] } {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const dns: string[] = [];
  const ips: string[] = [];
  for (const n of ext?.names.toJSON() ?? []) {
    if (n.type === "dns") dns.push(n.value);
    else if (n.type === "ip") ips.push(normalizeIP(n.value));
  }
  return { dns: dns.sort(), ips: ips.sort() };
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
  let ca: { cert: x509.X509Certificate; keys: CryptoKeyPair };
  if (caCertPEM && caKeyPEM) {
    ca = { cert: new x509.X509Certificate(caCertPEM), keys: await importKeyPairPEM(caKeyPEM) };
  } else if (caCertPEM) {
    throw new Error(`CA certificate ${p(PKI_FILES.caCert)} has no key ${PKI_FILES.caKey}; restore it or remove both`);
  } else {
    // No CA yet (a lone key is a crash between the two writes below: nothing can have trusted it).
    ca = await createCA(now);
    caKeyPEM = await exportKeyPEM(ca.keys.privateKey);
    caCertPEM = ca.cert.toString("pem") + "\n";
    // Key first: a cert without its key would be unusable after a crash between the two writes.
    writeAtomic(p(PKI_FILES.caKey), caKeyPEM, 0o600);
    writeAtomic(p(PKI_FILES.caCert), caCertPEM, 0o644);
  }

  const wanted = defaultSANs(opts.sans);
  let serverCertPEM = readIfExists(p(PKI_FILES.servingCert));
  let serverKeyPEM = readIfExists(p(PKI_FILES.servingKey));
  let reissue = !serverCertPEM || !serverKeyPEM;
  if (!reissue) {
    const cert = new x509.X509Certificate(serverCertPEM!);
    const signedByCA = await cert.verify({ publicKey: ca.keys.publicKey, signatureOnly: true }).catch(() => false);
    reissue =
      !signedByCA ||
      !sameSANs(certSANs(cert), wanted) ||
      cert.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY;
  }
  if (reissue) {
    const serving = await createServing(ca, wanted, now);
    serverKeyPEM = await exportKeyPEM(serving.keys.privateKey);
    serverCertPEM = serving.cert.toString("pem") + "\n";
    writeAtomic(p(PKI_FILES.servingKey), serverKeyPEM, 0o600);
    writeAtomic(p(PKI_FILES.servingCert), serverCertPEM, 0o644);
  }
  return { caCertPEM, caKeyPEM: caKeyPEM!, serverCertPEM: serverCertPEM!, serverKeyPEM: serverKeyPEM! };
}

/** Parses a PEM certificate (for callers that need its fields, e.g. tests). */
export function parseCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}
