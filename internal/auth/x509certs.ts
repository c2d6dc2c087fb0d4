// Certificate creation and inspection with @peculiar/x509. Imported lazily (await import) by pki.ts, only when a
// certificate must be made or checked, because the library is heavy to keep loaded.
// Extensions are the ones Go's crypto/x509 (kubectl) insists on: basicConstraints, keyUsage, extKeyUsage, SKI/AKI.
// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import { generateKeyPair, importKeyPairPEM } from "./pem.ts";

x509.cryptoProvider.set(crypto);

const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY = 86_400_000;

export type Certificate = x509.X509Certificate;

function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f; // positive
  if (b[0] === 0) b[0] = 1;
  return Buffer.from(b).toString("hex");
}

/** The leaf extensions every serving certificate carries (not a CA, TLS server use, SKI). */
async function servingExtensions(publicKey: CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

function altNames(dns: string[], ips: string[]) {
  return [...dns.map((value) => ({ type: "dns" as const, value })), ...ips.map((value) => ({ type: "ip" as const, value }))];
}

export function parseCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

export async function createCA(now: Date, days: number): Promise<{ certPEM: string; keys: CryptoKeyPair }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    // k3s: "CN=k3s-server-ca@<unix time>"; the timestamp keeps CAs of re-created clusters distinguishable.
    name: `CN=kubun-server-ca@${Math.floor(now.getTime() / 1000)}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + days * DAY),
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
  return { certPEM: cert.toString("pem") + "\n", keys };
}

export async function createServing(
  ca: { certPEM: string; keyPEM: string },
  sans: { dns: string[]; ips: string[] },
  now: Date,
  days: number,
): Promise<{ certPEM: string; keys: CryptoKeyPair; notAfter: Date }> {
  const caCert = new x509.X509Certificate(ca.certPEM);
  const caKeys = await importKeyPairPEM(ca.keyPEM);
  const keys = await generateKeyPair();
  const notAfter = new Date(Math.min(now.getTime() + days * DAY, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=kube-apiserver, O=kubun",
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      ...(await servingExtensions(keys.publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      new x509.SubjectAlternativeNameExtension(altNames(sans.dns, sans.ips)),
    ],
  });
  return { certPEM: cert.toString("pem") + "\n", keys, notAfter };
}

/** A self-signed serving certificate (e.g. the kubelet's 10250 endpoint). */
export async function createSelfSignedServingCert(opts: { commonName: string; days: number; dns?: string[]; ips?: string[] }) {
  const keys = await generateKeyPair();
  const now = Date.now();
  const names = altNames(opts.dns ?? [], opts.ips ?? []);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${opts.commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + opts.days * DAY),
    keys,
    signingAlgorithm: SIGN,
    extensions: [
      ...(await servingExtensions(keys.publicKey)),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return { certPEM: cert.toString("pem") + "\n", keys };
}

export function normalizeIP(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  // Canonical form so a stored "0:0:0:0:0:0:0:1" compares equal to "::1".
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** SANs, expiry and whether caPEM signed it: what decides re-issuing a serving certificate. */
export async function inspectServing(
  certPEM: string,
  caPEM: string,
): Promise<{ sans: { dns: string[]; ips: string[] }; notAfter: Date; signedByCA: boolean }> {
  const cert = new x509.X509Certificate(certPEM);
  const ca = new x509.X509Certificate(caPEM);
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const dns: string[] = [];
  const ips: string[] = [];
  for (const n of ext?.names.toJSON() ?? []) {
    if (n.type === "dns") dns.push(n.value);
    else if (n.type === "ip") ips.push(normalizeIP(n.value));
  }
  const signedByCA = await cert.verify({ publicKey: await ca.publicKey.export(), signatureOnly: true }).catch(() => false);
  return { sans: { dns: dns.sort(), ips: ips.sort() }, notAfter: cert.notAfter, signedByCA };
}

/**
 * A kubelet serving certificate for a key the node made itself (only its public key travels): CN system:node:<name>,
 * O system:nodes, SANs = the node name and its IPs, as upstream's kubelet-serving signer issues.
 */
export async function createNodeServing(
  ca: { certPEM: string; keyPEM: string },
  publicKey: CryptoKey,
  nodeName: string,
  ips: string[],
  now: Date,
  days: number,
): Promise<{ certPEM: string; notAfter: Date }> {
  const caCert = new x509.X509Certificate(ca.certPEM);
  const caKeys = await importKeyPairPEM(ca.keyPEM);
  const notAfter = new Date(Math.min(now.getTime() + days * DAY, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=system:node:${nodeName}, O=system:nodes`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      ...(await servingExtensions(publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      new x509.SubjectAlternativeNameExtension(altNames([nodeName], ips.map(normalizeIP))),
    ],
  });
  return { certPEM: cert.toString("pem") + "\n", notAfter };
}
