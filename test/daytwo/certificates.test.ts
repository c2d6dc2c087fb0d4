// kubun certificate check/rotate, and renewal at start of a serving certificate within 90 days of expiry.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import { join } from "node:path";
import { ensureServingKey } from "../../internal/agent/credentials.ts";
import { joinCluster } from "../../internal/auth/join.ts";
import { exportKeyPEM } from "../../internal/auth/pem.ts";
import { createServing, parseCertificate } from "../../internal/auth/x509certs.ts";
import { startServerProcess, type ServerProcess } from "../ha/server-process.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { kubun } from "./cli.ts";

const DAY = 86_400_000;
const servers: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A data dir under .tmp, removed after the file's tests (once its servers are stopped). */
function dataDirFor(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

async function start(dataDir: string): Promise<ServerProcess> {
  const s = await startServerProcess({ dataDir, args: ["--disable-snapshots", "--disable-scheduler", "--disable-controller-manager"] });
  servers.push(s);
  return s;
}

/** The certificate the API server presents right now. */
function servedCert(port: number): Promise<{ validTo: Date; serial: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const c = sock.getPeerCertificate();
      sock.end();
      resolve({ validTo: new Date(c.valid_to), serial: c.serialNumber.toLowerCase() });
    });
    sock.on("error", reject);
  });
}

const check = async (dataDir: string) => {
  const r = await kubun(["certificate", "check", "--data-dir", dataDir, "-o", "json"]);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as { filename: string; subject: string; usages: string[]; expires: string; status: string }[];
};

describe("kubun certificate", () => {
  test("check lists each certificate with subject and expiry; rotate needs the server stopped and renews at start", async () => {
    const dataDir = dataDirFor("kubun-certs-");
    const tls = join(dataDir, "server", "tls");
    let s = await start(dataDir);
    // A node joined through this server, with its kubelet serving certificate in the agent's credentials.
    const key = await ensureServingKey(join(dataDir, "agent", "serving"));
    await joinCluster({ server: s.url, token: s.joinToken, nodeName: "cert-node", dataDir, servingPublicKey: key.publicKeyPEM, addresses: ["127.0.0.1"] });

    const list = await check(dataDir);
    const byFile = new Map(list.map((c) => [c.filename.split("/").pop()!, c]));
    const ca = byFile.get("server-ca.crt")!;
    expect(ca.subject).toMatch(/^CN=kubun-server-ca@\d+$/);
    expect(ca.usages).toEqual(["CertSign"]);
    expect(ca.status).toBe("OK");
    // The CA is made for ten years.
    expect(Date.parse(ca.expires) - Date.now()).toBeGreaterThan(3649 * DAY);
    const serving = byFile.get("serving-kube-apiserver.crt")!;
    expect(serving.subject).toBe("CN=kube-apiserver, O=kubun");
    expect(serving.usages).toEqual(["ServerAuth"]);
    expect(Math.abs(Date.parse(serving.expires) - (Date.now() + 365 * DAY))).toBeLessThan(2 * DAY);
    const kubelet = byFile.get("node-credentials.json#servingCert")!;
    expect(kubelet.subject).toBe("CN=system:node:cert-node, O=system:nodes");
    expect(kubelet.status).toBe("OK");
    const table = (await kubun(["certificate", "check", "--data-dir", dataDir])).stdout.split("\n");
    expect(table[0]).toMatch(/^FILENAME\s+SUBJECT\s+USAGES\s+EXPIRES\s+RESIDUAL TIME\s+STATUS$/);
    expect(table.find((l) => l.includes("serving-kube-apiserver.crt"))).toMatch(/ServerAuth\s+\S+Z\s+(364|365)d\s+OK$/);

    const refused = await kubun(["certificate", "rotate", "--data-dir", dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`kubun: rotating certificates needs the server stopped, but kubun server (pid ${s.pid}) is running on ${dataDir}: stop it first (systemctl stop kubun)\n`);
    const before = await servedCert(s.port);

    // Within 90 days of expiry: renewed at the next start (k3s's rule).
    expect(await s.kill("SIGTERM")).toBe(0);
    const caPEM = readFileSync(join(tls, "server-ca.crt"), "utf8");
    const caKey = readFileSync(join(tls, "server-ca.key"), "utf8");
    const old = await createServing({ certPEM: caPEM, keyPEM: caKey }, { dns: ["localhost"], ips: ["127.0.0.1"] }, new Date(Date.now() - 300 * DAY), 365);
    writeFileSync(join(tls, "serving-kube-apiserver.crt"), old.certPEM);
    writeFileSync(join(tls, "serving-kube-apiserver.key"), await exportKeyPEM(old.keys.privateKey));
    rmSync(join(tls, "serving-kube-apiserver.json"));
    const soon = (await check(dataDir)).find((c) => c.filename.endsWith("serving-kube-apiserver.crt"))!;
    expect(soon.status).toBe("WARNING");
    expect(Math.round((Date.parse(soon.expires) - Date.now()) / DAY)).toBe(65);
    s = await start(dataDir);
    const renewed = (await check(dataDir)).find((c) => c.filename.endsWith("serving-kube-apiserver.crt"))!;
    expect(renewed.status).toBe("OK");
    expect(Date.parse(renewed.expires) - Date.now()).toBeGreaterThan(364 * DAY);
    const served = await servedCert(s.port);
    expect(served.validTo.getTime()).toBeGreaterThan(Date.now() + 364 * DAY);
    expect(served.serial).not.toBe(before.serial);
    expect((await s.api("/readyz")).status).toBe(200);

    // rotate (stopped): the serving certificates are moved aside and new ones are issued at start; the CA stays.
    expect(await s.kill("SIGTERM")).toBe(0);
    const rotated = await kubun(["certificate", "rotate", "--data-dir", dataDir]);
    expect(rotated.stderr).toBe("");
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain("Certificates rotated: new ones are issued when kubun starts.");
    expect(existsSync(join(tls, "serving-kube-apiserver.crt"))).toBe(false);
    expect(existsSync(join(dataDir, "agent", "cred", "node-credentials.json"))).toBe(false);
    const backups = readdirSync(tls).filter((f) => f.startsWith("rotate-"));
    expect(backups).toHaveLength(1);
    expect(readdirSync(join(tls, backups[0]!)).sort()).toEqual(["node-credentials.json", "serving-kube-apiserver.crt", "serving-kube-apiserver.json", "serving-kube-apiserver.key"]);
    expect((await check(dataDir)).map((c) => c.filename.split("/").pop())).toEqual(["server-ca.crt"]);
    s = await start(dataDir);
    const after = await servedCert(s.port);
    expect(after.serial).not.toBe(served.serial);
    expect(readFileSync(join(tls, "server-ca.crt"), "utf8")).toBe(caPEM);
    // Clients that trust the CA keep working (the kubeconfig is unchanged).
    expect((await s.api("/api/v1/namespaces")).status).toBe(200);
    expect(parseCertificate(readFileSync(join(tls, "serving-kube-apiserver.crt"), "utf8")).subject).toBe("CN=kube-apiserver, O=kubun");
  }, 120_000);

  test("bad input", async () => {
    const dataDir = dataDirFor("kubun-certs-bad-");
    const none = await kubun(["certificate", "check", "--data-dir", dataDir]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`kubun: no certificates in ${dataDir}: has kubun run with this --data-dir?\n`);
    const bogus = await kubun(["certificate", "rotate", "--service", "etcd", "--data-dir", dataDir]);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toBe('kubun: unknown service "etcd" (rotatable: kube-apiserver, kubelet; the CA is not rotated)\n');
    const fmt = await kubun(["certificate", "check", "--data-dir", dataDir, "-o", "yaml"]);
    expect(fmt.code).not.toBe(0);
  });
});
