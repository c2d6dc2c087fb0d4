// The ctr runtime's container stdio with real containers (in a test-made network namespace): stdout and stderr
// kept apart in the CRI log file, attach to a container's stdin with stdinOnce, and a terminal resized by the
// attach session (what kubectl's resize messages on channel 4 turn into).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExecProcess } from "../../internal/runtime/types.ts";
import { useRuntime } from "./runtime-fixture.ts";
import { waitFor } from "./setup.ts";

const f = useRuntime("stdio");
const { id, spec } = f;

async function read(s: ReadableStream<Uint8Array>, until: (text: string) => boolean): Promise<string> {
  const reader = s.getReader();
  let text = "";
  await waitFor("output", async () => {
    const { value, done } = await reader.read();
    text += new TextDecoder().decode(value ?? new Uint8Array());
    return until(text) || done;
  }, 20_000, 0);
  reader.releaseLock();
  return text;
}

test("stdout and stderr are separate streams in the CRI log file", async () => {
  const s = spec("streams", "echo to-stdout; echo to-stderr >&2; echo again-stdout");
  await f.rt.start(s);
  await waitFor("exit", async () => (await f.rt.list()).find((c) => c.id === s.id)?.state === "exited");
  await f.rt.reap(s.id);
  const lines = readFileSync(s.logPath, "utf8").trim().split("\n");
  const entries = lines.map((l) => l.split(" ").slice(1).join(" ")).sort();
  expect(entries).toEqual(["stderr F to-stderr", "stdout F again-stdout", "stdout F to-stdout"]);
  for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z (stdout|stderr) F /);
}, 60_000);

test("attach: input reaches a stdin container; stdinOnce closes its stdin after the session", async () => {
  const s = spec("stdin", "while read l; do echo got:$l; done; echo stdin-closed", { stdin: true });
  await f.rt.start(s);
  // Nothing attached yet: the container must still be waiting on its stdin (not at EOF).
  await Bun.sleep(500);
  expect((await f.rt.list()).find((c) => c.id === s.id)?.state).toBe("running");
  const a: ExecProcess = f.rt.attach(s.id, { stdin: true, stdinOnce: true });
  a.write(new TextEncoder().encode("hello\nworld\n"));
  expect(await read(a.stdout, (t) => t.includes("got:world"))).toBe("got:hello\ngot:world\n");
  a.end();
  expect(await a.exited).toBe(0);
  expect(readFileSync(s.logPath, "utf8")).toContain("stdout F stdin-closed");
}, 60_000);

test("attach to a tty container: echo, and a resize the process sees", async () => {
  const s = spec("tty", "read l; echo line:$l; stty size; read l", { stdin: true, tty: true });
  await f.rt.start(s);
  const a = f.rt.attach(s.id, { stdin: true });
  a.resize!(123, 45);
  await Bun.sleep(300);
  a.write(new TextEncoder().encode("typed\n"));
  const out = await read(a.stdout, (t) => /45 123/.test(t));
  expect(out).toContain("typed"); // the terminal echoes input
  expect(out).toContain("line:typed");
  expect(out).toMatch(/45 123/);
  a.kill(); // detach: the container keeps running
  expect(await a.exited).toBe(0);
  expect((await f.rt.list()).find((c) => c.id === s.id)?.state).toBe("running");
}, 60_000);

async function text(s: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(s).text();
}

test("exec: stdout and stderr apart, exit code, stdin data, a command that cannot start", async () => {
  const s = spec("exec", "exec sleep 3600");
  await f.rt.start(s);
  const p = f.rt.exec(s.id, ["sh", "-c", "echo out; echo err >&2; exit 7"]);
  const [out, err, code] = await Promise.all([text(p.stdout), text(p.stderr), p.exited]);
  expect([out, err, code]).toEqual(["out\n", "err\n", 7]);
  const up = f.rt.exec(s.id, ["tr", "a-z", "A-Z"], { stdin: "piped\n" });
  expect(await text(up.stdout)).toBe("PIPED\n");
  expect(await up.exited).toBe(0);
  const bad = f.rt.exec(s.id, ["/no/such/binary"]);
  const [, badErr, badCode] = await Promise.all([text(bad.stdout), text(bad.stderr), bad.exited]);
  expect(badCode).not.toBe(0);
  expect(badErr).toContain("/no/such/binary");
  // Nothing left behind in the runtime's exec directory.
  expect(readdirSync(join(f.stateDir, "exec"))).toEqual([]);
}, 60_000);

test("exec with a tty: one terminal, resized", async () => {
  const id2 = `exec-${id}`;
  const p = f.rt.exec(id2, ["sh", "-c", "sleep 0.5; stty size; tty"], { tty: true });
  p.resize!(90, 21);
  const out = await text(p.stdout);
  expect(await p.exited).toBe(0);
  expect(out).toBe("21 90\r\n/dev/pts/0\r\n");
}, 60_000);
