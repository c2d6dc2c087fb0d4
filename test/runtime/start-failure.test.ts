// A container start whose steps run side by side (its rootfs on the image's shared layers, the container record, the
// stdio FIFOs) leaves nothing behind when one of them fails: no container record, no snapshot, no rootfs mount or
// directories, no FIFOs — so the kubelet's retry starts from a clean slate. The failures are provoked before any
// task exists, so no container process ever runs here (containerd only).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { CtrRuntime } from "../../internal/runtime/ctr.ts";
import { isMountpoint } from "../../internal/runtime/mount.ts";
import { run } from "../../internal/runtime/run.ts";
import type { ContainerSpec } from "../../internal/runtime/types.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { removeHostLeftovers } from "../helpers/hostleftovers.ts";

const dir = tempDir("rt-startfail-");
const ns = `ktsf${Math.random().toString(36).slice(2, 6)}`;
let containerd: Containerd;
let rt: CtrRuntime;
let chainId: string;
const state = join(dir, "state");
const ctr = (...args: string[]) => run(["ctr", "--address", containerd.address, "-n", ns, ...args]);
const lines = async (...args: string[]) => (await ctr(...args)).stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);

beforeAll(async () => {
  containerd = await startContainerd({ dir: join(dir, "containerd") });
  rt = new CtrRuntime({ address: containerd.address, namespace: ns, stateDir: state });
  writeBusyboxImage(join(dir, "busybox.tar"));
  await rt.importImages(join(dir, "busybox.tar"));
  chainId = ((await rt.getImage("busybox:latest")) as any).chainId;
}, 60_000);

afterAll(async () => {
  await rt?.close();
  await containerd?.stop();
  removeHostLeftovers({ cgroupRoot: `/${ns}`, containerdNamespace: ns });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const spec = (id: string): ContainerSpec => ({
  id,
  image: "busybox:latest",
  labels: { "io.kubun.pod-uid": "u" },
  command: ["true"],
  env: [],
  mounts: [],
  cgroupPath: `/${ns}/${id}`,
  logPath: join(dir, "logs", id, "0.log"),
});

async function nothingLeft(id: string): Promise<void> {
  expect(await lines("containers", "ls", "-q")).not.toContain(id);
  expect((await lines("snapshots", "ls")).slice(1)).not.toContain(id);
  expect(isMountpoint(join(state, "rootfs", id))).toBe(false);
  expect(existsSync(join(state, "rootfs", id))).toBe(false);
  expect(existsSync(join(state, "rw", id))).toBe(false);
  expect(existsSync(join(state, "fifo", id))).toBe(false);
  expect(existsSync(join(state, "specs", `${id}.json`))).toBe(false);
  expect((await rt.list()).map((c) => c.id)).not.toContain(id);
}

test("the rootfs cannot be made while the container record is made: neither is left", async () => {
  const id = "rw-taken";
  writeFileSync(join(state, "rw", id), ""); // a file where the container's own directory goes: mkdir fails
  await expect(rt.start(spec(id))).rejects.toThrow();
  await nothingLeft(id);
}, 30_000);

test("the container record cannot be made while the rootfs is mounted: neither is left", async () => {
  const id = "ctr-taken";
  // The id is taken by a record without a snapshot (as ours are): create fails, the rootfs is mounted.
  await Bun.write(join(dir, "other.json"), (await ctr("oci", "spec")).stdout);
  await ctr("containers", "create", "--config", join(dir, "other.json"), id);
  expect((await lines("snapshots", "ls")).slice(1)).not.toContain(id);
  await expect(rt.start(spec(id))).rejects.toThrow();
  await nothingLeft(id);
}, 30_000);
