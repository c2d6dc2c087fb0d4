// containerd's events read in-process (internal/runtime/events-api.ts) instead of through a `ctr events` helper:
// task exits with their code, the subscription surviving a containerd restart, and no helper process at all.
// The container runs in the test's own containerd namespace with ctr's default (empty) network namespace.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { CtrRuntime } from "../../internal/runtime/ctr.ts";
import { decodeEnvelope, subscribeEvents, type ContainerdEvent } from "../../internal/runtime/events-api.ts";
import { encodeMessage } from "../../internal/runtime/tasks-api.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { waitFor } from "../kubelet/setup.ts";
import { removeHostLeftovers } from "../helpers/hostleftovers.ts";

const dir = tempDir("rt-events-");
const ns = `ktev${Math.random().toString(36).slice(2, 6)}`;
let containerd: Containerd;
const ctr = (...args: string[]) => run(["ctr", "--address", containerd.address, "-n", ns, ...args]);

beforeAll(async () => {
  containerd = await startContainerd({ dir: join(dir, "containerd") });
  writeBusyboxImage(join(dir, "busybox.tar"));
  await ctr("images", "import", "--all-platforms", join(dir, "busybox.tar"));
}, 60_000);

afterAll(async () => {
  await ctr("tasks", "kill", "-s", "KILL", "ev-exit").catch(() => {});
  await ctr("tasks", "delete", "-f", "ev-exit").catch(() => {});
  await ctr("containers", "rm", "ev-exit").catch(() => {});
  await containerd?.stop();
  removeHostLeftovers({ cgroupRoot: `/${ns}`, containerdNamespace: ns });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The pids of this process's children whose command line is `ctr … events`. */
function ctrEventsChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      if (ppid === process.pid && cmd[0]?.endsWith("ctr") && cmd.includes("events")) out.push(Number(name));
    } catch {}
  }
  return out;
}

test("an Envelope with a TaskExit decodes to the fields ctr printed", () => {
  const exitedAt = encodeMessage([[1, 1_700_000_000], [2, 5_000_000]]);
  const taskExit = encodeMessage([[1, "c1"], [2, "c1"], [3, 4242], [4, 3], [5, exitedAt]]);
  const any = encodeMessage([[1, "containerd.events.TaskExit"], [2, taskExit]]);
  const env = encodeMessage([[2, "kubun"], [3, "/tasks/exit"], [4, any]]);
  expect(decodeEnvelope(env)).toEqual({
    namespace: "kubun",
    topic: "/tasks/exit",
    event: { container_id: "c1", id: "c1", pid: 4242, exit_status: 3, exited_at: "2023-11-14T22:13:20.005000000Z" },
  });
  // A zero exit status is omitted on the wire (proto3) and still reads as 0.
  const ok = encodeMessage([[2, "kubun"], [3, "/tasks/exit"], [4, encodeMessage([[2, encodeMessage([[1, "c2"], [2, "c2"]])]])]]);
  expect(decodeEnvelope(ok).event.exit_status).toBe(0);
  expect(() => decodeEnvelope(Buffer.from([0x1a, 0x10, 0x41]))).toThrow();
});

test("a task's exit arrives with its code; the subscription is back after containerd restarts", async () => {
  const seen: ContainerdEvent[] = [];
  let gaps = 0;
  const sub = subscribeEvents(containerd.address, ns, { event: (e) => seen.push(e), gap: () => gaps++ }, 200);
  try {
    await Bun.sleep(300); // subscribed
    await ctr("run", "-d", "docker.io/library/busybox:latest", "ev-exit", "sh", "-c", "exit 3");
    const exit = await waitFor("exit event", () => seen.find((e) => e.topic === "/tasks/exit" && e.event.container_id === "ev-exit"), 15_000, 50);
    expect(exit.event.id).toBe("ev-exit");
    expect(exit.event.exit_status).toBe(3);
    expect(Number.isNaN(Date.parse(exit.event.exited_at!))).toBe(false);
    expect(seen.every((e) => e.namespace === ns)).toBe(true);
    await ctr("tasks", "rm", "ev-exit");
    await ctr("containers", "rm", "ev-exit");

    const gapsBefore = gaps;
    await containerd.stop();
    containerd = await startContainerd({ dir: join(dir, "containerd") });
    await waitFor("resubscribed", () => gaps >= gapsBefore + 2, 15_000, 50);
    await Bun.sleep(300);
    seen.length = 0;
    await ctr("images", "tag", "docker.io/library/busybox:latest", "docker.io/library/ev:1");
    await waitFor("image event after the restart", () => seen.find((e) => e.topic === "/images/create"), 15_000, 50);
  } finally {
    sub.close();
  }
}, 60_000);

test("the ctr runtime starts no `ctr events` helper process", async () => {
  const rt = new CtrRuntime({ address: containerd.address, namespace: ns, stateDir: join(dir, "state") });
  try {
    await Bun.sleep(500);
    expect(ctrEventsChildren()).toEqual([]);
    // It still hears about exits.
    const exited: string[] = [];
    rt.onExit((id) => exited.push(id));
    await ctr("run", "-d", "docker.io/library/busybox:latest", "ev-exit", "sh", "-c", "exit 0");
    await waitFor("exit callback", () => exited.includes("ev-exit"), 15_000, 50);
  } finally {
    await rt.close();
  }
}, 60_000);
