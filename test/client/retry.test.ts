// A connection reset before any answer (a pooled keep-alive socket the server just closed) is retried;
// a generateName create is not, since the first try may have made an object.
import { afterEach, expect, test } from "bun:test";
import { createClient, refs } from "../../internal/client/index.ts";

let srv: { stop(closeActive?: boolean): void } | undefined;
afterEach(() => srv?.stop(true));

/** A raw HTTP server that drops the first `drops` requests without answering. */
function flaky(drops: number) {
  let seen = 0;
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(sock) {
        seen++;
        if (seen <= drops) {
          sock.terminate();
          return;
        }
        const body = JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" } });
        sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
        sock.end();
      },
    },
  });
  srv = listener;
  return { url: `http://127.0.0.1:${listener.port}`, seen: () => seen };
}

test("GET and named creates are retried after a reset", async () => {
  const s = flaky(2);
  const pods = createClient({ server: s.url, token: "t" }).resource<any>(refs.pods, "default");
  expect((await pods.get("p")).metadata.name).toBe("p");
  expect(s.seen()).toBe(3);
});

test("generateName creates are not retried", async () => {
  const s = flaky(1);
  const pods = createClient({ server: s.url, token: "t" }).resource<any>(refs.pods, "default");
  const err = await pods.create({ metadata: { generateName: "p-" } }).catch((e) => e);
  expect(err.code).toBe("ECONNRESET");
  expect(s.seen()).toBe(1);
});

test("gives up after a few resets", async () => {
  const s = flaky(100);
  const pods = createClient({ server: s.url, token: "t" }).resource<any>(refs.pods, "default");
  const err = await pods.get("p").catch((e) => e);
  expect(err.code).toBe("ECONNRESET");
  expect(s.seen()).toBe(4);
});
