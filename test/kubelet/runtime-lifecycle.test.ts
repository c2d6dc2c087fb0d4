// The ctr runtime's end of a container with real containers (in a test-made network namespace): an exited container
// is reaped with its exit code whether its exit event was heard (the task goes with `ctr containers delete`) or not
// (an agent restarted meanwhile: `ctr tasks delete` tells the code); remove() kills a running one and waits for its
// exit event; containersWithLabel answers from the runtime's own records. Nothing of a removed container is left in
// containerd (container, task, snapshot) or in the state directory.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { CtrRuntime } from "../../internal/runtime/ctr.ts";
import { run } from "../../internal/runtime/run.ts";
import type { ContainerSpec } from "../../internal/runtime/types.ts";
import { waitFor } from "./setup.ts";
import { removeHostLeftovers } from "../helpers/hostleftovers.ts";

const root = join(import.meta.dir, "..", "..", ".tmp");
mkdirSync(root, { recursive: true });
const dir = mkdtempSync(join(root, "rt-life-"));
const id = Math.random().toString(36).slice(2, 6);
const netns = `ktlf${id}`;
const ns = `ktlf${id}`;
const cgroupRoot = `/ktlf${id}`;
const stateDir = join(dir, "state");
let containerd: Containerd;
let rt: CtrRuntime;

beforeAll(async () => {
  await run(["ip", "netns", "add", netns]);
  containerd = await startContainerd({ dir: join(dir, "containerd") });
  rt = new CtrRuntime({ address: containerd.address, namespace: ns, stateDir });
  writeBusyboxImage(join(dir, "busybox.tar"));
  await rt.importImages(join(dir, "busybox.tar"));
}, 60_000);

afterAll(async () => {
  for (const c of (await rt?.list().catch(() => [])) ?? []) await rt.remove(c.id).catch(() => {});
  await rt?.close();
  await containerd?.stop();
  await run(["ip", "netns", "del", netns], { allowFail: true });
  removeHostLeftovers({ cgroupRoot, containerdNamespace: ns });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

function spec(name: string, script: string, labels: Record<string, string> = {}): ContainerSpec {
  return {
    id: `${name}-${id}`,
    image: "busybox:latest",
    labels,
    command: ["sh", "-c", script],
    env: [],
    mounts: [],
    netnsPath: `/var/run/netns/${netns}`,
    cgroupPath: `${cgroupRoot}/${name}`,
    logPath: join(dir, "logs", name, "0.log"),
  };
}

const ctr = async (...args: string[]) => (await run(["ctr", "--address", containerd.address, "-n", ns, ...args])).stdout;

/** Nothing of the container is left: no container record, task or snapshot in containerd, no state files. */
async function expectGone(cid: string): Promise<void> {
  expect((await ctr("containers", "ls", "-q")).split("\n")).not.toContain(cid);
  expect((await ctr("tasks", "ls", "-q")).split("\n")).not.toContain(cid);
  expect((await ctr("snapshots", "ls")).split("\n").map((l) => l.split(/\s+/)[0])).not.toContain(cid);
  for (const d of ["rootfs", "meta", "fifo"]) expect(existsSync(join(stateDir, d, cid))).toBe(false);
  expect(existsSync(join(stateDir, "meta", `${cid}.json`))).toBe(false);
}

test("an exited container whose exit event was heard is reaped with its exit code, and nothing of it is left", async () => {
  const s = spec("exit3", "exit 3");
  await rt.start(s);
  await waitFor("exit", async () => (await rt.list()).find((c) => c.id === s.id)?.state === "exited");
  const exit = await rt.reap(s.id);
  expect(exit.exitCode).toBe(3);
  expect(exit.oomKilled).toBe(false);
  await expectGone(s.id);
}, 60_000);

test("an exit nobody heard (the runtime restarted meanwhile) is still reaped with its exit code", async () => {
  const s = spec("unheard", "sleep 1; exit 7");
  const before = new CtrRuntime({ address: containerd.address, namespace: ns, stateDir });
  await before.start(s);
  await before.close();
  // The container exits while no runtime listens to containerd's events.
  await waitFor("exit", async () => /STOPPED/.test((await ctr("tasks", "ls")).split("\n").find((l) => l.startsWith(s.id)) ?? ""), 20_000);
  const after = new CtrRuntime({ address: containerd.address, namespace: ns, stateDir });
  try {
    expect((await after.list()).find((c) => c.id === s.id)?.state).toBe("exited");
    expect((await after.reap(s.id)).exitCode).toBe(7);
    await expectGone(s.id);
  } finally {
    await after.close();
  }
}, 60_000);

test("remove() kills a running container, waits for its exit and removes everything of it", async () => {
  const s = spec("running", "trap '' TERM; sleep 3600");
  await rt.start(s);
  expect((await rt.list()).find((c) => c.id === s.id)?.state).toBe("running");
  await rt.remove(s.id);
  expect((await rt.list()).map((c) => c.id)).not.toContain(s.id);
  await expectGone(s.id);
  // Removing what is gone already is not an error.
  await rt.remove(s.id);
}, 60_000);

test("containersWithLabel answers from the runtime's records: a pod's containers until they are removed", async () => {
  const a1 = spec("a1", "sleep 3600", { "io.kubun.pod-uid": "pod-a" });
  const a2 = spec("a2", "exit 0", { "io.kubun.pod-uid": "pod-a" });
  const b1 = spec("b1", "sleep 3600", { "io.kubun.pod-uid": "pod-b" });
  await Promise.all([rt.start(a1), rt.start(a2), rt.start(b1)]);
  expect((await rt.containersWithLabel("io.kubun.pod-uid", "pod-a")).sort()).toEqual([a1.id, a2.id].sort());
  expect(await rt.containersWithLabel("io.kubun.pod-uid", "pod-b")).toEqual([b1.id]);
  expect(await rt.containersWithLabel("io.kubun.pod-uid", "pod-c")).toEqual([]);
  // A restarted runtime reads the same records from its state directory.
  const again = new CtrRuntime({ address: containerd.address, namespace: ns, stateDir });
  try {
    expect((await again.containersWithLabel("io.kubun.pod-uid", "pod-a")).sort()).toEqual([a1.id, a2.id].sort());
  } finally {
    await again.close();
  }
  await Promise.all([rt.remove(a1.id), rt.remove(a2.id)]);
  expect(await rt.containersWithLabel("io.kubun.pod-uid", "pod-a")).toEqual([]);
  expect(await rt.containersWithLabel("io.kubun.pod-uid", "pod-b")).toEqual([b1.id]);
  await rt.remove(b1.id);
  expect(await rt.containersWithLabel("io.kubun.pod-uid", "pod-b")).toEqual([]);
}, 60_000);

// Last: it restarts containerd. The kubelet relists on a gap, so exits missed meanwhile are not left to its periodic relist.
test("a containerd restart is reported as a gap in its events, and exits are heard again once it is back", async () => {
  let gaps = 0;
  rt.onEventGap(() => gaps++);
  const exited: string[] = [];
  rt.onExit((cid) => exited.push(cid));
  await containerd.stop();
  await waitFor("a gap when the stream ends", () => gaps >= 1, 20_000);
  containerd = await startContainerd({ dir: join(dir, "containerd") });
  const before = gaps;
  await waitFor("a gap when the stream is subscribed again", () => gaps > before, 20_000);
  const s = spec("after-restart", "exit 0");
  // The new subscription may still be on its way: start containers until one's exit is heard.
  await waitFor("an exit heard after the restart", async () => {
    if (!exited.includes(s.id)) {
      await rt.remove(s.id).catch(() => {});
      await rt.start(s);
      await Bun.sleep(1000);
    }
    return exited.includes(s.id);
  }, 30_000, 0);
  await rt.remove(s.id);
}, 90_000);
