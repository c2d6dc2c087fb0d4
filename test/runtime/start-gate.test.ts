// start(spec, { beforeStart }): the container is created (snapshot, record, task) while the pod's network is still
// being set up, but its process runs only once that is done; if it fails, nothing of the container is left and
// start rejects with the network's error. The container runs in a network namespace this test makes (no links).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { CtrRuntime } from "../../internal/runtime/ctr.ts";
import { isMountpoint } from "../../internal/runtime/mount.ts";
import { addNetns, delNetns } from "../../internal/runtime/netns.ts";
import { run } from "../../internal/runtime/run.ts";
import type { ContainerSpec } from "../../internal/runtime/types.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { waitFor } from "../kubelet/setup.ts";
import { removeHostLeftovers } from "../helpers/hostleftovers.ts";

const dir = tempDir("rt-gate-");
const ns = `ktsg${Math.random().toString(36).slice(2, 6)}`;
const netns = `${ns}-pod`;
let containerd: Containerd;
let rt: CtrRuntime;
const state = join(dir, "state");
const out = join(dir, "out");
const ctr = (...args: string[]) => run(["ctr", "--address", containerd.address, "-n", ns, ...args]);
const lines = async (...args: string[]) => (await ctr(...args)).stdout.split("\n").map((l) => l.trim()).filter(Boolean);
const taskState = async (id: string) => (await lines("tasks", "ls")).find((l) => l.split(/\s+/)[0] === id)?.split(/\s+/)[2];

beforeAll(async () => {
  containerd = await startContainerd({ dir: join(dir, "containerd") });
  rt = new CtrRuntime({ address: containerd.address, namespace: ns, stateDir: state });
  writeBusyboxImage(join(dir, "busybox.tar"));
  await rt.importImages(join(dir, "busybox.tar"));
  await addNetns(netns);
  mkdirSync(out, { recursive: true });
}, 60_000);

afterAll(async () => {
  for (const id of ["gated", "gate-fails"]) await rt?.remove(id).catch(() => {});
  await rt?.close();
  await containerd?.stop();
  delNetns(netns);
  removeHostLeftovers({ cgroupRoot: `/${ns}`, containerdNamespace: ns });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const spec = (id: string): ContainerSpec => ({
  id,
  image: "busybox:latest",
  labels: { "io.kubun.pod-uid": "u" },
  command: ["sh", "-c", `echo ran > /out/${id}; exec sleep 600`],
  env: [],
  mounts: [{ source: out, destination: "/out" }],
  netnsPath: `/var/run/netns/${netns}`,
  cgroupPath: `/${ns}/${id}`,
  logPath: join(dir, "logs", id, "0.log"),
});

test("the task exists while beforeStart is pending, its process runs only after it resolves", async () => {
  let ready!: () => void;
  const gate = new Promise<void>((r) => (ready = r));
  const started = rt.start(spec("gated"), { beforeStart: gate });
  await waitFor("the task created", async () => (await taskState("gated")) === "CREATED", 30_000, 50);
  await Bun.sleep(300);
  expect(existsSync(join(out, "gated"))).toBe(false); // created, not run
  expect(await taskState("gated")).toBe("CREATED");
  ready();
  await started;
  await waitFor("the process ran", () => existsSync(join(out, "gated")), 10_000, 50);
  expect(await taskState("gated")).toBe("RUNNING");
}, 60_000);

test("beforeStart rejects: start rejects with its error and nothing of the container is left", async () => {
  const id = "gate-fails";
  let fail!: (e: Error) => void;
  const gate = new Promise<void>((_, reject) => (fail = reject));
  const started = rt.start(spec(id), { beforeStart: gate });
  await waitFor("the task created", async () => (await taskState(id)) === "CREATED", 30_000, 50);
  fail(new Error("CNI bridge ADD failed: no address"));
  await expect(started).rejects.toThrow("CNI bridge ADD failed: no address");
  await expectNothingLeftOf(id);
}, 60_000);

/** The container never ran, and nothing of it is left: task, record, snapshot, rootfs mount, FIFOs, spec. */
async function expectNothingLeftOf(id: string): Promise<void> {
  expect(existsSync(join(out, id))).toBe(false);
  expect(await taskState(id)).toBeUndefined();
  expect((await lines("containers", "ls", "-q"))).not.toContain(id);
  expect((await lines("snapshots", "ls")).map((l) => l.split(/\s+/)[0])).not.toContain(id);
  expect(isMountpoint(join(state, "rootfs", id))).toBe(false);
  expect(existsSync(join(state, "rootfs", id))).toBe(false);
  expect(existsSync(join(state, "fifo", id))).toBe(false);
  expect(existsSync(join(state, "specs", `${id}.json`))).toBe(false);
  expect((await rt.list()).map((c) => c.id)).not.toContain(id);
}

test("a gate that fails before the task exists: start rejects with its error (no unhandled rejection), nothing left", async () => {
  const id = "gate-failed-early";
  const gate = Promise.reject(new Error("CNI bridge ADD failed: early"));
  await expect(rt.start(spec(id), { beforeStart: gate })).rejects.toThrow("CNI bridge ADD failed: early");
  await expectNothingLeftOf(id);
}, 60_000);
