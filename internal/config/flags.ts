// Every flag is defined once, in a table per command, with its env var and help category (as k3s does).
// The same keys are read from /etc/kubun/config.yaml. Precedence: flag > env > config file > default.

export type FlagType = "string" | "boolean" | "number" | "list";

export interface FlagDef {
  /** Long flag name without dashes; also the config-file key. */
  name: string;
  type: FlagType;
  description: string;
  env?: string;
  default?: string | boolean | number | string[];
  category: "listener" | "data" | "cluster" | "agent/node" | "agent/runtime" | "components" | "client" | "logging";
  /** Short alias, e.g. "t". */
  alias?: string;
}

const dataDir: FlagDef = {
  name: "data-dir",
  alias: "d",
  type: "string",
  description: "Folder to hold state",
  env: "KUBUN_DATA_DIR",
  default: "/var/lib/kubun",
  category: "data",
};
const configFile: FlagDef = {
  name: "config",
  alias: "c",
  type: "string",
  description: "Load configuration from FILE (same keys as the flags)",
  env: "KUBUN_CONFIG_FILE",
  default: "/etc/kubun/config.yaml",
  category: "data",
};
const debug: FlagDef = {
  name: "debug",
  type: "boolean",
  description: "Turn on debug logs",
  env: "KUBUN_DEBUG",
  default: false,
  category: "logging",
};

/** Flags an agent has, whether it runs alone or inside `kubun server`. */
const nodeFlags: FlagDef[] = [
  { name: "node-name", type: "string", description: "Node name (default: hostname)", env: "KUBUN_NODE_NAME", category: "agent/node" },
  { name: "node-ip", type: "string", description: "IP address to advertise for the node", env: "KUBUN_NODE_IP", category: "agent/node" },
  { name: "node-label", type: "list", description: "Registering the node with a label (key=value), repeatable", env: "KUBUN_NODE_LABEL", category: "agent/node" },
  { name: "node-taint", type: "list", description: "Registering the node with a taint (key=value:Effect), repeatable", env: "KUBUN_NODE_TAINT", category: "agent/node" },
  { name: "kube-reserved", type: "string", description: "Resources reserved for system daemons, e.g. cpu=100m,memory=256Mi", env: "KUBUN_KUBE_RESERVED", category: "agent/node" },
  { name: "kubelet-port", type: "number", description: "Port of the kubelet's HTTPS endpoint", env: "KUBUN_KUBELET_PORT", default: 10250, category: "agent/node" },
  { name: "pod-log-dir", type: "string", description: "Root of container logs", env: "KUBUN_POD_LOG_DIR", default: "/var/log/pods", category: "agent/runtime" },
  { name: "ingress-http-port", type: "number", description: "Port of the node's ingress proxy for HTTP", env: "KUBUN_INGRESS_HTTP_PORT", default: 80, category: "agent/node" },
  { name: "ingress-https-port", type: "number", description: "Port of the node's ingress proxy for HTTPS", env: "KUBUN_INGRESS_HTTPS_PORT", default: 443, category: "agent/node" },
  { name: "disable-ingress", type: "boolean", description: "Do not run the ingress proxy on this node (also: --disable ingress)", env: "KUBUN_DISABLE_INGRESS", default: false, category: "agent/node" },
  { name: "ingress-access-log", type: "boolean", description: "Log every request through the ingress proxy at info level (else debug)", env: "KUBUN_INGRESS_ACCESS_LOG", default: false, category: "agent/node" },
];

const snapshotDir: FlagDef = { name: "snapshot-dir", type: "string", description: "Folder for datastore snapshots (default: <data-dir>/server/snapshots)", env: "KUBUN_SNAPSHOT_DIR", category: "data" };
const snapshotRetention: FlagDef = { name: "snapshot-retention", type: "number", description: "Number of snapshots to keep (of the same name)", env: "KUBUN_SNAPSHOT_RETENTION", default: 5, category: "data" };
const datastoreFlags: FlagDef[] = [
  { name: "datastore-endpoint", type: "string", description: "etcd endpoints for HA, comma separated (http://host:2379); default: embedded SQLite", env: "KUBUN_DATASTORE_ENDPOINT", category: "data" },
  { name: "datastore-cafile", type: "string", description: "TLS Certificate Authority file used to secure datastore backend communication", env: "KUBUN_DATASTORE_CAFILE", category: "data" },
  { name: "datastore-certfile", type: "string", description: "TLS certification file used to secure datastore backend communication", env: "KUBUN_DATASTORE_CERTFILE", category: "data" },
  { name: "datastore-keyfile", type: "string", description: "TLS key file used to secure datastore backend communication", env: "KUBUN_DATASTORE_KEYFILE", category: "data" },
];

/** The server's scheduled snapshots (k3s's --etcd-snapshot-* flags). */
const snapshotScheduleFlags: FlagDef[] = [
  { name: "snapshot-schedule-cron", type: "string", description: "Snapshot schedule in cron format (five fields, @daily, @every 6h)", env: "KUBUN_SNAPSHOT_SCHEDULE_CRON", default: "0 */12 * * *", category: "data" },
  snapshotRetention,
  snapshotDir,
  { name: "disable-snapshots", type: "boolean", description: "Disable scheduled snapshots", env: "KUBUN_DISABLE_SNAPSHOTS", default: false, category: "data" },
];

export const serverFlags: FlagDef[] = [
  configFile,
  debug,
  dataDir,
  { name: "https-listen-port", type: "number", description: "HTTPS listen port of the API server", env: "KUBUN_HTTPS_LISTEN_PORT", default: 6443, category: "listener" },
  { name: "bind-address", type: "string", description: "Address the API server binds to", env: "KUBUN_BIND_ADDRESS", default: "0.0.0.0", category: "listener" },
  { name: "advertise-address", type: "string", description: "IP address the API server advertises to cluster members (default: node-ip)", env: "KUBUN_ADVERTISE_ADDRESS", category: "listener" },
  { name: "tls-san", type: "list", description: "Extra hostname or IP in the serving certificate, repeatable", env: "KUBUN_TLS_SAN", category: "listener" },
  { name: "write-kubeconfig", alias: "o", type: "string", description: "Write the admin kubeconfig to this file", env: "KUBUN_KUBECONFIG_OUTPUT", default: "/etc/kubun/kubeconfig.yaml", category: "client" },
  { name: "write-kubeconfig-mode", type: "string", description: "Write the kubeconfig with this mode (octal)", env: "KUBUN_KUBECONFIG_MODE", default: "0600", category: "client" },
  { name: "token", alias: "t", type: "string", description: "Shared secret used to join agents (default: generated)", env: "KUBUN_TOKEN", category: "cluster" },
  { name: "token-file", type: "string", description: "File holding the shared secret (keeps it out of ps)", env: "KUBUN_TOKEN_FILE", category: "cluster" },
  { name: "datastore-endpoint", type: "string", description: "etcd endpoints for HA, comma separated (http://host:2379); default: embedded SQLite", env: "KUBUN_DATASTORE_ENDPOINT", category: "data" },
  { name: "datastore-cafile", type: "string", description: "TLS Certificate Authority file used to secure datastore backend communication", env: "KUBUN_DATASTORE_CAFILE", category: "data" },
  { name: "datastore-certfile", type: "string", description: "TLS certification file used to secure datastore backend communication", env: "KUBUN_DATASTORE_CERTFILE", category: "data" },
  { name: "datastore-keyfile", type: "string", description: "TLS key file used to secure datastore backend communication", env: "KUBUN_DATASTORE_KEYFILE", category: "data" },
  { name: "service-cidr", type: "string", description: "IPv4 network for service ClusterIPs", env: "KUBUN_SERVICE_CIDR", default: "10.43.0.0/16", category: "cluster" },
  { name: "cluster-cidr", type: "string", description: "IPv4 network for pod IPs (a /24 per node)", env: "KUBUN_CLUSTER_CIDR", default: "10.42.0.0/16", category: "cluster" },
  { name: "default-local-storage-path", type: "string", description: "Default local storage path for the local-path provisioner storage class (default: <data-dir>/storage)", env: "KUBUN_DEFAULT_LOCAL_STORAGE_PATH", category: "data" },
  { name: "disable-agent", type: "boolean", description: "Do not run a local agent", env: "KUBUN_DISABLE_AGENT", default: false, category: "components" },
  { name: "disable-scheduler", type: "boolean", description: "Do not run the scheduler", env: "KUBUN_DISABLE_SCHEDULER", default: false, category: "components" },
  { name: "disable-controller-manager", type: "boolean", description: "Do not run the controller manager", env: "KUBUN_DISABLE_CONTROLLER_MANAGER", default: false, category: "components" },
  { name: "disable", type: "list", description: "Do not apply this file of <data-dir>/server/manifests (name without extension), or do not serve this built-in component (dashboard, servicelb), repeatable", env: "KUBUN_DISABLE", category: "components" },
  ...snapshotScheduleFlags,
  ...nodeFlags,
];

export const agentFlags: FlagDef[] = [
  configFile,
  debug,
  dataDir,
  { name: "server", alias: "s", type: "string", description: "Server to connect to (https://host:6443)", env: "KUBUN_URL", category: "cluster" },
  { name: "token", alias: "t", type: "string", description: "Join token (K10…::server:…)", env: "KUBUN_TOKEN", category: "cluster" },
  { name: "token-file", type: "string", description: "File holding the join token", env: "KUBUN_TOKEN_FILE", category: "cluster" },
  { name: "simulate", type: "number", description: "Run N hollow nodes (fake kubelets, for scale tests) instead of a real node", env: "KUBUN_SIMULATE", default: 0, category: "components" },
  { name: "disable", type: "list", description: "Do not run this built-in component (ingress), repeatable", env: "KUBUN_DISABLE", category: "components" },
  ...nodeFlags,
];

export const tokenFlags: FlagDef[] = [configFile, dataDir];

const output: FlagDef = { name: "output", alias: "o", type: "string", description: "Output format: table or json", default: "table", category: "client" };
const nodeName: FlagDef = { name: "node-name", type: "string", description: "Node name in snapshot file names (default: hostname)", env: "KUBUN_NODE_NAME", category: "agent/node" };

/** kubun snapshot save|ls|delete|prune|restore. */
export const snapshotFlags: FlagDef[] = [
  configFile,
  debug,
  dataDir,
  { name: "name", type: "string", description: "Snapshot name prefix (save, prune)", default: "on-demand", category: "data" },
  snapshotDir,
  snapshotRetention,
  nodeName,
  output,
  ...datastoreFlags,
];

/** kubun certificate check|rotate. */
export const certificateFlags: FlagDef[] = [
  configFile,
  debug,
  dataDir,
  output,
  { name: "service", alias: "s", type: "list", description: "Certificates to rotate: kube-apiserver, kubelet (default: all)", category: "data" },
];

const kubeconfig: FlagDef = { name: "kubeconfig", type: "string", description: "Admin kubeconfig of the running server", env: "KUBECONFIG", default: "/etc/kubun/kubeconfig.yaml", category: "client" };

/** kubun token create|list|delete (bootstrap tokens in kube-system, through the API). */
export const tokenAdminFlags: FlagDef[] = [
  configFile,
  debug,
  dataDir,
  kubeconfig,
  { name: "ttl", type: "string", description: "Lifetime of the token (e.g. 24h, 30m; 0 = never expires)", default: "24h", category: "cluster" },
  { name: "description", type: "string", description: "What the token is for", category: "cluster" },
  { name: "usages", type: "list", description: "Usages of the token: authentication, signing", default: ["signing", "authentication"], category: "cluster" },
  { name: "groups", type: "list", description: "Extra groups (system:bootstrappers:...)", default: ["system:bootstrappers:kubun:default-node-token"], category: "cluster" },
  output,
];
