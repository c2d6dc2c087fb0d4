// A renewed serving certificate is served at once on the kubelet's port (a node up for longer than a certificate's
// 365 days stays reachable for logs and exec), while a connection made before the renewal keeps working.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";
import { exportKeyPEM } from "../../internal/auth/pem.ts";
import { createSelfSignedServingCert } from "../../internal/auth/x509certs.ts";
import { startKubeletServer } from "../../internal/kubelet/server.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const dir = tempDir("kubun-serving-");
let stop: (() => void) | undefined;
afterAll(() => {
  stop?.();
  rmSync(dir, { recursive: true, force: true });
});

async function cert(cn: string) {
  const { certPEM, keys } = await createSelfSignedServingCert({ commonName: cn, days: 1, ips: ["127.0.0.1"] });
  return { cert: certPEM, key: await exportKeyPEM(keys.privateKey) };
}

function open(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => resolve(s));
    s.once("error", reject);
  });
}

/** GET /healthz over an open connection (keep-alive): the body. */
function healthz(s: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("\r\n\r\n") && buf.endsWith("ok")) {
        s.off("data", onData);
        resolve(buf.slice(buf.indexOf("\r\n\r\n") + 4));
      }
    };
    s.on("data", onData);
    s.once("error", reject);
    s.write("GET /healthz HTTP/1.1\r\nHost: kubelet\r\n\r\n");
  });
}

test("a new serving certificate reaches new connections on the same port; one made before stays served", async () => {
  const [a, b] = [await cert("kubelet-a"), await cert("kubelet-b")];
  const server = await startKubeletServer({ kubelet: {} as any, client: {} as any, runtime: {} as any, port: 0, bindAddress: "127.0.0.1", certDir: dir, nodeName: "n", servingCert: a });
  stop = server.stop;
  const before = await open(server.port);
  expect(before.getPeerCertificate().subject.CN).toBe("kubelet-a");

  server.setServingCert(b);
  const after = await open(server.port);
  expect(after.getPeerCertificate().subject.CN).toBe("kubelet-b");
  expect(await healthz(after)).toBe("ok");
  // The stream opened before the renewal (an exec, a `logs -f`) is not cut.
  expect(await healthz(before)).toBe("ok");
  before.destroy();
  after.destroy();
  // The port stays exclusive (no SO_REUSEPORT): a second agent started by mistake fails on it instead of sharing it.
  expect(() => Bun.serve({ port: server.port, hostname: "127.0.0.1", fetch: () => new Response("") })).toThrow();
  // Every later connection gets the new certificate.
  for (let i = 0; i < 5; i++) {
    const s = await open(server.port);
    expect(s.getPeerCertificate().subject.CN).toBe("kubelet-b");
    s.destroy();
  }
});
