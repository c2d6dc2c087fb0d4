// Servers sharing one store share the cluster CA and admin token (encrypted with the join secret), as k3s HA servers.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePKI, ensureTokens, rotateJoinToken } from "../../internal/auth/index.ts";
import { BOOTSTRAP_KEY } from "../../internal/auth/bootstrap.ts";
import { openStore, type Store } from "../../internal/store/index.ts";

let root: string;
let store: Store;
const sans = { dns: [], ips: [] };
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "kubun-ha-"));
  store = await openStore({ dataDir: join(root, "db") });
});
afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

describe("shared bootstrap data", () => {
  test("second server adopts the first one's CA and admin token with the cluster token", async () => {
    const a = join(root, "a");
    const pkiA = await ensurePKI(a, { sans, store });
    const tokA = await ensureTokens(a, { store });
    const stored = (await store.get(BOOTSTRAP_KEY)).kv!.value;
    expect(stored).toContain("BEGIN CERTIFICATE"); // the certificate is public…
    expect(stored).not.toContain("PRIVATE KEY"); // …the key is not
    expect(stored).not.toContain(tokA.adminToken);

    const b = join(root, "b");
    await expect(ensurePKI(b, { sans, store })).rejects.toThrow(/--token/);
    await expect(ensurePKI(b, { sans, store, token: "wrong-secret" })).rejects.toThrow(/can't be decrypted/);
    await expect(ensurePKI(b, { sans, store, token: `K10${"0".repeat(64)}::server:x` })).rejects.toThrow(/different cluster/);

    const pkiB = await ensurePKI(b, { sans, store, token: tokA.joinToken });
    expect(pkiB.caCertPEM).toBe(pkiA.caCertPEM);
    expect(pkiB.caKeyPEM).toBe(pkiA.caKeyPEM);
    expect(pkiB.serverCertPEM).not.toBe(pkiA.serverCertPEM);
    const tokB = await ensureTokens(b, { token: tokA.joinToken, store });
    expect(tokB).toEqual(tokA);

    // the bare secret works too
    const c = join(root, "c");
    const secret = tokA.joinToken.split("::server:")[1]!;
    expect((await ensurePKI(c, { sans, store, token: secret })).caCertPEM).toBe(pkiA.caCertPEM);
  });

  test("token rotation re-seals the bootstrap data: the old secret no longer adopts, the new one does", async () => {
    const a = join(root, "a");
    const old = (await ensureTokens(a, { store })).joinToken;
    const fresh = await rotateJoinToken(a, { store });
    expect(fresh).not.toBe(old);
    expect(fresh.slice(0, 67)).toBe(old.slice(0, 67)); // same CA hash
    expect((await ensureTokens(a, { store })).joinToken).toBe(fresh);
    await expect(ensurePKI(join(root, "d"), { sans, store, token: old })).rejects.toThrow(/can't be decrypted/);
    await ensurePKI(join(root, "e"), { sans, store, token: fresh });
  });
});
