// Flags of the host commands: check-config, killall, uninstall (what k3s ships as check-config, k3s-killall.sh and
// k3s-uninstall.sh). data-dir and config mean what they mean for server and agent.
import type { FlagDef } from "./flags.ts";

const common: FlagDef[] = [
  { name: "config", alias: "c", type: "string", description: "Load configuration from FILE (same keys as the flags)", env: "KUBUN_CONFIG_FILE", default: "/etc/kubun/config.yaml", category: "data" },
  { name: "debug", type: "boolean", description: "Turn on debug logs", env: "KUBUN_DEBUG", default: false, category: "logging" },
  { name: "data-dir", alias: "d", type: "string", description: "Folder to hold state", env: "KUBUN_DATA_DIR", default: "/var/lib/kubun", category: "data" },
];

export const checkConfigFlags: FlagDef[] = [
  ...common,
  { name: "https-listen-port", type: "number", description: "API server port that must be free (0: do not check)", env: "KUBUN_HTTPS_LISTEN_PORT", default: 6443, category: "listener" },
  { name: "kubelet-port", type: "number", description: "Kubelet port that must be free (0: do not check)", env: "KUBUN_KUBELET_PORT", default: 10250, category: "agent/node" },
];

export const killallFlags: FlagDef[] = [
  ...common,
  { name: "name", type: "string", description: "Service name given at install (INSTALL_KUBUN_NAME)", default: "kubun", category: "components" },
  { name: "pid-file", type: "string", description: "Pid file of kubun run without an init system (default: <data-dir>/kubun.pid)", category: "components" },
  { name: "root", type: "string", description: "Root the service files were installed under (INSTALL_KUBUN_ROOT; testing and packaging)", default: "/", category: "components" },
];

/** kubun uninstall [flags] PATH...: the paths are what install.sh created; the data dir is always removed. */
export const uninstallFlags: FlagDef[] = killallFlags;
