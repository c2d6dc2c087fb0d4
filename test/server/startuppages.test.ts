// cmd/startuppages.ts: the containerd a node started has its start-up pages released once kubun and containerd are
// quiet — not in the middle of a burst of work, which would drop pages in use only to read them back from disk —
// and nothing happens once the node is stopping.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { collectStartupCodeLater, releaseStartupPagesLater } from "../../cmd/startuppages.ts";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const dir = tempDir("startuppages-");
let containerd: Containerd;
// The release waits on unref'd timers (they must not keep a stopping kubun alive); a test with nothing else pending
// would have bun's loop spin on them — and that spinning is CPU the quiet check sees. A server always has its listener.
let keepAlive: Timer;

beforeAll(async () => {
  containerd = await startContainerd({ dir: join(dir, "containerd") });
  keepAlive = setInterval(() => {}, 1000);
}, 60_000);

afterAll(async () => {
  clearInterval(keepAlive);
  await containerd?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test("the started containerd's pages are released once quiet, and it goes on answering", async () => {
  const released = await releaseStartupPagesLater(new AbortController().signal, { settleMs: 0, windowMs: 500 });
  // Under bun (not a compiled kubun) only containerd is a target: bun's pages are every bun process's.
  expect(Object.keys(released ?? {})).toEqual(["containerd"]);
  expect((await run(["ctr", "--address", containerd.address, "version"])).stdout).toContain("Server:");
}, 30_000);

test("not while this process is busy: released only after the burst of work has ended", async () => {
  let burstEnded = 0;
  const burst = (async () => {
    // ~1.5 s of work in 20 ms slices (timers still run between them, as during a burst of pod starts).
    const until = performance.now() + 1500;
    while (performance.now() < until) {
      const slice = performance.now() + 20;
      while (performance.now() < slice) Math.sqrt(Math.random());
      await Bun.sleep(1);
    }
    burstEnded = performance.now();
  })();
  const released = await releaseStartupPagesLater(new AbortController().signal, { settleMs: 0, windowMs: 500 }).then((r) => ({ r, at: performance.now() }));
  await burst;
  expect(released.r?.containerd).toBeDefined();
  expect(burstEnded).toBeGreaterThan(0);
  expect(released.at).toBeGreaterThan(burstEnded);
}, 30_000);

test("a node that stops first releases nothing", async () => {
  const ac = new AbortController();
  const pending = releaseStartupPagesLater(ac.signal, { settleMs: 60_000 });
  ac.abort();
  expect(await pending).toBeUndefined();
});

test("the start-up code collection runs once after its delay, and not once the node is stopping", async () => {
  const r = await collectStartupCodeLater(new AbortController().signal, 10);
  expect(r?.before).toBeGreaterThan(0);
  expect(r?.after).toBeGreaterThan(0);
  const ac = new AbortController();
  const pending = collectStartupCodeLater(ac.signal, 60_000);
  ac.abort();
  expect(await pending).toBeUndefined();
});
