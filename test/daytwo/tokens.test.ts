// kubun token create/list/delete: extra join tokens (bootstrap tokens in kube-system) made through the running
// server; an agent-style join (joinCluster) with one works until the token is deleted or expires.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CredentialsRejectedError, joinCluster } from "../../internal/auth/join.ts";
import { startServerProcess, type ServerProcess } from "../ha/server-process.ts";
import { kubun } from "./cli.ts";

let s: ServerProcess;
beforeAll(async () => {
  s = await startServerProcess({ args: ["--disable-snapshots", "--disable-scheduler", "--disable-controller-manager"] });
});
afterAll(async () => {
  await s?.cleanup();
});

const token = (...args: string[]) => kubun(["token", ...args, "--kubeconfig", s.kubeconfigPath, "--data-dir", s.dataDir]);
const join = (t: string, nodeName: string) => joinCluster({ server: s.url, token: t, nodeName, timeoutMs: 10_000 });

describe("kubun token", () => {
  test("create → list → join with it → delete → the join is refused", async () => {
    const created = await token("create", "--ttl", "2h", "--description", "pi fleet, batch 3");
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const full = created.stdout.trim();
    // K10<sha256 of the CA>::<id>.<secret>: agents check the server's CA before they send it.
    const caHash = s.joinToken.slice(3, 67);
    expect(full).toMatch(new RegExp(`^K10${caHash}::[a-z0-9]{6}\\.[a-z0-9]{16}$`));
    const id = full.split("::")[1]!.slice(0, 6);

    const listed = JSON.parse((await token("list", "-o", "json")).stdout) as any[];
    const mine = listed.find((t) => t.id === id);
    expect(mine).toMatchObject({ token: full, description: "pi fleet, batch 3", usages: ["authentication", "signing"], groups: ["system:bootstrappers:kubun:default-node-token"] });
    const left = Date.parse(mine.expires) - Date.now();
    expect(left).toBeGreaterThan(110 * 60_000);
    expect(left).toBeLessThanOrEqual(2 * 3600_000);
    const table = (await token("list")).stdout.split("\n");
    expect(table[0]).toMatch(/^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS$/);
    expect(table.find((l) => l.startsWith(full))).toMatch(/\s1h\s+\S+Z\s+authentication,signing\s+pi fleet, batch 3\s+system:bootstrappers/);

    // Stored as upstream's bootstrap token Secret.
    const secret = (await (await s.api(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${id}`)).json()) as any;
    expect(secret.type).toBe("bootstrap.kubernetes.io/token");
    expect(Buffer.from(secret.data["token-id"], "base64").toString()).toBe(id);
    expect(Buffer.from(secret.data["usage-bootstrap-authentication"], "base64").toString()).toBe("true");

    const creds = await join(full, "pi-joined-with-token");
    expect(creds.nodeToken).toBeTruthy();
    expect(creds.caPEM).toBe(s.caPEM);
    // The bare form (no CA hash: the CA is trusted on first use) works too.
    expect((await join(full.split("::")[1]!, "pi-bare-token")).nodeToken).toBeTruthy();
    // The node's own credentials work against the API.
    expect((await s.api("/api/v1/nodes", { token: creds.nodeToken })).status).not.toBe(401);

    const deleted = await token("delete", id);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`bootstrap token "${id}" deleted\n`);
    await expect(join(full, "pi-after-delete")).rejects.toBeInstanceOf(CredentialsRejectedError);
    expect((await token("list", "-o", "json")).stdout).not.toContain(id);
    // The server's own join token is unaffected.
    expect((await join(s.joinToken, "pi-server-token")).nodeToken).toBeTruthy();
  }, 60_000);

  test("an expired token is refused and listed as <invalid>", async () => {
    const created = await token("create", "--ttl", "2s");
    const full = created.stdout.trim();
    const id = full.split("::")[1]!.slice(0, 6);
    expect((await join(full, "pi-before-expiry")).nodeToken).toBeTruthy();
    await Bun.sleep(2500);
    await expect(join(full, "pi-after-expiry")).rejects.toBeInstanceOf(CredentialsRejectedError);
    const table = (await token("list")).stdout;
    expect(table).toMatch(new RegExp(`::${id}\\.[a-z0-9]{16}\\s+<invalid>`));
    // A token without the authentication usage does not let a node join.
    const signing = (await token("create", "--usages", "signing")).stdout.trim();
    await expect(join(signing, "pi-signing-only")).rejects.toBeInstanceOf(CredentialsRejectedError);
    // --ttl 0: never expires.
    const forever = JSON.parse((await token("list", "-o", "json")).stdout).length;
    const f = await token("create", "--ttl", "0", "abcdef.0123456789abcdef");
    expect(f.stdout.trim()).toEndWith("::abcdef.0123456789abcdef");
    const again = JSON.parse((await token("list", "-o", "json")).stdout) as any[];
    expect(again).toHaveLength(forever + 1);
    expect(again.find((t) => t.id === "abcdef")).toMatchObject({ ttl: "<forever>" });
    expect(again.find((t) => t.id === "abcdef").expires).toBeUndefined();
  }, 60_000);

  test("bad input: one line and a non-zero exit", async () => {
    const badTTL = await token("create", "--ttl", "tomorrow");
    expect(badTTL.code).toBe(1);
    expect(badTTL.stderr).toBe('kubun: invalid --ttl "tomorrow": want a duration like 24h, 30m or 0 (never expires)\n');
    const badUsage = await token("create", "--usages", "root");
    expect(badUsage.stderr).toBe('kubun: invalid --usages "root": valid usages are authentication, signing\n');
    const badToken = await token("create", "short.token");
    expect(badToken.stderr).toBe('kubun: invalid token "short.token": want [a-z0-9]{6}.[a-z0-9]{16}\n');
    const dup = await token("create", "abcdeg.0123456789abcdef");
    expect(dup.code).toBe(0);
    const dup2 = await token("create", "abcdeg.0123456789abcdef");
    expect(dup2.stderr).toBe('kubun: a bootstrap token with id "abcdeg" already exists\n');
    const missing = await token("delete", "zzzzzz");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('kubun: bootstrap token "zzzzzz" not found\n');
    const noKubeconfig = await kubun(["token", "list", "--kubeconfig", "/nonexistent/kc.yaml"]);
    expect(noKubeconfig.code).toBe(1);
    expect(noKubeconfig.stderr).toMatch(/^kubun: cannot read the admin kubeconfig \/nonexistent\/kc.yaml \(--kubeconfig\)/);
  }, 60_000);
});

describe("token cleaner", () => {
  test("the controller manager deletes a bootstrap token once it has expired, and keeps the others", async () => {
    const cm = await startServerProcess({ args: ["--disable-snapshots", "--disable-scheduler"] });
    try {
      const run = (...args: string[]) => kubun(["token", ...args, "--kubeconfig", cm.kubeconfigPath]);
      const short = (await run("create", "--ttl", "2s", "aaaaaa.0123456789abcdef")).stdout.trim();
      expect(short).toEndWith("::aaaaaa.0123456789abcdef");
      expect((await run("create", "--ttl", "1h", "bbbbbb.0123456789abcdef")).code).toBe(0);
      expect((await cm.api("/api/v1/namespaces/kube-system/secrets/bootstrap-token-aaaaaa")).status).toBe(200);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (await cm.api("/api/v1/namespaces/kube-system/secrets/bootstrap-token-aaaaaa")).status !== 404) await Bun.sleep(200);
      expect((await cm.api("/api/v1/namespaces/kube-system/secrets/bootstrap-token-aaaaaa")).status).toBe(404);
      expect((await cm.api("/api/v1/namespaces/kube-system/secrets/bootstrap-token-bbbbbb")).status).toBe(200);
      expect(cm.log()).toContain("deleted expired bootstrap token");
    } finally {
      await cm.cleanup();
    }
  }, 60_000);
});
