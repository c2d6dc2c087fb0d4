// kubun kubectl …: runs the kubectl on PATH against this cluster, as `k3s kubectl` does.
// KUBECONFIG wins when set; otherwise the admin kubeconfig the server wrote.
import { existsSync } from "node:fs";
import { UsageError } from "../internal/config/load.ts";

export const DEFAULT_KUBECONFIG = "/etc/kubun/kubeconfig.yaml";

export function kubeconfigFor(env = process.env): string | undefined {
  if (env.KUBECONFIG) return env.KUBECONFIG;
  const candidates = [DEFAULT_KUBECONFIG, `${env.KUBUN_DATA_DIR ?? "/var/lib/kubun"}/server/cred/admin.kubeconfig`];
  return candidates.find((p) => existsSync(p));
}

export async function runKubectl(args: string[]): Promise<number> {
  const kubectl = Bun.which("kubectl");
  if (!kubectl) throw new UsageError("kubectl: not found on PATH");
  const kubeconfig = kubeconfigFor();
  if (!kubeconfig) throw new UsageError(`kubectl: no kubeconfig: set KUBECONFIG or start 'kubun server' (writes ${DEFAULT_KUBECONFIG})`);
  const proc = Bun.spawn([kubectl, ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    stdio: ["inherit", "inherit", "inherit"],
  });
  return await proc.exited;
}
