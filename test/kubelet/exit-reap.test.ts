// A container's exit is handled on containerd's exit event alone, as upstream's evented PLEG: the kubelet reaps that
// one container (no listing of every container and task, two `ctr` processes per exit before), and a container is
// reaped once, however its exit is noticed. The agent's commands are read from its KUBUN_TRACE_RUN log.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { refs } from "../../internal/client/refs.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "./setup.ts";

const dir = tempDir("kubelet-reap-");
const trace = join(dir, "trace.log");
let env: Env;
beforeAll(async () => {
  process.env.KUBUN_TRACE_RUN = trace; // the agent process inherits it
  // No periodic relist during the test: any listing seen comes from an exit.
  env = await startEnv(["node-a"], { node: { relistMs: 3_600_000 } });
}, 120_000);
afterAll(async () => {
  delete process.env.KUBUN_TRACE_RUN;
  await env?.cleanup();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const pods = () => env.client.resource(refs.pods, "default");

/** `ctr` subcommands the agent ran that ended at or after `since` (epoch ms), e.g. "containers delete <id>". */
function ctrCommandsSince(since: number): string[] {
  if (!existsSync(trace)) return [];
  const out: string[] = [];
  for (const line of readFileSync(trace, "utf8").split("\n")) {
    const m = /^(\d+) \S+ ctr --address \S+ -n \S+ (.*) cpu=/.exec(line);
    if (m && Number(m[1]) >= since) out.push(m[2]!);
  }
  return out;
}
const listings = (cmds: string[]) => cmds.filter((c) => c.startsWith("containers ls") || c.startsWith("tasks ls"));
const ctr = (...args: string[]) => env.world.ctr(env.nodes[0]!.namespace, args);
/** A container's own directories on its image's shared layers (what it writes). */
const rwDir = (id: string) => join(env.nodes[0]!.dataDir, "agent", "state", "rw", id);

test("an exit is reaped on its event: its exit code is reported, its container and directories are gone, nothing is relisted", async () => {
  await pods().create(busyboxPod("exits", "node-a", "sleep 1; exit 3", { restartPolicy: "Never" }));
  const running = await waitPod(env, "exits", (p) => p.status?.phase === "Running", "Running");
  const id = running.status!.containerStatuses![0]!.containerID!.replace("containerd://", "");
  expect(existsSync(rwDir(id))).toBe(true);
  const since = Date.now();
  const failed = await waitPod(env, "exits", (p) => p.status?.phase === "Failed", "Failed");
  expect(failed.status!.containerStatuses![0]!.state!.terminated!.exitCode).toBe(3);
  await waitFor("container and directories removed", async () => !(await ctr("containers", "ls", "-q")).includes(id) && !existsSync(rwDir(id)), 10_000, 100);
  const cmds = ctrCommandsSince(since);
  expect(listings(cmds)).toEqual([]);
  expect(cmds.filter((c) => c.startsWith("containers delete"))).toEqual([`containers delete ${id}`]);
  // Its writes were in its own upper directory, on the image's shared layers: no snapshot of its own to remove.
  expect(cmds.filter((c) => c.startsWith("snapshots"))).toEqual([]);
}, 60_000);

test("pods deleted together: each container is reaped once, with no relist, and nothing of them is left", async () => {
  const names = Array.from({ length: 6 }, (_, i) => `gone-${i}`);
  for (const n of names) await pods().create(busyboxPod(n, "node-a", "trap 'exit 0' TERM; sleep 3600 & wait"));
  const ids: string[] = [];
  for (const n of names) {
    const p = await waitPod(env, n, (p) => !!p.status?.containerStatuses?.[0]?.state?.running, "Running");
    ids.push(p.status!.containerStatuses![0]!.containerID!.replace("containerd://", ""));
  }
  const since = Date.now();
  await Promise.all(names.map((n) => pods().delete(n)));
  await waitFor("pods gone", async () => (await pods().list()).items.every((p) => !names.includes(p.metadata!.name!)), 30_000, 100);
  const left = await ctr("containers", "ls", "-q");
  for (const id of ids) expect(left).not.toContain(id);
  for (const id of ids) expect(existsSync(rwDir(id))).toBe(false);
  const cmds = ctrCommandsSince(since);
  expect(listings(cmds)).toEqual([]);
  // Every id in exactly one `containers delete` (several may share a command), and no snapshot command.
  const named = (verb: string) => cmds.filter((c) => c.startsWith(verb)).flatMap((c) => c.slice(verb.length).trim().split(" "));
  expect(named("containers delete").sort()).toEqual([...ids].sort());
  expect(cmds.filter((c) => c.startsWith("snapshots"))).toEqual([]);
}, 90_000);
