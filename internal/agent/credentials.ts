// The agent's node credentials over its lifetime: joined (or taken from the cache) at start, renewed with the node
// token itself once half their lifetime is gone, and — when the server no longer accepts them (the Node was
// deleted, or they expired while the node was off) — obtained again by joining with the join token and the node
// password. Clients read the current tokens through nodeToken()/proxyToken(), so a renewal needs no restart.
// The kubelet's serving key is made here once (<data-dir>/agent/serving/kubelet.key); only its public key is sent,
// and the CA-signed certificate comes back with every join and renewal.
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CredentialsRejectedError, joinCluster, renewNodeCredentials, type NodeCredentials } from "../auth/join.ts";
import { exportKeyPEM, generateKeyPair, importKeyPairPEM, pemEncode } from "../auth/pem.ts";
import { writeAtomic } from "../api/files.ts";
import { logger } from "../log/log.ts";

const log = logger("agent.credentials");

export interface ServingKey {
  keyPEM: string;
  publicKeyPEM: string;
}

/** The kubelet's serving key pair, made once and kept 0600. */
export async function ensureServingKey(dir: string): Promise<ServingKey> {
  const path = join(dir, "kubelet-serving.key");
  mkdirSync(dir, { recursive: true });
  let keyPEM = existsSync(path) ? readFileSync(path, "utf8") : "";
  let pair: CryptoKeyPair;
  if (keyPEM) pair = await importKeyPairPEM(keyPEM);
  else {
    pair = await generateKeyPair();
    keyPEM = await exportKeyPEM(pair.privateKey);
    writeAtomic(path, keyPEM, 0o600);
  }
  const publicKeyPEM = pemEncode(await crypto.subtle.exportKey("spki", pair.publicKey), "PUBLIC KEY");
  return { keyPEM, publicKeyPEM };
}

export interface CredentialManagerOptions {
  /** The server to talk to now (an agent may know several). */
  server: () => string;
  /** Told when a server could not be reached, so the next call picks another. */
  failed?: (server: string, err: unknown) => void;
  joinToken: string;
  nodeName: string;
  dataDir: string;
  addresses: string[];
  servingKey: ServingKey;
  /** How often the server is asked whether the credentials still hold (default 60 s). */
  checkEveryMs?: number;
}

export class NodeCredentialManager {
  private creds?: NodeCredentials;
  private obtainedAt = 0;
  private servingCertListeners: ((certPEM: string) => void)[] = [];

  constructor(private o: CredentialManagerOptions) {}

  /** Joins (retrying with backoff until it works or the signal aborts); false when aborted first. */
  async start(signal: AbortSignal): Promise<boolean> {
    for (let delay = 1000; !this.creds && !signal.aborted; delay = Math.min(delay * 2, 15_000)) {
      const server = this.o.server();
      try {
        this.set(await this.join());
        this.obtainedAt = this.cacheMtime();
      } catch (e) {
        this.o.failed?.(server, e);
        log.warn("joining the cluster failed; retrying", { server, error: e, retryMs: delay });
        await Bun.sleep(delay);
      }
    }
    return !!this.creds;
  }

  get current(): NodeCredentials {
    if (!this.creds) throw new Error("node credentials not obtained yet");
    return this.creds;
  }
  nodeToken = (): string => this.current.nodeToken;
  proxyToken = (): string => this.current.proxyToken ?? "";
  ingressToken = (): string => this.current.ingressToken ?? "";
  verificationKeys = () => this.creds?.kubeletVerificationKeys;

  /** Called with each serving certificate a renewal or re-join brings that differs from the one before. */
  onServingCert(cb: (certPEM: string) => void): void {
    this.servingCertListeners.push(cb);
  }

  /** Renews when half the lifetime is gone; re-joins when the server rejects the node token. Until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const every = this.o.checkEveryMs ?? 60_000;
    while (!signal.aborted) {
      await new Promise<void>((res) => {
        const t = setTimeout(res, every);
        signal.addEventListener("abort", () => (clearTimeout(t), res()), { once: true });
      });
      if (signal.aborted) return;
      await this.refresh().catch((e) => log.warn("node credentials check failed; will retry", { error: e }));
    }
  }

  /** One check: renew if due; join again if the server says the token is no longer valid. */
  async refresh(): Promise<void> {
    const c = this.current;
    const expires = c.expires ? Date.parse(c.expires) : Infinity;
    const due = Date.now() >= this.obtainedAt + (expires - this.obtainedAt) / 2;
    if (!due && (await this.accepted())) return;
    try {
      this.set(await renewNodeCredentials({ server: this.o.server(), current: c, nodeName: this.o.nodeName, servingPublicKey: this.o.servingKey.publicKeyPEM, addresses: this.o.addresses, dataDir: this.o.dataDir }));
      log.info("node credentials renewed", { expires: this.creds!.expires });
    } catch (e) {
      if (!(e instanceof CredentialsRejectedError)) throw e;
      log.warn("the server no longer accepts this node's credentials (Node deleted or credentials expired); joining again");
      this.set(await this.join());
    }
    this.obtainedAt = Date.now();
  }

  private async accepted(): Promise<boolean> {
    try {
      const res = await fetch(this.o.server().replace(/\/+$/, "") + "/api", {
        headers: { authorization: `Bearer ${this.current.nodeToken}` },
        tls: { ca: this.current.caPEM },
        signal: AbortSignal.timeout(10_000),
      });
      return res.status !== 401;
    } catch {
      return true; // unreachable: nothing to do until it answers
    }
  }

  private join(): Promise<NodeCredentials> {
    return joinCluster({
      server: this.o.server(),
      token: this.o.joinToken,
      nodeName: this.o.nodeName,
      dataDir: this.o.dataDir,
      servingPublicKey: this.o.servingKey.publicKeyPEM,
      addresses: this.o.addresses,
    });
  }

  private set(c: NodeCredentials) {
    const before = this.creds?.servingCert;
    this.creds = c;
    if (before && c.servingCert && c.servingCert !== before) for (const cb of this.servingCertListeners) cb(c.servingCert);
  }

  private cacheMtime(): number {
    try {
      return statSync(join(this.o.dataDir, "agent", "cred", "node-credentials.json")).mtimeMs;
    } catch {
      return Date.now();
    }
  }
}
