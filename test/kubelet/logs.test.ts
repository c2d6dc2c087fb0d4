// The CRI log path without containers: a FIFO drained into CRI-format files with size rotation, and the
// log reader's options (tail, timestamps, since, limitBytes, partial lines, follow until the container stops).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseLogOptions, streamLogs } from "../../internal/kubelet/logs.ts";
import { LogPump } from "../../internal/runtime/logpump.ts";
import { run } from "../../internal/runtime/run.ts";

const dir = mkdtempSync(join(tmpdir(), "kubun-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fifo(name: string): Promise<string> {
  const p = join(dir, name);
  await run(["mkfifo", p]);
  return p;
}

test("LogPump writes CRI lines and rotates by size, keeping maxFiles", async () => {
  const f = await fifo("c1.fifo");
  const log = join(dir, "c1", "0.log");
  const pump = new LogPump(f, log, { maxBytes: 200, maxFiles: 2 });
  const w = openSync(f, "w");
  for (let i = 0; i < 20; i++) writeSync(w, `line number ${i}\n`);
  writeSync(w, "no newline yet");
  closeSync(w);
  await Bun.sleep(200);
  await pump.close();
  const files = readdirSync(join(dir, "c1")).sort();
  expect(files.length).toBeLessThanOrEqual(2);
  expect(files).toContain("0.log");
  const all = files.map((x) => readFileSync(join(dir, "c1", x), "utf8")).join("");
  for (const l of all.trim().split("\n")) expect(l).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F (line number \d+|no newline yet)$/);
  expect(all).toContain("stdout F line number 19\n");
  expect(all).toContain("stdout F no newline yet\n");
});

test("log reader: tailLines, timestamps, sinceTime, limitBytes, partial lines", async () => {
  const p = join(dir, "r.log");
  writeFileSync(
    p,
    [
      "2026-01-01T00:00:01.000000000Z stdout F one",
      "2026-01-01T00:00:02.000000000Z stdout P tw",
      "2026-01-01T00:00:02.100000000Z stdout F o",
      "2026-01-01T00:00:03.000000000Z stderr F three",
      "",
    ].join("\n"),
  );
  const read = async (q: string) => new Response(streamLogs(p, parseLogOptions(new URLSearchParams(q)), () => false, new AbortController().signal)).text();
  expect(await read("")).toBe("one\ntwo\nthree\n");
  expect(await read("tailLines=2")).toBe("two\nthree\n");
  expect(await read("tailLines=0")).toBe("");
  expect(await read("timestamps=true&tailLines=1")).toBe("2026-01-01T00:00:03.000000000Z three\n");
  expect(await read("sinceTime=2026-01-01T00:00:02Z")).toBe("two\nthree\n");
  expect(await read("limitBytes=6")).toBe("one\ntw");
  expect(() => parseLogOptions(new URLSearchParams("tailLines=-1"))).toThrow("tailLines must be greater than or equal to 0");
  expect(() => parseLogOptions(new URLSearchParams("sinceSeconds=0"))).toThrow("sinceSeconds must be greater than 0");
});

test("follow streams new lines until the container stops", async () => {
  const p = join(dir, "f.log");
  writeFileSync(p, "2026-01-01T00:00:01Z stdout F first\n");
  let running = true;
  const body = new Response(streamLogs(p, parseLogOptions(new URLSearchParams("follow=true")), () => running, new AbortController().signal)).text();
  await Bun.sleep(300);
  writeFileSync(p, "2026-01-01T00:00:02Z stdout F second\n", { flag: "a" });
  await Bun.sleep(400);
  running = false;
  expect(await body).toBe("first\nsecond\n");
});
