// Cluster bootstrap data shared through the store, as k3s does for HA servers on one datastore: the CA (certificate
// and key) and the admin token, encrypted with a key derived from the join token's secret (PBKDF2-SHA256 → AES-256-GCM,
// both WebCrypto). A server starting with an empty data dir on a store that already holds a cluster adopts that
// cluster's CA and admin token (it must be given the cluster's --token), so join tokens, kubeconfigs and node
// credentials work against every server.
import { join } from "node:path";
import { ConflictError, KeyExistsError, type Store } from "../store/types.ts";
import { writeAtomic } from "../api/files.ts";
import { readIfExists } from "./files.ts";
import { PKI_FILES, tlsDir, adminTokenPath } from "./paths.ts";
import { logger } from "../log/log.ts";
import { caHash, parseToken } from "./tokenformat.ts";

const log = logger("bootstrap");
export const BOOTSTRAP_KEY = "/kubun/bootstrap/cluster";
const PBKDF2_ITERATIONS = 100_000;

interface Sealed {
  caCertPEM: string; // public: kept in clear so the hash can be checked before decrypting
  salt: string; // base64
  iv: string; // base64
  data: string; // base64 AES-GCM of JSON { caKeyPEM, adminToken }
}

async function deriveKey(secret: string, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: PBKDF2_ITERATIONS },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function seal(secret: string, caCertPEM: string, payload: { caKeyPEM: string; adminToken?: string }): Promise<Sealed> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await deriveKey(secret, salt);
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(JSON.stringify(payload)));
  const b64 = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString("base64");
  return { caCertPEM, salt: b64(salt), iv: b64(iv), data: b64(data) };
}

async function unseal(secret: string, s: Sealed): Promise<{ caKeyPEM: string; adminToken?: string }> {
  const key = await deriveKey(secret, new Uint8Array(Buffer.from(s.salt, "base64")));
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: Buffer.from(s.iv, "base64") }, key, Buffer.from(s.data, "base64"));
    return JSON.parse(new TextDecoder().decode(plain));
  } catch {
    throw new Error("the cluster's bootstrap data in the datastore can't be decrypted with this token: use the cluster's --token");
  }
}

/**
 * Before the PKI is loaded: when this data dir has no CA yet but the store holds a cluster's bootstrap data,
 * write that CA (and admin token) locally. Needs the cluster's token. Returns true when data was adopted.
 */
export async function adoptClusterBootstrap(dataDir: string, store: Store, token?: string): Promise<boolean> {
  const certPath = join(tlsDir(dataDir), PKI_FILES.caCert);
  if (readIfExists(certPath)) return false;
  const { kv } = await store.get(BOOTSTRAP_KEY);
  if (!kv) return false;
  const sealed = JSON.parse(kv.value) as Sealed;
  if (!token) {
    throw new Error("the datastore already holds a cluster: start this server with that cluster's --token to join it");
  }
  const parsed = parseToken(token);
  if (parsed.caHash && parsed.caHash !== caHash(sealed.caCertPEM)) {
    throw new Error("--token was issued by a different cluster than the one in the datastore (CA hash mismatch)");
  }
  const secret = parsed.secret.replace(/^server:/, "");
  const { caKeyPEM, adminToken } = await unseal(secret, sealed);
  writeAtomic(join(tlsDir(dataDir), PKI_FILES.caKey), caKeyPEM, 0o600);
  writeAtomic(certPath, sealed.caCertPEM, 0o644);
  if (adminToken && !readIfExists(adminTokenPath(dataDir))) writeAtomic(adminTokenPath(dataDir), adminToken + "\n", 0o600);
  log.info("adopted the cluster CA and admin token from the datastore");
  return true;
}

/** After the tokens exist: publish this cluster's bootstrap data if the store has none (first server). */
export async function publishClusterBootstrap(dataDir: string, store: Store, joinToken: string): Promise<void> {
  const caCertPEM = readIfExists(join(tlsDir(dataDir), PKI_FILES.caCert));
  const caKeyPEM = readIfExists(join(tlsDir(dataDir), PKI_FILES.caKey));
  if (!caCertPEM || !caKeyPEM) throw new Error("publishClusterBootstrap: no CA in the data dir (call ensurePKI first)");
  const { kv } = await store.get(BOOTSTRAP_KEY);
  if (kv) {
    const other = (JSON.parse(kv.value) as Sealed).caCertPEM;
    if (other !== caCertPEM) {
      log.warn("this server's CA differs from the cluster CA in the datastore; clients of other servers won't trust it", {
        local: caHash(caCertPEM),
        cluster: caHash(other),
      });
    }
    return;
  }
  const adminToken = readIfExists(adminTokenPath(dataDir))?.trim();
  const secret = parseToken(joinToken).secret.replace(/^server:/, "");
  const sealed = await seal(secret, caCertPEM, { caKeyPEM, adminToken });
  try {
    await store.create(BOOTSTRAP_KEY, JSON.stringify(sealed));
  } catch (err) {
    if (!(err instanceof KeyExistsError)) throw err;
    // Another server published first; the warning above fires on our next start if the CAs differ.
  }
}

/** Re-encrypts the shared bootstrap data with a new join secret (token rotation). */
export async function resealClusterBootstrap(dataDir: string, store: Store, joinToken: string): Promise<void> {
  const caCertPEM = readIfExists(join(tlsDir(dataDir), PKI_FILES.caCert));
  const caKeyPEM = readIfExists(join(tlsDir(dataDir), PKI_FILES.caKey));
  if (!caCertPEM || !caKeyPEM) throw new Error("resealClusterBootstrap: no CA in the data dir");
  const adminToken = readIfExists(adminTokenPath(dataDir))?.trim();
  const sealed = await seal(parseToken(joinToken).secret.replace(/^server:/, ""), caCertPEM, { caKeyPEM, adminToken });
  for (let attempt = 0; attempt < 5; attempt++) {
    const { kv } = await store.get(BOOTSTRAP_KEY);
    try {
      if (kv) await store.update(BOOTSTRAP_KEY, JSON.stringify(sealed), kv.modRevision);
      else await store.create(BOOTSTRAP_KEY, JSON.stringify(sealed));
      return;
    } catch (err) {
      if (err instanceof KeyExistsError || err instanceof ConflictError) continue;
      throw err;
    }
  }
  throw new Error("could not re-seal the cluster bootstrap data: too many concurrent updates");
}
