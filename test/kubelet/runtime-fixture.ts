// The ctr runtime against a private containerd, for tests that drive CtrRuntime directly: a test-made network
// namespace, the offline busybox image, and clean-up of containers, cgroups and containerd's state afterwards.
// useRuntime() registers the beforeAll/afterAll hooks of the calling test file.
import { afterAll, beforeAll } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { CtrRuntime } from "../../internal/runtime/ctr.ts";
import { run } from "../../internal/runtime/run.ts";
import type { ContainerSpec } from "../../internal/runtime/types.ts";
import { removeHostLeftovers } from "../helpers/hostleftovers.ts";

export interface RuntimeFixture {
  dir: string;
  /** Random suffix of this file's names. */
  id: string;
  /** containerd namespace, network namespace and cgroup root share it. */
  ns: string;
  stateDir: string;
  containerd: Containerd;
  rt: CtrRuntime;
  /** A busybox container running `sh -c script` in the test namespace. */
  spec(name: string, script: string, extra?: Partial<ContainerSpec>): ContainerSpec;
  /** `ctr` against this containerd and namespace; its stdout. */
  ctr(...args: string[]): Promise<string>;
  /** Stops containerd and starts it again on the same state (the runtime keeps its own state). */
  restartContainerd(): Promise<void>;
}

export function useRuntime(prefix: string): RuntimeFixture {
  const root = join(import.meta.dir, "..", "..", ".tmp");
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `rt-${prefix}-`));
  const id = Math.random().toString(36).slice(2, 6);
  const ns = `kt${prefix.slice(0, 2)}${id}`;
  const cgroupRoot = `/${ns}`;
  const f: RuntimeFixture = {
    dir,
    id,
    ns,
    stateDir: join(dir, "state"),
    containerd: undefined as unknown as Containerd,
    rt: undefined as unknown as CtrRuntime,
    spec: (name, script, extra = {}) => ({
      id: `${name}-${id}`,
      image: "busybox:latest",
      labels: {},
      command: ["sh", "-c", script],
      env: [],
      mounts: [],
      netnsPath: `/var/run/netns/${ns}`,
      cgroupPath: `${cgroupRoot}/${name}`,
      logPath: join(dir, "logs", name, "0.log"),
      ...extra,
    }),
    ctr: async (...args) => (await run(["ctr", "--address", f.containerd.address, "-n", ns, ...args])).stdout,
    restartContainerd: async () => {
      await f.containerd.stop();
      f.containerd = await startContainerd({ dir: join(dir, "containerd") });
    },
  };
  beforeAll(async () => {
    await run(["ip", "netns", "add", ns]);
    f.containerd = await startContainerd({ dir: join(dir, "containerd") });
    f.rt = new CtrRuntime({ address: f.containerd.address, namespace: ns, stateDir: f.stateDir });
    writeBusyboxImage(join(dir, "busybox.tar"));
    await f.rt.importImages(join(dir, "busybox.tar"));
  }, 60_000);
  afterAll(async () => {
    for (const c of (await f.rt?.list().catch(() => [])) ?? []) await f.rt.remove(c.id).catch(() => {});
    await f.rt?.close();
    await f.containerd?.stop();
    await run(["ip", "netns", "del", ns], { allowFail: true });
    removeHostLeftovers({ cgroupRoot, containerdNamespace: ns });
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
  return f;
}
