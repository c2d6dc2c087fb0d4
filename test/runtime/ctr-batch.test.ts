// Containers and snapshots removed together go in one `ctr` command (ctr-batch.ts), and each caller still learns
// its own outcome: real ctr against a containerd of this test (no containers run, nothing but records).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { CtrBatch, splitContainerDeletes, splitSnapshotRemovals } from "../../internal/runtime/ctr-batch.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { removeHostLeftovers } from "../helpers/hostleftovers.ts";

const dir = tempDir("rt-batch-");
const ns = `ktcb${Math.random().toString(36).slice(2, 6)}`;
let containerd: Containerd;

const ctr = (args: string[]) => run(["ctr", "--address", containerd.address, "-n", ns, ...args], { allowFail: true });
const lines = async (args: string[]) => (await ctr(args)).stdout.split("\n").map((l) => l.split(/\s+/)[0]!).filter(Boolean);

/** A batch over real ctr that records the names of each command it ran. */
function batch(verb: string[], split: typeof splitSnapshotRemovals) {
  const commands: string[][] = [];
  const b = new CtrBatch((names) => {
    commands.push(names);
    return ctr([...verb, ...names]);
  }, split);
  return { b, commands };
}

beforeAll(async () => {
  containerd = await startContainerd({ dir: join(dir, "containerd") });
}, 60_000);

afterAll(async () => {
  await containerd?.stop();
  removeHostLeftovers({ containerdNamespace: ns });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test("containers deleted together go in one ctr command; a missing one fails alone", async () => {
  const spec = join(dir, "spec.json");
  writeFileSync(spec, JSON.stringify({ ociVersion: "1.0.2", root: { path: join(dir, "rootfs") }, process: { args: ["true"], cwd: "/" } }));
  for (const id of ["c1", "c2", "c3"]) expect((await ctr(["containers", "create", "--config", spec, id])).code).toBe(0);
  const { b, commands } = batch(["containers", "delete"], splitContainerDeletes);
  const [r1, missing, r2, r3, again] = await Promise.all(["c1", "gone", "c2", "c3", "c1"].map((id) => b.submit(id)));
  expect(commands).toEqual([["c1", "gone", "c2", "c3"]]);
  for (const r of [r1, r2, r3, again]) expect(r!.code).toBe(0);
  expect(missing!.code).not.toBe(0);
  expect(missing!.stderr).toContain('\\"gone\\"');
  expect(missing!.stderr).toMatch(/not found/);
  expect(await lines(["containers", "ls", "-q"])).toEqual([]);
}, 30_000);

test("snapshots: ctr stops at the first failure, so the keys after it go in the next command", async () => {
  for (const k of ["s1", "s2", "s3"]) expect((await ctr(["snapshots", "prepare", k])).code).toBe(0);
  const { b, commands } = batch(["snapshots", "rm"], splitSnapshotRemovals);
  const [r1, missing, r2, r3] = await Promise.all(["s1", "nope", "s2", "s3"].map((k) => b.submit(k)));
  expect(commands).toEqual([["s1", "nope", "s2", "s3"], ["s2", "s3"]]);
  expect([r1!.code, r2!.code, r3!.code]).toEqual([0, 0, 0]);
  expect(missing!.code).not.toBe(0);
  expect(missing!.stderr).toMatch(/failed to remove "nope": .*not found/);
  expect(await lines(["snapshots", "ls"])).toEqual(["KEY"]);
}, 30_000);

test("names that arrive while a command runs go together in the next one; a lone name runs alone", async () => {
  const commands: string[][] = [];
  let release!: () => void;
  const b = new CtrBatch(async (names) => {
    commands.push(names);
    if (commands.length === 1) await new Promise<void>((r) => (release = r));
    return { code: 0, stdout: "", stderr: "" };
  }, splitContainerDeletes);
  const first = b.submit("a");
  await Bun.sleep(10);
  const later = ["b", "c", "d"].map((n) => b.submit(n));
  await Bun.sleep(10);
  expect(commands).toEqual([["a"]]);
  release();
  await Promise.all([first, ...later]);
  expect(commands).toEqual([["a"], ["b", "c", "d"]]);
  await b.submit("e");
  expect(commands.at(-1)).toEqual(["e"]);
});

test("a failure ctr names no one for (containerd unreachable) is every caller's", async () => {
  const b = new CtrBatch(async () => ({ code: 1, stdout: "", stderr: "ctr: failed to dial: connection refused" }), splitContainerDeletes);
  const rs = await Promise.all(["x", "y"].map((n) => b.submit(n)));
  for (const r of rs) expect(r).toEqual({ code: 1, stdout: "", stderr: "ctr: failed to dial: connection refused" });
});
