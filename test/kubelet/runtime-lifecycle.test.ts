// The ctr runtime's end of a container with real containers (in a test-made network namespace): an exited container
// is reaped with its exit code whether its exit event was heard (the task goes with `ctr containers delete`) or not
// (an agent restarted meanwhile: `ctr tasks delete` tells the code); remove() kills a running one and waits for its
// exit event; containersWithLabel answers from the runtime's own records. Nothing of a removed container is left in
// containerd (container, task, snapshot) or in the state directory.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CtrRuntime } from "../../internal/runtime/ctr.ts";
import type { ContainerSpec } from "../../internal/runtime/types.ts";
import { useRuntime } from "./runtime-fixture.ts";
import { waitFor } from "./setup.ts";

const f = useRuntime("life");
const { ns, stateDir, ctr } = f;
const spec = (name: string, script: string, labels: Record<string, string> = {}): ContainerSpec => f.spec(name, script, { labels });
const runtime = () => new CtrRuntime({ address: f.containerd.address, namespace: ns, stateDir });

/** Nothing of the container is left: no container record, task or snapshot in containerd, no state files. */
async function expectGone(cid: string): Promise<void> {
  expect((await ctr("containers", "ls", "-q")).split("\n")).not.toContain(cid);
  expect((await ctr("tasks", "ls", "-q")).split("\n")).not.toContain(cid);
  expect((await ctr("snapshots", "ls")).split("\n").map((l) => l.split(/\s+/)[0])).not.toContain(cid);
  for (const d of ["rootfs", "rw", "meta", "fifo"]) expect(existsSync(join(stateDir, d, cid))).toBe(false);
  expect(existsSync(join(stateDir, "meta", `${cid}.json`))).toBe(false);
}

test("an exited container whose exit event was heard is reaped with its exit code, and nothing of it is left", async () => {
  const s = spec("exit3", "exit 3");
  await f.rt.start(s);
  await waitFor("exit", async () => (await f.rt.list()).find((c) => c.id === s.id)?.state === "exited");
  const exit = await f.rt.reap(s.id);
  expect(exit.exitCode).toBe(3);
  expect(exit.oomKilled).toBe(false);
  await expectGone(s.id);
}, 60_000);

test("an exit nobody heard (the runtime restarted meanwhile) is still reaped with its exit code", async () => {
  const s = spec("unheard", "sleep 1; exit 7");
  const before = runtime();
  await before.start(s);
  await before.close();
  // The container exits while no runtime listens to containerd's events.
  await waitFor("exit", async () => /STOPPED/.test((await ctr("tasks", "ls")).split("\n").find((l) => l.startsWith(s.id)) ?? ""), 20_000);
  const after = runtime();
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
  await f.rt.start(s);
  expect((await f.rt.list()).find((c) => c.id === s.id)?.state).toBe("running");
  await f.rt.remove(s.id);
  expect((await f.rt.list()).map((c) => c.id)).not.toContain(s.id);
  await expectGone(s.id);
  // Removing what is gone already is not an error.
  await f.rt.remove(s.id);
}, 60_000);

test("containersWithLabel answers from the runtime's records: a pod's containers until they are removed", async () => {
  const a1 = spec("a1", "sleep 3600", { "io.kubun.pod-uid": "pod-a" });
  const a2 = spec("a2", "exit 0", { "io.kubun.pod-uid": "pod-a" });
  const b1 = spec("b1", "sleep 3600", { "io.kubun.pod-uid": "pod-b" });
  await Promise.all([f.rt.start(a1), f.rt.start(a2), f.rt.start(b1)]);
  expect((await f.rt.containersWithLabel("io.kubun.pod-uid", "pod-a")).sort()).toEqual([a1.id, a2.id].sort());
  expect(await f.rt.containersWithLabel("io.kubun.pod-uid", "pod-b")).toEqual([b1.id]);
  expect(await f.rt.containersWithLabel("io.kubun.pod-uid", "pod-c")).toEqual([]);
  // A restarted runtime reads the same records from its state directory.
  const again = runtime();
  try {
    expect((await again.containersWithLabel("io.kubun.pod-uid", "pod-a")).sort()).toEqual([a1.id, a2.id].sort());
  } finally {
    await again.close();
  }
  await Promise.all([f.rt.remove(a1.id), f.rt.remove(a2.id)]);
  expect(await f.rt.containersWithLabel("io.kubun.pod-uid", "pod-a")).toEqual([]);
  expect(await f.rt.containersWithLabel("io.kubun.pod-uid", "pod-b")).toEqual([b1.id]);
  await f.rt.remove(b1.id);
  expect(await f.rt.containersWithLabel("io.kubun.pod-uid", "pod-b")).toEqual([]);
}, 60_000);

// Last: it restarts containerd. The kubelet relists on a gap, so exits missed meanwhile are not left to its periodic relist.
test("a containerd restart is reported as a gap in its events, and exits are heard again once it is back", async () => {
  let gaps = 0;
  f.rt.onEventGap(() => gaps++);
  const exited: string[] = [];
  f.rt.onExit((cid) => exited.push(cid));
  await f.containerd.stop();
  await waitFor("a gap when the stream ends", () => gaps >= 1, 20_000);
  await f.restartContainerd(); // the stopped one stays stopped; a new one on the same state
  const s = spec("after-restart", "exit 0");
  // The new subscription may still be on its way: start containers until one's exit is heard.
  await waitFor("an exit heard after the restart", async () => {
    if (!exited.includes(s.id)) {
      await f.rt.remove(s.id).catch(() => {});
      await f.rt.start(s);
      await Bun.sleep(1000);
    }
    return exited.includes(s.id);
  }, 30_000, 0);
  await f.rt.remove(s.id);
  // The stream's end and its subscription anew were both reported.
  expect(gaps).toBeGreaterThanOrEqual(2);
}, 90_000);
