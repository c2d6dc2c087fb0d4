// PEM and EC P-256 key helpers on WebCrypto alone. Deliberately hand-written (a few lines of base64): the x509
// library costs ~20 MB of memory once loaded, so code paths that only need keys must not pull it in.
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;

export function pemEncode(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The DER bytes of the first PEM block (optionally of the given label). */
export function pemDecode(pem: string, label?: string): Uint8Array<ArrayBuffer> {
  const re = label
    ? new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`)
    : /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/;
  const m = pem.match(re);
  if (!m) throw new Error(`no PEM block${label ? ` "${label}"` : ""} found`);
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
}

/** PKCS#8 "PRIVATE KEY" PEM. */
export async function exportKeyPEM(key: CryptoKey): Promise<string> {
  return pemEncode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** Imports a PKCS#8 EC P-256 private key PEM and derives its public key. */
export async function importKeyPairPEM(pem: string): Promise<CryptoKeyPair> {
  const privateKey = await crypto.subtle.importKey("pkcs8", pemDecode(pem, "PRIVATE KEY"), EC, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  delete jwk.d;
  jwk.key_ops = ["verify"];
  const publicKey = await crypto.subtle.importKey("jwk", jwk, EC, true, ["verify"]);
  return { privateKey, publicKey };
}
