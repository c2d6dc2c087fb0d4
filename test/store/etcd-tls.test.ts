// etcd over TLS with client certificates (k3s's --datastore-cafile/-certfile/-keyfile): the store and a real
// `kubun server` process reach an etcd that requires a client certificate; without one they fail with a clear error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../internal/store/index.ts";
import { startEtcd, type EtcdServer, type EtcdTLS } from "./fixtures/etcd.ts";
import { startServerProcess, type ServerProcess } from "../ha/server-process.ts";

const dir = join(import.meta.dir, "..", "..", ".tmp", `etcd-tls-${process.pid}`);
let tls: EtcdTLS;
let etcd: EtcdServer;
const servers: ServerProcess[] = [];

function openssl(...args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
}

/** A throwaway CA, an etcd serving certificate for 127.0.0.1 and a client certificate, all made with openssl. */
function makeCerts(): EtcdTLS {
  mkdirSync(dir, { recursive: true });
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=etcd-test-ca");
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [name, ext] of [["server", "server.ext"], ["client", "client.ext"]]) {
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "1", "-extfile", ext!);
  }
  const f = (n: string) => join(dir, n);
  return { caFile: f("ca.crt"), certFile: f("server.crt"), keyFile: f("server.key"), clientCertFile: f("client.crt"), clientKeyFile: f("client.key") };
}

beforeAll(async () => {
  tls = makeCerts();
  etcd = await startEtcd({ tls });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.cleanup()));
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("etcd over TLS", () => {
  test("the store writes and reads with the CA and a client certificate", async () => {
    const store = await openStore({ dataDir: dir, etcdEndpoints: [etcd.endpoint], etcdTLS: { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile } });
    try {
      const created = await store.create("/registry/configmaps/default/tls", '{"a":1}');
      const got = await store.get("/registry/configmaps/default/tls");
      expect(got.kv?.modRevision).toBe(created.modRevision);
      expect(got.kv?.value).toBe('{"a":1}');
    } finally {
      await store.close();
    }
  });

  test("a serving certificate not made for the endpoint's IP, or from another CA, is refused", async () => {
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key", "-out", "other.crt", "-days", "1", "-subj", "/CN=other-ca");
    await expect(openStore({ dataDir: dir, etcdEndpoints: [etcd.endpoint], etcdTLS: { caFile: join(dir, "other.crt"), certFile: tls.clientCertFile, keyFile: tls.clientKeyFile } })).rejects.toThrow(/is not reachable/);
    // The same etcd reached as 127.0.0.2: its certificate names 127.0.0.1 only.
    const other = etcd.endpoint.replace("127.0.0.1", "127.0.0.2");
    await expect(openStore({ dataDir: dir, etcdEndpoints: [other], etcdTLS: { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile } })).rejects.toThrow(/is not reachable/);
  });

  test("without a client certificate etcd refuses and the store says so", async () => {
    await expect(openStore({ dataDir: dir, etcdEndpoints: [etcd.endpoint], etcdTLS: { caFile: tls.caFile } })).rejects.toThrow(/is not reachable/);
  });

  test("kubun server with --datastore-cafile/-certfile/-keyfile serves from the TLS etcd", async () => {
    const s = await startServerProcess({
      etcdEndpoints: [etcd.endpoint],
      token: `tls-${crypto.randomUUID()}`,
      args: ["--datastore-cafile", tls.caFile, "--datastore-certfile", tls.clientCertFile, "--datastore-keyfile", tls.clientKeyFile, "--disable-scheduler", "--disable-controller-manager"],
    });
    servers.push(s);
    const r = await s.api("/api/v1/namespaces/default/configmaps", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ metadata: { name: "over-tls" }, data: { x: "y" } }) });
    expect(r.status).toBe(201);
    expect(((await (await s.api("/api/v1/namespaces/default/configmaps/over-tls")).json()) as { data?: unknown }).data).toEqual({ x: "y" });
  }, 90_000);

  test("a certificate without its key is one line and exit code 2", async () => {
    const emptyConfig = join(dir, "empty.yaml");
    writeFileSync(emptyConfig, "");
    const p = Bun.spawn(["bun", join(import.meta.dir, "../../cmd/kubun.ts"), "server", "--datastore-endpoint", etcd.endpoint, "--datastore-certfile", tls.clientCertFile], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, KUBUN_CONFIG_FILE: emptyConfig },
    });
    const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toEqual(["kubun: --datastore-certfile and --datastore-keyfile go together"]);
  });
});
