// The pod-level cgroup, <cgroupRoot>/pod<uid>, in every hierarchy: runc makes it as the parent of the pod's
// containers and removes only the containers' own cgroups, so the kubelet removes the pod's once its containers are
// gone, as upstream's pod container manager does. Left behind, each deleted pod would keep an empty cgroup per
// hierarchy for ever: kernel memory on every node, and after 65,535 memory cgroups no container can start.
import { existsSync, readdirSync, realpathSync, rmdirSync } from "node:fs";
import { join } from "node:path";

const CGROUP_FS = "/sys/fs/cgroup";
const POD_DIR = /^pod([0-9a-f-]{36})$/;

/** The hierarchy roots: the cgroup v2 mount itself, or each v1 hierarchy once (cpu → cpu,cpuacct is one). */
function hierarchies(base: string): string[] {
  if (existsSync(join(base, "cgroup.controllers"))) return [base];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const roots = new Set<string>();
  for (const name of names) {
    try {
      roots.add(realpathSync(join(base, name)));
    } catch {}
  }
  return [...roots];
}

/** Removes the pod's cgroup wherever it exists; false when one is still in use (a container not reaped yet). */
export function removePodCgroup(cgroupRoot: string, uid: string, base = CGROUP_FS): boolean {
  let removed = true;
  for (const h of hierarchies(base)) {
    const dir = join(h, cgroupRoot, `pod${uid}`);
    try {
      rmdirSync(dir);
    } catch (e: any) {
      if (e?.code !== "ENOENT") removed = false; // EBUSY: a child cgroup or a process is still there
    }
  }
  return removed;
}

/** uids of the pod cgroups under cgroupRoot in any hierarchy. */
export function podCgroupUids(cgroupRoot: string, base = CGROUP_FS): Set<string> {
  const out = new Set<string>();
  for (const h of hierarchies(base)) {
    let names: string[];
    try {
      names = readdirSync(join(h, cgroupRoot));
    } catch {
      continue;
    }
    for (const n of names) {
      const m = POD_DIR.exec(n);
      if (m) out.add(m[1]!);
    }
  }
  return out;
}
