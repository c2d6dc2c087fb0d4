// run(argv, { netns }): the command runs in that network namespace (spawned from inside it, no nsenter process),
// and the agent's own thread is back in its namespace afterwards — what the CNI plugins of a node that lives in
// a test-made namespace rely on. The namespace is made by this test and has no links.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readlinkSync, statSync } from "node:fs";
import { addNetns, delNetns } from "../../internal/runtime/netns.ts";
import { run } from "../../internal/runtime/run.ts";

const name = `ktrn${Math.random().toString(36).slice(2, 6)}`;
const path = `/var/run/netns/${name}`;
beforeAll(async () => {
  await addNetns(name);
});
afterAll(() => delNetns(name));

test("the command runs in the namespace; the caller stays in its own", async () => {
  const own = readlinkSync("/proc/thread-self/ns/net");
  const r = await run(["readlink", "/proc/self/ns/net"], { netns: path });
  expect(r.stdout.trim()).toBe(`net:[${statSync(path).ino}]`);
  expect(r.stdout.trim()).not.toBe(own);
  expect(readlinkSync("/proc/thread-self/ns/net")).toBe(own);
  // What it sees is that namespace's network: only its own loopback.
  const links = await run(["ip", "-o", "link", "show"], { netns: path });
  expect(links.stdout.trim().split("\n").map((l) => l.split(": ")[1])).toEqual(["lo"]);
  // And without the option, this process's namespace.
  expect((await run(["readlink", "/proc/self/ns/net"])).stdout.trim()).toBe(own);
});

test("a namespace that does not exist fails the command (exit 127, as a missing tool), allowFail or not", async () => {
  const r = await run(["true"], { netns: `/var/run/netns/${name}-missing`, allowFail: true });
  expect(r.code).toBe(127);
  await expect(run(["true"], { netns: `/var/run/netns/${name}-missing` })).rejects.toThrow(/exit 127/);
  expect(readlinkSync("/proc/thread-self/ns/net")).toBe(readlinkSync("/proc/self/ns/net"));
});
