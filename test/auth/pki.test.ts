import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePKI, ensureTokens, writeKubeconfig, parseCertificate, parseToken, caHash, tlsDir, PKI_FILES } from "../../internal/auth/index.ts";
import { parse } from "yaml";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kubun-pki-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sans = { dns: ["node-a.example"], ips: ["127.0.0.2"] };

describe("ensurePKI", () => {
  test("creates CA and serving cert with keys 0600 and the wanted SANs", async () => {
    const pki = await ensurePKI(dir, { sans });
    const t = tlsDir(dir);
    expect(statSync(join(t, PKI_FILES.caKey)).mode & 0o777).toBe(0o600);
    expect(statSync(join(t, PKI_FILES.servingKey)).mode & 0o777).toBe(0o600);
    const cert = await parseCertificate(pki.serverCertPEM);
    const san = cert.getExtension("2.5.29.17")!;
    const text = san.toString("text");
    for (const n of ["node-a.example", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]) {
      expect(text).toContain(n);
    }
    for (const ip of ["127.0.0.1", "127.0.0.2", "10.43.0.1"]) expect(text).toContain(ip);
    const ca = await parseCertificate(pki.caCertPEM);
    expect(ca.subject).toStartWith("CN=kubun-server-ca@");
  });

  test("openssl verifies the chain and the extensions Go needs", async () => {
    const t = tlsDir(dir);
    const v = Bun.spawnSync(["openssl", "verify", "-CAfile", join(t, PKI_FILES.caCert), "-purpose", "sslserver", join(t, PKI_FILES.servingCert)]);
    expect(v.stdout.toString()).toContain(": OK");
    const text = Bun.spawnSync(["openssl", "x509", "-noout", "-text", "-in", join(t, PKI_FILES.caCert)]).stdout.toString();
    expect(text).toContain("CA:TRUE");
    expect(text).toContain("Certificate Sign");
    const srv = Bun.spawnSync(["openssl", "x509", "-noout", "-text", "-in", join(t, PKI_FILES.servingCert)]).stdout.toString();
    expect(srv).toContain("TLS Web Server Authentication");
    expect(srv).toContain("X509v3 Authority Key Identifier");
    expect(srv).toContain("X509v3 Subject Key Identifier");
  });

  test("second call keeps everything; SAN change re-issues the serving cert only", async () => {
    const a = await ensurePKI(dir, { sans });
    const b = await ensurePKI(dir, { sans });
    expect(b).toEqual(a);
    const c = await ensurePKI(dir, { sans: { dns: [], ips: ["127.0.0.3"] } });
    expect(c.caCertPEM).toBe(a.caCertPEM);
    expect(c.caKeyPEM).toBe(a.caKeyPEM);
    expect(c.serverCertPEM).not.toBe(a.serverCertPEM);
    expect((await parseCertificate(c.serverCertPEM)).getExtension("2.5.29.17")!.toString("text")).toContain("127.0.0.3");
    // back to the original names for the other tests
    await ensurePKI(dir, { sans });
  });

  test("near-expiry serving cert is renewed", async () => {
    const a = await ensurePKI(dir, { sans });
    const later = new Date(Date.now() + 300 * 86_400_000);
    const b = await ensurePKI(dir, { sans, now: later });
    expect(b.serverCertPEM).not.toBe(a.serverCertPEM);
    expect(b.caCertPEM).toBe(a.caCertPEM);
    await ensurePKI(dir, { sans: { dns: [], ips: [] } }); // re-issue with the real clock
    await ensurePKI(dir, { sans });
  });

  test("a serving cert not signed by our CA (swapped files) is re-issued; the sidecar records what was issued", async () => {
    const a = await ensurePKI(dir, { sans });
    const other = mkdtempSync(join(tmpdir(), "kubun-pki2-"));
    try {
      const foreign = await ensurePKI(other, { sans });
      writeFileSync(join(tlsDir(dir), PKI_FILES.servingCert), foreign.serverCertPEM);
      writeFileSync(join(tlsDir(dir), PKI_FILES.servingKey), foreign.serverKeyPEM);
      const b = await ensurePKI(dir, { sans });
      expect(b.serverCertPEM).not.toBe(foreign.serverCertPEM);
      expect(b.caCertPEM).toBe(a.caCertPEM);
      const v = Bun.spawnSync(["openssl", "verify", "-CAfile", join(tlsDir(dir), PKI_FILES.caCert), join(tlsDir(dir), PKI_FILES.servingCert)]);
      expect(v.stdout.toString()).toContain(": OK");
      const rec = JSON.parse(readFileSync(join(tlsDir(dir), "serving-kube-apiserver.json"), "utf8"));
      expect(rec.sans.dns).toContain("node-a.example");
      expect(rec.certHash).toBe(new Bun.CryptoHasher("sha256").update(b.serverCertPEM).digest("hex"));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test("Bun fetch and kubectl accept the serving cert with the CA", async () => {
    const pki = await ensurePKI(dir, { sans });
    const { adminToken } = await ensureTokens(dir);
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { cert: pki.serverCertPEM, key: pki.serverKeyPEM },
      fetch(req) {
        if (req.headers.get("authorization") !== `Bearer ${adminToken}`) return new Response("unauthorized", { status: 401 });
        return new Response("ok");
      },
    });
    try {
      const url = `https://127.0.0.1:${server.port}`;
      const r = await fetch(`${url}/healthz`, { headers: { authorization: `Bearer ${adminToken}` }, tls: { ca: pki.caCertPEM } });
      expect(await r.text()).toBe("ok");
      // without the CA the certificate must be refused
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();

      const kc = join(dir, "kube", "config.yaml");
      writeKubeconfig(kc, { server: url, caPEM: pki.caCertPEM, token: adminToken });
      const out = Bun.spawn(["/usr/bin/kubectl", "--kubeconfig", kc, "get", "--raw", "/healthz"], { stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(out.stdout).text(), new Response(out.stderr).text(), out.exited]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(stdout).toBe("ok");
      // kubectl by name (localhost SAN) too
      writeKubeconfig(kc, { server: `https://localhost:${server.port}`, caPEM: pki.caCertPEM, token: adminToken });
      const out2 = Bun.spawn(["/usr/bin/kubectl", "--kubeconfig", kc, "get", "--raw", "/healthz"], { stdout: "pipe", stderr: "pipe" });
      expect(await new Response(out2.stdout).text()).toBe("ok");
      expect(await out2.exited).toBe(0);
    } finally {
      server.stop(true);
    }
  });
});

describe("ensureTokens / writeKubeconfig", () => {
  test("join token is K10<sha256 of CA PEM on disk>::server:<secret>, stable across calls", async () => {
    await ensurePKI(dir, { sans });
    const t1 = await ensureTokens(dir);
    const t2 = await ensureTokens(dir);
    expect(t2).toEqual(t1);
    const caPEM = readFileSync(join(tlsDir(dir), PKI_FILES.caCert));
    const hash = new Bun.CryptoHasher("sha256").update(caPEM).digest("hex");
    expect(t1.joinToken).toMatch(new RegExp(`^K10${hash}::server:[0-9a-f]{64}$`));
    expect(readFileSync(join(dir, "server", "token"), "utf8").trim()).toBe(t1.joinToken);
    // k3s's well-known path
    expect(readFileSync(join(dir, "server", "node-token"), "utf8").trim()).toBe(t1.joinToken);
    expect(statSync(join(dir, "server", "token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "server", "cred", "admin-token")).mode & 0o777).toBe(0o600);
    expect(t1.adminToken).toMatch(/^[0-9a-f]{64}$/);
    const p = parseToken(t1.joinToken);
    expect(p.caHash).toBe(hash);
    expect(p.username).toBe("server");
  });

  test("--token: bare secret is wrapped; a K10 token for another CA is refused", async () => {
    const d = mkdtempSync(join(tmpdir(), "kubun-tok-"));
    try {
      const pki = await ensurePKI(d, { sans });
      const t = await ensureTokens(d, { token: "mysecret" });
      expect(t.joinToken).toBe(`K10${caHash(pki.caCertPEM)}::server:mysecret`);
      await expect(ensureTokens(d, { token: `K10${"0".repeat(64)}::server:x` })).rejects.toThrow(/CA hash/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test("parseToken rejects malformed tokens and accepts short ones", () => {
    expect(() => parseToken("")).toThrow();
    expect(() => parseToken("K10abc::server:x")).toThrow(/sha256/);
    expect(() => parseToken(`K10${"a".repeat(64)}server:x`)).toThrow(/separator/);
    expect(parseToken("plainsecret")).toEqual({ secret: "plainsecret" });
  });

  test("kubeconfig: k3s layout, mode 0600 by default, custom mode honoured", () => {
    const p = join(dir, "a", "b", "kubeconfig.yaml");
    writeKubeconfig(p, { server: "https://127.0.0.1:1", caPEM: "PEM", token: "tok" });
    expect(statSync(p).mode & 0o777).toBe(0o600);
    const y = parse(readFileSync(p, "utf8"));
    expect(y["current-context"]).toBe("default");
    expect(y.clusters[0]).toEqual({ name: "default", cluster: { server: "https://127.0.0.1:1", "certificate-authority-data": Buffer.from("PEM").toString("base64") } });
    expect(y.users[0]).toEqual({ name: "default", user: { token: "tok" } });
    expect(y.contexts[0]).toEqual({ name: "default", context: { cluster: "default", user: "default" } });
    writeKubeconfig(p, { server: "https://127.0.0.1:1", caPEM: "PEM", token: "tok", mode: 0o644 });
    expect(statSync(p).mode & 0o777).toBe(0o644);
  });
});
