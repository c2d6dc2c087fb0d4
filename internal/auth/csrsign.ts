// Signs PKCS#10 certificate requests with the cluster CA for the built-in Kubernetes signers
// (upstream pkg/controller/certificates/signer and the kubelet CSR checks in
// k8s.io/kubernetes/pkg/apis/certificates/helpers.go). Imported lazily: @peculiar/x509 is heavy.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { importKeyPairPEM } from "./pem.ts";

x509.cryptoProvider.set(crypto);

export const SIGNERS = {
  apiserverClient: "kubernetes.io/kube-apiserver-client",
  kubeletClient: "kubernetes.io/kube-apiserver-client-kubelet",
  kubeletServing: "kubernetes.io/kubelet-serving",
} as const;

const MINUTE = 60_000;
/** Upstream --cluster-signing-duration default (8760h). */
export const DEFAULT_SIGNING_DAYS = 365;

export class SignerValidationError extends Error {}

export interface ParsedCSR {
  req: x509.Pkcs10CertificateRequest;
  commonName: string;
  organizations: string[];
  dns: string[];
  ips: string[];
  emails: string[];
  uris: string[];
}

/** Parses the PEM request and checks its self-signature (Go's x509cr.CheckSignature). */
export async function parseCSR(pem: string): Promise<ParsedCSR> {
  let req: x509.Pkcs10CertificateRequest;
  try {
    req = new x509.Pkcs10CertificateRequest(pem);
  } catch (e) {
    throw new SignerValidationError(`unable to parse csr: ${(e as Error).message}`);
  }
  if (!(await req.verify().catch(() => false))) throw new SignerValidationError("unable to verify certificate request signature");
  const san = sanOf(req);
  const names = san?.names.toJSON() ?? [];
  const pick = (t: string) => names.filter((n) => n.type === t).map((n) => n.value);
  return {
    req,
    commonName: req.subjectName.getField("CN")[0] ?? "",
    organizations: req.subjectName.getField("O"),
    dns: pick("dns"),
    ips: pick("ip"),
    emails: pick("email"),
    uris: pick("url"),
  };
}

/** The request's subjectAltName extension (from its extensionRequest attribute), as a typed extension. */
function sanOf(req: x509.Pkcs10CertificateRequest): x509.SubjectAlternativeNameExtension | undefined {
  const ext = req.extensions.find((e) => e.type === "2.5.29.17");
  return ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined;
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

function kubeletSubject(csr: ParsedCSR): void {
  if (!sameSet(csr.organizations, ["system:nodes"])) throw new SignerValidationError("subject organization is not system:nodes");
  if (!csr.commonName.startsWith("system:node:")) throw new SignerValidationError("subject common name does not begin with system:node:");
}

/** Throws a SignerValidationError when the request is not one the signer may issue (the CSR then gets Failed). */
export function validateForSigner(signerName: string, csr: ParsedCSR, usages: string[]): void {
  switch (signerName) {
    case SIGNERS.apiserverClient: {
      let clientAuth = false;
      for (const u of usages) {
        if (u === "client auth") clientAuth = true;
        else if (u !== "digital signature" && u !== "key encipherment") throw new SignerValidationError(`invalid usage for client certificate: ${u}`);
      }
      if (!clientAuth) throw new SignerValidationError("missing required usage for client certificate: client auth");
      return;
    }
    case SIGNERS.kubeletClient: {
      kubeletSubject(csr);
      if (csr.dns.length) throw new SignerValidationError("DNS subjectAltNames are not allowed");
      if (csr.emails.length) throw new SignerValidationError("Email subjectAltNames are not allowed");
      if (csr.ips.length) throw new SignerValidationError("IP subjectAltNames are not allowed");
      if (csr.uris.length) throw new SignerValidationError("URI subjectAltNames are not allowed");
      if (!sameSet(usages, ["digital signature", "client auth"]) && !sameSet(usages, ["key encipherment", "digital signature", "client auth"])) {
        throw new SignerValidationError(`usages did not match [digital signature key encipherment client auth]`);
      }
      return;
    }
    case SIGNERS.kubeletServing: {
      kubeletSubject(csr);
      if (csr.dns.length === 0 && csr.ips.length === 0) throw new SignerValidationError("DNS or IP subjectAltName is required");
      if (csr.emails.length) throw new SignerValidationError("Email subjectAltNames are not allowed");
      if (csr.uris.length) throw new SignerValidationError("URI subjectAltNames are not allowed");
      if (!sameSet(usages, ["digital signature", "server auth"]) && !sameSet(usages, ["key encipherment", "digital signature", "server auth"])) {
        throw new SignerValidationError(`usages did not match [digital signature key encipherment server auth]`);
      }
      return;
    }
  }
  throw new SignerValidationError(`unsupported signer ${signerName}`);
}

const KEY_USAGES: Record<string, number> = {
  "signing": x509.KeyUsageFlags.digitalSignature,
  "digital signature": x509.KeyUsageFlags.digitalSignature,
  "content commitment": x509.KeyUsageFlags.nonRepudiation,
  "key encipherment": x509.KeyUsageFlags.keyEncipherment,
  "key agreement": x509.KeyUsageFlags.keyAgreement,
  "data encipherment": x509.KeyUsageFlags.dataEncipherment,
  "cert sign": x509.KeyUsageFlags.keyCertSign,
  "crl sign": x509.KeyUsageFlags.cRLSign,
  "encipher only": x509.KeyUsageFlags.encipherOnly,
  "decipher only": x509.KeyUsageFlags.decipherOnly,
};
const EXT_USAGES: Record<string, string> = {
  "any": "2.5.29.37.0",
  "server auth": x509.ExtendedKeyUsage.serverAuth,
  "client auth": x509.ExtendedKeyUsage.clientAuth,
  "code signing": x509.ExtendedKeyUsage.codeSigning,
  "email protection": x509.ExtendedKeyUsage.emailProtection,
  "s/mime": x509.ExtendedKeyUsage.emailProtection,
  "ipsec end system": "1.3.6.1.5.5.7.3.5",
  "ipsec tunnel": "1.3.6.1.5.5.7.3.6",
  "ipsec user": "1.3.6.1.5.5.7.3.7",
  "timestamping": x509.ExtendedKeyUsage.timeStamping,
  "ocsp signing": x509.ExtendedKeyUsage.ocspSigning,
  "microsoft sgc": "1.3.6.1.4.1.311.10.3.3",
  "netscape sgc": "2.16.840.1.113730.4.1",
};

function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) || 1;
  return Buffer.from(b).toString("hex");
}

/**
 * Issues the certificate: the request's subject and SANs, the usages asked for, valid from 5 minutes ago
 * (clock skew, as upstream backdates) for min(expirationSeconds, the signing duration), never past the CA.
 */
export async function signCSR(
  ca: { certPEM: string; keyPEM: string },
  csr: ParsedCSR,
  usages: string[],
  opts: { expirationSeconds?: number; maxDays?: number; now?: Date } = {},
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPEM);
  const caKeys = await importKeyPairPEM(ca.keyPEM);
  const now = (opts.now ?? new Date()).getTime();
  const maxMs = (opts.maxDays ?? DEFAULT_SIGNING_DAYS) * 86_400_000;
  const wantMs = opts.expirationSeconds !== undefined ? Math.max(opts.expirationSeconds * 1000, 10 * MINUTE) : maxMs;
  const notAfter = new Date(Math.min(now + Math.min(wantMs, maxMs), caCert.notAfter.getTime()));
  let ku = 0;
  for (const u of usages) ku |= KEY_USAGES[u] ?? 0;
  const eku = usages.map((u) => EXT_USAGES[u]).filter((x): x is string => !!x);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
  ];
  if (ku) extensions.push(new x509.KeyUsagesExtension(ku, true));
  if (eku.length) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
  const san = sanOf(csr.req);
  if (san) extensions.push(new x509.SubjectAlternativeNameExtension(san.names.toJSON()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: csr.req.subjectName,
    issuer: caCert.subjectName,
    notBefore: new Date(now - 5 * MINUTE),
    notAfter,
    publicKey: csr.req.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions,
  });
  return cert.toString("pem") + "\n";
}

/** notAfter (ms since epoch) of the first certificate in a PEM bundle, or undefined if it doesn't parse. */
export function certificateNotAfter(pem: string): number | undefined {
  try {
    return new x509.X509Certificate(pem).notAfter.getTime();
  } catch {
    return undefined;
  }
}
