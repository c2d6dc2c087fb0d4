// kubun check-config, kubun killall, kubun uninstall: the host side of a node (install.sh puts
// kubun-killall.sh and kubun-uninstall.sh wrappers with the install's paths next to the binary).
import { checkHost, formatResults, failures } from "../internal/agent/checks.ts";
import { killall, uninstall } from "../internal/agent/killall.ts";
import { checkConfigFlags, killallFlags, uninstallFlags } from "../internal/config/hostflags.ts";
import type { Settings } from "../internal/config/load.ts";
import { commandFromFlags } from "./command.ts";

export const checkConfigCommand = commandFromFlags("check-config", "Check the kernel and host for what kubun needs", checkConfigFlags, async (s) => {
  const ports = [Number(s["https-listen-port"]), Number(s["kubelet-port"])].filter((p) => p > 0);
  const results = await checkHost({ dataDir: String(s["data-dir"]), ports });
  console.log(formatResults(results));
  return failures(results).length ? 1 : 0;
});

function killallOptions(s: Settings) {
  return {
    dataDir: String(s["data-dir"]),
    name: String(s.name),
    pidFile: s["pid-file"] ? String(s["pid-file"]) : undefined,
    root: String(s.root),
  };
}

function requireRoot(cmd: string): void {
  if (process.getuid?.() !== 0) throw new Error(`kubun ${cmd}: run as root`);
}

export const killallCommand = commandFromFlags("killall", "Stop kubun and every container, mount and network it set up (keeps data)", killallFlags, async (s) => {
  requireRoot("killall");
  const { pidFile, ...rest } = killallOptions(s);
  for (const line of await killall(pidFile ? { ...rest, pidFile } : rest)) console.log(line);
});

// The files and folders to remove are positional arguments (install.sh's kubun-uninstall.sh lists them).
export const uninstallCommand = commandFromFlags("uninstall", "killall, then remove kubun's services, binary, config, data and logs (and PATH...)", uninstallFlags, async (s, paths) => {
  requireRoot("uninstall");
  const { pidFile, ...rest } = killallOptions(s);
  const remove = paths.map(String);
  for (const line of await uninstall({ ...(pidFile ? { ...rest, pidFile } : rest), remove })) console.log(line);
});
