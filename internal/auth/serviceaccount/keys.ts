// The ServiceAccount token signing key: ECDSA P-256 (ES256), made on first start and kept in
// <dataDir>/server/tls/service.key (k3s's file name). Its public half is published in the store under
// /kubun/serviceaccount-keys/<kid> so that every server sharing the store verifies tokens any of them issued.
// kid is computed as upstream's keyIDFromPublicKey: base64url(sha256(DER SubjectPublicKeyInfo)).
import { join } from "node:path";
import { exportJWK, importJWK, type JWK } from "jose";
import { exportKeyPEM, generateKeyPair, importKeyPairPEM } from "../pem.ts";
import { tlsDir } from "../paths.ts";
import { writeAtomic } from "../../api/files.ts";
import { readIfExists } from "../files.ts";
import { KeyExistsError, type Store } from "../../store/types.ts";

export const SA_KEY_FILE = "service.key";
export const SA_KEYS_PREFIX = "/kubun/serviceaccount-keys/";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export async function keyID(publicKey: CryptoKey): Promise<string> {
  const spki = await crypto.subtle.exportKey("spki", publicKey);
  const digest = await crypto.subtle.digest("SHA-256", spki);
  return Buffer.from(digest).toString("base64url");
}

const loaded = new Map<string, Promise<SigningKey>>();

/** Loads (or creates once) the signing key of a data dir; cached per data dir. */
export function loadSigningKey(dataDir: string): Promise<SigningKey> {
  let p = loaded.get(dataDir);
  if (!p) {
    p = (async () => {
      const path = join(tlsDir(dataDir), SA_KEY_FILE);
      const pem = readIfExists(path);
      let pair: CryptoKeyPair;
      if (pem) {
        pair = await importKeyPairPEM(pem);
      } else {
        pair = await generateKeyPair();
        writeAtomic(path, await exportKeyPEM(pair.privateKey), 0o600);
      }
      return { kid: await keyID(pair.publicKey), privateKey: pair.privateKey, publicKey: pair.publicKey };
    })();
    p.catch(() => loaded.delete(dataDir));
    loaded.set(dataDir, p);
  }
  return p;
}

/** Publishes the public key so other servers can verify our tokens (idempotent). */
export async function publishVerificationKey(store: Store, key: SigningKey): Promise<void> {
  const jwk = await exportJWK(key.publicKey);
  const value = JSON.stringify({ ...jwk, kid: key.kid, alg: "ES256", use: "sig" });
  try {
    await store.create(SA_KEYS_PREFIX + key.kid, value);
  } catch (err) {
    if (!(err instanceof KeyExistsError)) throw err;
  }
}

/** Verification keys by kid: local ones first, then those other servers published (cached). */
export class VerificationKeys {
  private keys = new Map<string, CryptoKey>();
  private misses = new Map<string, number>();

  constructor(private store?: Store) {}

  add(kid: string, key: CryptoKey): void {
    this.keys.set(kid, key);
  }

  async get(kid: string): Promise<CryptoKey | undefined> {
    const k = this.keys.get(kid);
    if (k) return k;
    if (!this.store) return undefined;
    // Don't let unknown kids hammer the store: remember a miss for 10 s.
    const missAt = this.misses.get(kid);
    if (missAt && Date.now() - missAt < 10_000) return undefined;
    const { kv } = await this.store.get(SA_KEYS_PREFIX + kid);
    if (!kv) {
      if (this.misses.size > 1000) this.misses.clear();
      this.misses.set(kid, Date.now());
      return undefined;
    }
    const jwk = JSON.parse(kv.value) as JWK;
    const key = (await importJWK(jwk, "ES256")) as CryptoKey;
    this.keys.set(kid, key);
    return key;
  }

  /** Public JWKS (for /openid/v1/jwks): every server's key published in the store, plus local ones. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const byKid = new Map<string, JWK>();
    for (const [kid, key] of this.keys) byKid.set(kid, { ...(await exportJWK(key)), kid, alg: "ES256", use: "sig" });
    if (this.store) {
      for (const kv of (await this.store.list(SA_KEYS_PREFIX)).items) {
        try {
          const jwk = JSON.parse(kv.value) as JWK;
          if (jwk.kid && !byKid.has(jwk.kid)) byKid.set(jwk.kid, jwk);
        } catch {
          /* skip unreadable entries */
        }
      }
    }
    return { keys: [...byKid.values()].sort((a, b) => (a.kid! < b.kid! ? -1 : 1)) };
  }
}
