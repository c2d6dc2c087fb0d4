// ImageLayers: one snapshot per image shared by its containers. Against a recording stand-in for ctr (real ones in
// test/kubelet/shared-layers.test.ts): concurrent starts prepare once, the handle outlives its last user by the idle
// time only, a start during the removal waits for it and prepares anew, a restart adopts handles from their files,
// and a preparation that failed is tried again by the next start.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageLayers, layersFromMounts } from "../../internal/runtime/image-layers.ts";
import type { RunResult } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { pollUntil } from "../helpers/wait.ts";

const CHAIN = "sha256:abc";
const KEY = `kubun-layers-${CHAIN}`;

/** A stand-in for ctr with one snapshotter: records every command, prints overlay mounts of two layer dirs. */
function fakeCtr(root: string, rmMs = 5) {
  const lowers = [join(root, "snapshots", "2", "fs"), join(root, "snapshots", "1", "fs")];
  for (const d of lowers) mkdirSync(d, { recursive: true });
  const snapshots = new Set<string>();
  const calls: string[] = [];
  const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
  const ctr = async (args: string[]): Promise<RunResult> => {
    calls.push(args.join(" "));
    const [verb, sub, ...rest] = args;
    await Bun.sleep(sub === "rm" ? rmMs : 5); // a ctr process takes a while: concurrent callers overlap
    const key = rest.filter((a) => !a.startsWith("--"))[0]!;
    if (verb === "snapshots" && sub === "prepare") {
      if (snapshots.has(key)) return { code: 1, stdout: "", stderr: `ctr: snapshot "${key}": already exists` };
      snapshots.add(key);
      for (const d of lowers) mkdirSync(d, { recursive: true }); // the directories its mounts name exist
      const options = ["index=off", `workdir=${root}/w`, `upperdir=${root}/u`, `lowerdir=${lowers.join(":")}`];
      return ok(JSON.stringify([{ Type: "overlay", Source: "overlay", Options: options }]));
    }
    if (verb === "snapshots" && sub === "rm") return snapshots.delete(key) ? ok() : { code: 1, stdout: "", stderr: "not found" };
    throw new Error(`unexpected ctr ${args.join(" ")}`);
  };
  return { ctr, calls, snapshots, lowers };
}

test("mounts of an overlay on layers give the lowerdirs (top first) and containerd's other options; a bind gives none", () => {
  expect(layersFromMounts(JSON.stringify([{ Type: "overlay", Source: "overlay", Options: ["index=off", "workdir=/w", "upperdir=/u", "lowerdir=/2:/1"] }]))).toEqual({
    lowerdirs: ["/2", "/1"],
    options: ["index=off"],
  });
  expect(layersFromMounts(JSON.stringify([{ type: "bind", source: "/s", options: ["rbind", "rw"] }]))).toBeUndefined();
});

test("thirty containers starting at once prepare the image's handle once; it goes only after the last has been idle", async () => {
  const dir = tempDir("layers-");
  const f = fakeCtr(dir);
  const layers = new ImageLayers({ ctr: f.ctr, dir: join(dir, "state"), idleMs: 50 });
  const got = await Promise.all(Array.from({ length: 30 }, () => layers.acquire(CHAIN)));
  expect(f.calls).toEqual([`snapshots prepare --mounts ${KEY} ${CHAIN}`]);
  for (const g of got) expect(g).toEqual({ lowerdirs: f.lowers, options: ["index=off"] });
  for (let i = 0; i < 29; i++) layers.release(CHAIN);
  await Bun.sleep(120);
  expect(f.snapshots.has(KEY)).toBe(true); // one container still uses it
  layers.release(CHAIN);
  await Bun.sleep(20);
  expect(f.snapshots.has(KEY)).toBe(true); // idle for less than idleMs
  await pollUntil("the idle handle removed", async () => !f.snapshots.has(KEY), 5000);
  expect(readdirSync(join(dir, "state"))).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

test("a start while the idle handle is being removed waits for the removal and prepares a new handle", async () => {
  const dir = tempDir("layers-");
  const f = fakeCtr(dir, 100);
  const layers = new ImageLayers({ ctr: f.ctr, dir: join(dir, "state"), idleMs: 10 });
  await layers.acquire(CHAIN);
  layers.release(CHAIN);
  await pollUntil("`snapshots rm` running", async () => f.calls.at(-1) === `snapshots rm ${KEY}`, 5000);
  expect(f.snapshots.has(KEY)).toBe(true); // not removed yet: a start that took the old handle would lose it
  expect(await layers.acquire(CHAIN)).toEqual({ lowerdirs: f.lowers, options: ["index=off"] });
  expect(f.calls).toEqual([`snapshots prepare --mounts ${KEY} ${CHAIN}`, `snapshots rm ${KEY}`, `snapshots prepare --mounts ${KEY} ${CHAIN}`]);
  expect(f.snapshots.has(KEY)).toBe(true);
  rmSync(dir, { recursive: true, force: true });
});

test("a restarted agent finds the handle in its file, with no ctr call; one whose layers are gone is prepared again", async () => {
  const dir = tempDir("layers-");
  const f = fakeCtr(dir);
  const state = join(dir, "state");
  await new ImageLayers({ ctr: f.ctr, dir: state }).acquire(CHAIN);
  f.calls.length = 0;
  // After a restart, with one container still using the layers.
  const again = new ImageLayers({ ctr: f.ctr, dir: state, users: new Map([[CHAIN, 1]]), idleMs: 10 });
  expect(await again.acquire(CHAIN)).toEqual({ lowerdirs: f.lowers, options: ["index=off"] });
  expect(f.calls).toEqual([]);
  // The layers' directories vanished (containerd's state was reset): the handle left over is replaced.
  rmSync(f.lowers[0]!, { recursive: true });
  const third = new ImageLayers({ ctr: f.ctr, dir: state });
  expect((await third.acquire(CHAIN))?.lowerdirs).toEqual(f.lowers);
  expect(f.calls).toEqual([`snapshots prepare --mounts ${KEY} ${CHAIN}`, `snapshots rm ${KEY}`, `snapshots prepare --mounts ${KEY} ${CHAIN}`]);
  rmSync(dir, { recursive: true, force: true });
});

test("a handle a previous run left that no container uses is removed after the idle time", async () => {
  const dir = tempDir("layers-");
  const f = fakeCtr(dir);
  const state = join(dir, "state");
  const first = new ImageLayers({ ctr: f.ctr, dir: state });
  await first.acquire(CHAIN);
  new ImageLayers({ ctr: f.ctr, dir: state, idleMs: 10 }); // restarted; its container is gone
  await pollUntil("the left-over handle removed", async () => !f.snapshots.has(KEY), 5000);
  expect(existsSync(join(state, "sha256-abc.json"))).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

test("a handle whose preparation fails fails the starts that wait for it, and the next start tries again", async () => {
  const dir = tempDir("layers-");
  const f = fakeCtr(dir);
  let fail = true;
  const ctr = (args: string[]) => (fail ? Promise.resolve({ code: 1, stdout: "", stderr: "ctr: connection refused" }) : f.ctr(args));
  // Found at start-up, with a user and a file that names no layers that exist: loaded at once, and that fails.
  mkdirSync(join(dir, "state"), { recursive: true });
  writeFileSync(join(dir, "state", "sha256-abc.json"), JSON.stringify({ lowerdirs: [join(dir, "gone")], options: [] }));
  const layers = new ImageLayers({ ctr, dir: join(dir, "state"), users: new Map([[CHAIN, 1]]) });
  const starts = await Promise.allSettled([layers.acquire(CHAIN), layers.acquire(CHAIN)]);
  expect(starts.map((s) => s.status)).toEqual(["rejected", "rejected"]);
  fail = false;
  expect(await layers.acquire(CHAIN)).toEqual({ lowerdirs: f.lowers, options: ["index=off"] });
  rmSync(dir, { recursive: true, force: true });
});
