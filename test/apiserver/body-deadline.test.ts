// The request-body deadline without a wrapped body stream (issue 17, write path): a body that trickles in within the
// deadline is read whole; one that stops past it gets 408 Timeout and the request gives its seat back; a client that
// goes away mid-body leaves the server serving. (The flood case is in flowcontrol.test.ts.)
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "node:tls";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
const BODY_TIMEOUT_MS = 1500;
let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster({ flowControl: { requestBodyTimeoutMs: BODY_TIMEOUT_MS } });
});
afterAll(async () => {
  await c?.stop();
});

/** Sends the request head, then the body in parts with pauses; resolves with the raw answer (or what came before close). */
function rawWrite(path: string, parts: string[], pauseMs: number, opts: { closeAfterParts?: boolean } = {}): Promise<{ status: number; text: string }> {
  const body = parts.join("");
  const socket = connect({ host: "127.0.0.1", port: c.port, ca: c.caPEM, servername: "localhost" });
  let text = "";
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const end = text.indexOf("\r\n\r\n");
      const len = /\r\ncontent-length: (\d+)/i.exec(text);
      if (!m || end < 0 || (len && text.length < end + 4 + Number(len[1]))) return;
      done = true;
      socket.destroy();
      resolve({ status: Number(m[1]), text });
    };
    socket.on("data", (d) => {
      text += d.toString();
      finish();
    });
    socket.on("close", () => {
      finish();
      if (!done) resolve({ status: 0, text });
      done = true;
    });
    socket.on("error", () => {});
    socket.on("secureConnect", async () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${c.adminToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body) + (opts.closeAfterParts ? 100 : 0)}\r\n\r\n`,
      );
      for (const p of parts) {
        socket.write(p);
        await Bun.sleep(pauseMs);
      }
      if (opts.closeAfterParts) socket.destroy();
    });
  });
}

describe("request-body deadline", () => {
  test("a body that trickles in within the deadline is read whole", async () => {
    const body = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "trickled" }, data: { a: "b" } });
    const parts = [body.slice(0, 10), body.slice(10, 30), body.slice(30)];
    const r = await rawWrite("/api/v1/namespaces/default/configmaps", parts, 200);
    expect(r.status).toBe(201);
    const got = await (await c.api("/api/v1/namespaces/default/configmaps/trickled")).json();
    expect(got.data).toEqual({ a: "b" });
  });

  test("a body that stops arriving gets 408 Timeout after the deadline", async () => {
    // Content-Length promises more than is sent: the server waits for the rest until the deadline.
    const socket = connect({ host: "127.0.0.1", port: c.port, ca: c.caPEM, servername: "localhost" });
    const answer = new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
        if (/\r\n\r\n[\s\S]*\}$/.test(text)) resolve(text);
      });
      socket.on("close", () => resolve(text));
      socket.on("error", () => {});
    });
    socket.on("secureConnect", () => {
      socket.write(
        `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${c.adminToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"apiVersion":"v1",`,
      );
    });
    const text = await answer;
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('"reason":"Timeout"');
    expect(text).toContain("request body was not received within 1.5s");
    // The server still serves writes.
    const ok = await c.api("/api/v1/namespaces/default/configmaps", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ metadata: { name: "after-timeout" } }) });
    expect(ok.status).toBe(201);
  });

  test("a client that goes away mid-body leaves nothing stored and the server serving", async () => {
    const body = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "half" } });
    await rawWrite("/api/v1/namespaces/default/configmaps", [body.slice(0, 20)], 100, { closeAfterParts: true });
    await Bun.sleep(200);
    expect((await c.api("/api/v1/namespaces/default/configmaps/half")).status).toBe(404);
    const ok = await c.api("/api/v1/namespaces/default/configmaps", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ metadata: { name: "after-disconnect" } }) });
    expect(ok.status).toBe(201);
  });
});
