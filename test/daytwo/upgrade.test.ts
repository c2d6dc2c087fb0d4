// The upgrade path: stop, replace the binary, start — migrations run, data is kept. A data dir made by the previous
// release (ff87543, the last landed release; its sources from git, run with bun) is opened by this checkout's code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { embeddedMigrations } from "../../internal/store/sqlite/migrations.ts";
import { startServerProcess, type ServerProcess } from "../ha/server-process.ts";
import { REPO_TMP, tempDir } from "../helpers/tmpdir.ts";
import { pollUntil } from "../helpers/wait.ts";
import { kubun } from "./cli.ts";

const PREVIOUS_RELEASE = "ff87543";
const ROOT = join(import.meta.dir, "..", "..");
const prevRoot = join(REPO_TMP, `kubun-release-${PREVIOUS_RELEASE}`);

/** The previous release's sources (git archive) with its own dependencies (bun install from its lockfile). */
async function previousRelease(): Promise<string> {
  if (existsSync(join(prevRoot, "node_modules", ".ok"))) return prevRoot;
  mkdirSync(prevRoot, { recursive: true });
  const archive = Bun.spawnSync(["sh", "-c", `git -C "${ROOT}" archive ${PREVIOUS_RELEASE} | tar -x -C "${prevRoot}"`], { stderr: "pipe" });
  if (archive.exitCode !== 0) throw new Error(`git archive ${PREVIOUS_RELEASE}: ${archive.stderr.toString()}`);
  const install = Bun.spawnSync([process.execPath, "install", "--frozen-lockfile", "--production"], { cwd: prevRoot, stderr: "pipe", stdout: "pipe" });
  if (install.exitCode !== 0) throw new Error(`bun install in the previous release: ${install.stderr.toString()}`);
  await Bun.write(join(prevRoot, "node_modules", ".ok"), "");
  return prevRoot;
}

const servers: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let root: string;
beforeAll(async () => {
  root = await previousRelease();
}, 300_000);

async function send(s: ServerProcess, method: string, path: string, body?: unknown): Promise<any> {
  const res = await s.api(path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
  const out = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

describe("upgrade from the previous release", () => {
  test("stop, replace, start: objects, credentials and revisions kept; migrations recorded", async () => {
    const dataDir = tempDir("kubun-upgrade-");
    dirs.push(dataDir);
    // The previous release, with its controllers (their Leases were in the file then).
    const old = await startServerProcess({ dataDir, root });
    servers.push(old);
    await send(old, "POST", "/api/v1/namespaces", { metadata: { name: "upgrade" } });
    const cm = await send(old, "POST", "/api/v1/namespaces/upgrade/configmaps", { metadata: { name: "settings" }, data: { mode: "edge" } });
    const secret = await send(old, "POST", "/api/v1/namespaces/upgrade/secrets", { metadata: { name: "creds" }, stringData: { password: "s3cret" } });
    const svc = await send(old, "POST", "/api/v1/namespaces/upgrade/services", { metadata: { name: "web" }, spec: { ports: [{ port: 80 }], selector: { app: "web" } } });
    // The controller manager of the old release has put the kube-root-ca.crt ConfigMap into the namespace.
    await pollUntil("kube-root-ca.crt", async () => (await old.api("/api/v1/namespaces/upgrade/configmaps/kube-root-ca.crt")).ok, 30_000);
    const listed = await send(old, "GET", "/api/v1/namespaces/upgrade/configmaps");
    const seenRV = Number(listed.metadata.resourceVersion);
    const joinToken = old.joinToken;
    const kubeconfig = readFileSync(old.kubeconfigPath, "utf8");
    expect(await old.kill("SIGTERM")).toBe(0);

    // This checkout's code on the same data dir (it writes the kubeconfig again).
    rmSync(old.kubeconfigPath);
    const cur = await startServerProcess({ dataDir });
    servers.push(cur);
    expect(cur.adminToken).toBe(old.adminToken);
    expect(cur.caPEM).toBe(old.caPEM);
    expect(cur.joinToken).toBe(joinToken);
    expect(readFileSync(cur.kubeconfigPath, "utf8").replace(/:\d+\n/, "")).toBe(kubeconfig.replace(/:\d+\n/, ""));

    const cm2 = await send(cur, "GET", "/api/v1/namespaces/upgrade/configmaps/settings");
    expect(cm2.metadata.uid).toBe(cm.metadata.uid);
    expect(cm2.metadata.resourceVersion).toBe(cm.metadata.resourceVersion);
    expect(cm2.data).toEqual({ mode: "edge" });
    const secret2 = await send(cur, "GET", "/api/v1/namespaces/upgrade/secrets/creds");
    expect(secret2.metadata.uid).toBe(secret.metadata.uid);
    expect(Buffer.from(secret2.data.password, "base64").toString()).toBe("s3cret");
    const svc2 = await send(cur, "GET", "/api/v1/namespaces/upgrade/services/web");
    expect(svc2.spec.clusterIP).toBe(svc.spec.clusterIP);
    // Writes go on above every revision the old release handed out.
    const updated = await send(cur, "PUT", "/api/v1/namespaces/upgrade/configmaps/settings", { ...cm2, data: { mode: "fleet" } });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(seenRV);
    // Every migration of this release is recorded in the upgraded file.
    await cur.kill("SIGTERM");
    const db = new Database(join(dataDir, "server", "db", "state.db"), { readonly: true });
    const recorded = db.query<{ hash: string }, []>(`SELECT hash FROM "__drizzle_migrations" ORDER BY created_at`).all().map((r) => r.hash);
    db.close();
    expect(recorded).toEqual(embeddedMigrations().map((m) => m.hash));

    // And day-2 tools work on the upgraded data.
    const saved = await kubun(["snapshot", "save", "--data-dir", dataDir]);
    expect(saved.code).toBe(0);
  }, 180_000);
});
