// Pod cgroups are removed from every hierarchy, each hierarchy once however many names point to it, and never
// while something is still inside. A directory tree stands in for /sys/fs/cgroup (rmdir behaves the same on both).
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { podCgroupUids, removePodCgroup } from "../../internal/kubelet/podcgroups.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const A = "0b5e0c9a-1f0e-4c59-9d8e-6f2f3b7a1c01";
const B = "7d1c2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

test("cgroup v1: the pod's cgroup goes from each hierarchy; a busy one stays and is reported", () => {
  const base = tempDir("kubun-cgroups-");
  dirs.push(base);
  for (const h of ["memory", "pids", "cpu,cpuacct"]) {
    mkdirSync(join(base, h, "kubun", `pod${A}`), { recursive: true });
    mkdirSync(join(base, h, "kubun", `pod${B}`, "container"), { recursive: true }); // B still has a container
  }
  symlinkSync("cpu,cpuacct", join(base, "cpu"));
  symlinkSync("cpu,cpuacct", join(base, "cpuacct"));
  mkdirSync(join(base, "memory", "kubun", "not-a-pod"));
  expect([...podCgroupUids("/kubun", base)].sort()).toEqual([A, B]);
  expect(removePodCgroup("/kubun", A, base)).toBe(true);
  for (const h of ["memory", "pids", "cpu,cpuacct"]) expect(existsSync(join(base, h, "kubun", `pod${A}`))).toBe(false);
  expect(removePodCgroup("/kubun", B, base)).toBe(false);
  expect(existsSync(join(base, "memory", "kubun", `pod${B}`, "container"))).toBe(true);
  expect([...podCgroupUids("/kubun", base)]).toEqual([B]);
  // Gone already: nothing to do, not an error.
  expect(removePodCgroup("/kubun", A, base)).toBe(true);
  expect(existsSync(join(base, "memory", "kubun", "not-a-pod"))).toBe(true);
});

test("cgroup v2: one tree", () => {
  const base = tempDir("kubun-cgroups-");
  dirs.push(base);
  writeFileSync(join(base, "cgroup.controllers"), "cpu memory pids\n");
  mkdirSync(join(base, "kubun", `pod${A}`), { recursive: true });
  expect([...podCgroupUids("/kubun", base)]).toEqual([A]);
  expect(removePodCgroup("/kubun", A, base)).toBe(true);
  expect(existsSync(join(base, "kubun", `pod${A}`))).toBe(false);
  expect(podCgroupUids("/elsewhere", base).size).toBe(0);
});
