// What a test's containers leave on the host outside the repository, removed once its containerd has stopped:
// the cgroups under the test's cgroup root (runc removes a container's own, never the parents it made), and runc's
// state directory for the test's containerd namespace (/run/containerd/runc/<ns>, where the runc shim keeps it).
import { readdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const CGROUP_FS = "/sys/fs/cgroup";
const RUNC_ROOT = "/run/containerd/runc";

/** rmdir every directory under `dir`, deepest first (cgroupfs allows no other removal); errors are ignored. */
function rmdirTree(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    try {
      if (statSync(p).isDirectory()) rmdirTree(p);
    } catch {}
  }
  try {
    rmdirSync(dir);
  } catch {}
}

export function removeHostLeftovers(o: { cgroupRoot?: string; containerdNamespace?: string }): void {
  if (o.cgroupRoot) {
    rmdirTree(join(CGROUP_FS, o.cgroupRoot));
    for (const h of readdirSync(CGROUP_FS)) rmdirTree(join(CGROUP_FS, h, o.cgroupRoot));
  }
  if (o.containerdNamespace) rmSync(join(RUNC_ROOT, o.containerdNamespace), { recursive: true, force: true });
}
