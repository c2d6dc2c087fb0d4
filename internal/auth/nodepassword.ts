// Node passwords, as k3s's: every agent keeps a random password (<data-dir>/agent/cred/node-password) and sends it
// when it asks for credentials. The first join of a name records a salted hash in the Secret
// kube-system/<node>.node-password.kubun; a later join of that name must present the same password, so a holder of
// the join token cannot take over an existing node's name (and silently revoke its credentials). Deleting the Node
// deletes the Secret (nodecleanup.ts) and frees the name.
// The password is 256 random bits, so a salted sha256 is as strong as a slow password hash here, and cheap on a Pi.
import { ConflictError, KeyExistsError, NotFoundError, type Store } from "../store/types.ts";
import { randomHex } from "./files.ts";
import { safeEqual } from "./tokenformat.ts";

export const NODE_PASSWORD_NAMESPACE = "kube-system";
export const NODE_PASSWORD_SECRET_TYPE = "kubun.io/node-password";

export function nodePasswordSecretName(nodeName: string): string {
  return `${nodeName}.node-password.kubun`;
}

export function nodePasswordKey(nodeName: string): string {
  return `/registry/core/secrets/${NODE_PASSWORD_NAMESPACE}/${nodePasswordSecretName(nodeName)}`;
}

export class NodePasswordError extends Error {
  constructor(public nodeName: string) {
    super(
      `Node password rejected, duplicate hostname or contents of the node password file may not match the server's ` +
        `entry (secret ${NODE_PASSWORD_NAMESPACE}/${nodePasswordSecretName(nodeName)}): node "${nodeName}" is already ` +
        `joined by another machine; use another --node-name, or delete the Node to free the name`,
    );
  }
}

function hash(password: string, salt: string): string {
  return `sha256$${salt}$${new Bun.CryptoHasher("sha256").update(`${salt}$${password}`).digest("hex")}`;
}

function matches(stored: string, password: string): boolean {
  const [alg, salt] = stored.split("$");
  return alg === "sha256" && !!salt && safeEqual(stored, hash(password, salt));
}

function nowRFC3339(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Accepts the password when it matches the recorded one, or records it when the name has none yet;
 * throws NodePasswordError otherwise.
 */
export async function verifyOrRecordNodePassword(store: Store, nodeName: string, password: string): Promise<void> {
  if (!password) throw new NodePasswordError(nodeName);
  const key = nodePasswordKey(nodeName);
  for (let attempt = 0; attempt < 5; attempt++) {
    const { kv } = await store.get(key);
    if (kv) {
      let stored = "";
      try {
        stored = Buffer.from(JSON.parse(kv.value)?.data?.hash ?? "", "base64").toString("utf8");
      } catch {
        /* unreadable: treated as a mismatch; an admin deletes the Secret or the Node */
      }
      if (matches(stored, password)) return;
      throw new NodePasswordError(nodeName);
    }
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: nodePasswordSecretName(nodeName),
        namespace: NODE_PASSWORD_NAMESPACE,
        uid: crypto.randomUUID(),
        creationTimestamp: nowRFC3339(),
        labels: { "kubun.io/node": nodeName },
      },
      type: NODE_PASSWORD_SECRET_TYPE,
      immutable: true,
      data: { hash: Buffer.from(hash(password, randomHex(8))).toString("base64") },
    };
    try {
      await store.create(key, JSON.stringify(secret));
      return;
    } catch (err) {
      // Two joins of a new name at once: the other one recorded first; compare with it.
      if (err instanceof KeyExistsError || err instanceof ConflictError) continue;
      throw err;
    }
  }
  throw new Error(`could not record the node password of ${nodeName}: too many concurrent joins`);
}

export async function deleteNodePassword(store: Store, nodeName: string): Promise<void> {
  try {
    await store.delete(nodePasswordKey(nodeName));
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}
