// `kubun certificate check` and `kubun certificate rotate`, as k3s's: every certificate file of this data dir with
// its subject and expiry; rotation (server stopped) moves the serving certificates aside so the next start issues
// new ones. Renewal within 90 days of expiry happens by itself at every start (auth/pki.ts for the API server;
// the kubelet's comes with every credential renewal). The CA is made for 10 years and is never renewed
// automatically: a new CA would break every join token and kubeconfig.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PKI_FILES, tlsDir } from "../auth/paths.ts";
import { credentialsPath } from "../auth/join.ts";
import { requireServerStopped } from "./pidfile.ts";

const DAY = 86_400_000;
export const RENEW_BEFORE_DAYS = 90;

export interface CertificateInfo {
  filename: string;
  subject: string;
  issuer: string;
  usages: string[];
  notBefore: string;
  expires: string;
  residual: string;
  status: "OK" | "WARNING" | "EXPIRED" | "NOT YET VALID";
}

function residual(ms: number): string {
  if (ms <= 0) return "0s";
  const d = Math.floor(ms / DAY);
  if (d >= 365) return `${Math.floor(d / 365)}y${d % 365}d`;
  if (d >= 1) return `${d}d`;
  return `${Math.floor(ms / 3_600_000)}h`;
}

/** The certificate files (PEM) of a data dir: label → PEM text, for those that exist. */
function certificateFiles(dataDir: string): { filename: string; pem: string }[] {
  const out: { filename: string; pem: string }[] = [];
  for (const f of [PKI_FILES.caCert, PKI_FILES.servingCert]) {
    const path = join(tlsDir(dataDir), f);
    if (existsSync(path)) out.push({ filename: path, pem: readFileSync(path, "utf8") });
  }
  // The kubelet's CA-signed serving certificate lives in the agent's cached credentials.
  const creds = credentialsPath(dataDir);
  if (existsSync(creds)) {
    try {
      const c = JSON.parse(readFileSync(creds, "utf8")) as { servingCert?: string };
      if (c.servingCert) out.push({ filename: `${creds}#servingCert`, pem: c.servingCert });
    } catch {
      // unreadable cache: the agent joins again at start
    }
  }
  return out;
}

export async function checkCertificates(dataDir: string, now = new Date()): Promise<CertificateInfo[]> {
  const files = certificateFiles(dataDir);
  if (files.length === 0) throw new Error(`no certificates in ${dataDir}: has kubun run with this --data-dir?`);
  const { parseCertificate } = await import("../auth/x509certs.ts");
  const x509 = await import("@peculiar/x509");
  return files.map(({ filename, pem }) => {
    const cert = parseCertificate(pem);
    const left = cert.notAfter.getTime() - now.getTime();
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    const usages = basic?.ca
      ? ["CertSign"]
      : (eku?.usages ?? []).map((u) => (u === x509.ExtendedKeyUsage.serverAuth ? "ServerAuth" : u === x509.ExtendedKeyUsage.clientAuth ? "ClientAuth" : String(u)));
    const status =
      cert.notBefore.getTime() > now.getTime() ? "NOT YET VALID" : left <= 0 ? "EXPIRED" : left < RENEW_BEFORE_DAYS * DAY ? "WARNING" : "OK";
    return {
      filename,
      subject: cert.subject,
      issuer: cert.issuer,
      usages,
      notBefore: cert.notBefore.toISOString(),
      expires: cert.notAfter.toISOString(),
      residual: residual(left),
      status,
    };
  });
}

export const ROTATABLE = ["kube-apiserver", "kubelet"] as const;

/**
 * Moves the named services' certificates (default: all but the CA) into <tls>/rotate-<unix seconds>/ so the next
 * start issues new ones. Refuses while a server runs on the data dir. Returns the files moved.
 */
export function rotateCertificates(dataDir: string, services: string[] = [...ROTATABLE], now = new Date()): string[] {
  for (const s of services) {
    if (!(ROTATABLE as readonly string[]).includes(s)) throw new Error(`unknown service ${JSON.stringify(s)} (rotatable: ${ROTATABLE.join(", ")}; the CA is not rotated)`);
  }
  requireServerStopped(dataDir, "rotating certificates");
  const backup = join(tlsDir(dataDir), `rotate-${Math.floor(now.getTime() / 1000)}`);
  const moved: string[] = [];
  const move = (path: string) => {
    if (!existsSync(path)) return;
    mkdirSync(backup, { recursive: true, mode: 0o700 });
    const to = join(backup, path.split("/").pop()!);
    renameSync(path, to);
    moved.push(path);
  };
  if (services.includes("kube-apiserver")) {
    for (const f of [PKI_FILES.servingCert, PKI_FILES.servingKey, "serving-kube-apiserver.json"]) move(join(tlsDir(dataDir), f));
  }
  if (services.includes("kubelet")) {
    // Without cached credentials the agent joins again at start (its node password still proves it is this node)
    // and gets a new serving certificate with them.
    const creds = credentialsPath(dataDir);
    if (existsSync(creds)) {
      move(creds);
      rmSync(creds, { force: true });
    }
  }
  return moved;
}
