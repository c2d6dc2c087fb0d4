// Containers of one image share its layers through one snapshot (image-layers.ts), each with its own upper
// directory in the agent's state: with real containers, what one writes or deletes the other does not see, layers
// stacked in an image (with a whiteout) read as upstream's snapshotter stacks them, and a restarted runtime adopts
// what a container uses, removes the directories of a container containerd does not have, and lets the image's
// snapshot go once the last container has gone; a container an older agent made keeps its own snapshot until removed.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { CtrRuntime } from "../../internal/runtime/ctr.ts";
import { pollUntil } from "../helpers/wait.ts";
import { useRuntime } from "./runtime-fixture.ts";

const f = useRuntime("layers");
const enc = new TextEncoder();

const snapshotKeys = async () => (await f.ctr("snapshots", "ls")).split("\n").slice(1).map((l) => l.split(/\s+/)[0]!).filter(Boolean);
const chainOf = async (ref: string) => (await f.rt.getImage(ref))!.chainId;

async function exitCode(rt: CtrRuntime, id: string): Promise<number> {
  await pollUntil(`${id} exited`, async () => (await rt.list()).find((c) => c.id === id)?.state === "exited", 20_000);
  return (await rt.reap(id)).exitCode;
}

test("two containers of one image share one snapshot, and each sees only its own writes and deletions", async () => {
  const a = f.spec("writer", "echo x > /a; rm /etc/group; sleep 3600");
  await f.rt.start(a);
  const upper = join(f.stateDir, "rw", a.id, "upper");
  await pollUntil("the writer's writes", async () => existsSync(join(upper, "a")), 20_000);
  const b = f.spec("reader", "test ! -e /a && test -e /etc/group");
  await f.rt.start(b);
  expect(await exitCode(f.rt, b.id)).toBe(0);
  // The writer's deletion is a whiteout in its own upper directory, not a change to the image's layer.
  expect(statSync(join(upper, "etc", "group")).isCharacterDevice()).toBe(true);
  // One snapshot for the image besides its committed layer; none per container.
  const chain = await chainOf("busybox:latest");
  expect((await snapshotKeys()).filter((k) => k !== chain)).toEqual([`kubun-layers-${chain}`]);
  await f.rt.remove(a.id);
  expect(existsSync(join(f.stateDir, "rw", a.id))).toBe(false);
  expect(existsSync(join(f.stateDir, "rootfs", a.id))).toBe(false);
}, 60_000);

test("an image of three layers reads as stacked: a file of the second, one of the third, a whiteout deleting one of the first", async () => {
  const tar = join(f.dir, "layered.tar");
  writeBusyboxImage(tar, {
    ref: "docker.io/library/layered:1",
    upperLayers: [
      [
        { type: "file", path: "hello", data: enc.encode("from layer 2\n") },
        { type: "dir", path: "etc" },
        { type: "file", path: "etc/.wh.group", data: new Uint8Array() },
      ],
      [{ type: "file", path: "top", data: enc.encode("3") }],
    ],
  });
  await f.rt.importImages(tar);
  const c = f.spec("layered", `test "$(cat /hello)" = "from layer 2" && test -e /top && test ! -e /etc/group && test -e /etc/passwd`, { image: "layered:1" });
  await f.rt.start(c);
  expect(await exitCode(f.rt, c.id)).toBe(0);
  const chain = await chainOf("layered:1");
  const saved = JSON.parse(readFileSync(join(f.stateDir, "layers", `${chain.replace(":", "-")}.json`), "utf8"));
  expect(saved.lowerdirs).toHaveLength(3);
}, 60_000);

test("a restarted runtime adopts a container on shared layers, removes an orphan's directories, and the image's snapshot goes after the last", async () => {
  // An image of its own: the fixture's runtime keeps the busybox snapshot, and both runtimes use one namespace.
  const tar = join(f.dir, "restart.tar");
  writeBusyboxImage(tar, { ref: "docker.io/library/restart:1", upperLayers: [[{ type: "file", path: "r", data: enc.encode("r") }]] });
  await f.rt.importImages(tar);
  const chain = await chainOf("restart:1");
  const state = join(f.dir, "state-restart");
  const first = new CtrRuntime({ address: f.containerd.address, namespace: f.ns, stateDir: state });
  const s = f.spec("adopted", "sleep 3600", { image: "restart:1" });
  await first.start(s);
  await first.close();
  // What an agent killed half-way through a start leaves: directories of a container containerd never recorded.
  mkdirSync(join(state, "rw", "orphan", "upper"), { recursive: true });
  writeFileSync(join(state, "rw", "orphan", "chain"), chain);
  const second = new CtrRuntime({ address: f.containerd.address, namespace: f.ns, stateDir: state, layersIdleMs: 100 });
  try {
    expect((await second.list()).find((c) => c.id === s.id)?.state).toBe("running");
    expect(existsSync(join(state, "rw", "orphan"))).toBe(false);
    expect(existsSync(join(state, "rw", s.id, "upper"))).toBe(true);
    await Bun.sleep(300); // longer than the idle time: the adopted container still holds the snapshot
    expect(await snapshotKeys()).toContain(`kubun-layers-${chain}`);
    await second.remove(s.id);
    expect(existsSync(join(state, "rw", s.id))).toBe(false);
    await pollUntil("the image's snapshot removed", async () => !(await snapshotKeys()).includes(`kubun-layers-${chain}`), 10_000);
  } finally {
    await second.remove(s.id).catch(() => {}); // gone already unless a check above failed
    await second.close();
  }
}, 60_000);

test("a container an older agent made on a snapshot of its own still has that snapshot removed with it", async () => {
  const id = `older-${f.id}`;
  const chain = await chainOf("busybox:latest");
  await f.ctr("snapshots", "prepare", id, chain); // what the agent did per container before the layers were shared
  const spec = join(f.dir, "older.json");
  writeFileSync(spec, JSON.stringify({ ociVersion: "1.0.2", root: { path: join(f.stateDir, "rootfs", id) }, process: { args: ["true"], cwd: "/" } }));
  await f.ctr("containers", "create", "--config", spec, id);
  await f.rt.remove(id);
  expect((await f.ctr("containers", "ls", "-q")).split("\n")).not.toContain(id);
  expect(await snapshotKeys()).not.toContain(id);
}, 60_000);
