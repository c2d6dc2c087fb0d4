// kubun agent: join a server as a worker node (or run hollow nodes with --simulate N).
import type { AgentOptions } from "../internal/agent/index.ts";
import { agentFlags } from "../internal/config/flags.ts";
import { UsageError, type Settings } from "../internal/config/load.ts";
import { logger } from "../internal/log/log.ts";
import { INGRESS_NODE_LABEL } from "../internal/api/ingress.ts";
import { commandFromFlags } from "./command.ts";
import { joinTokenFrom } from "./tokensource.ts";
import { notifyReady } from "./notify.ts";
import { collectStartupCodeLater, releaseStartupPagesLater } from "./startuppages.ts";
import { untilSignal } from "./signals.ts";

const log = logger("agent");

function joinToken(s: Settings): string {
  const token = joinTokenFrom(s, log);
  if (!token) throw new UsageError("kubun agent: --token-file (or $KUBUN_TOKEN, or --token) is required");
  return token;
}

export const agentCommand = commandFromFlags("agent", "Run a node agent", agentFlags, async (s) => {
  if (!s.server) throw new UsageError("kubun agent: --server (or $KUBUN_URL) is required");
  // Several servers (HA) may be given comma-separated: the agent fails over between them.
  const server = String(s.server);
  for (const url of server.split(","))
    if (!/^https:\/\/[^/,]+/.test(url.trim())) throw new UsageError(`kubun agent: --server must be https:// URLs (comma-separated for several), got ${JSON.stringify(url)}`);
  const token = joinToken(s);
  const signal = untilSignal();
  const simulate = Number(s.simulate ?? 0);

  if (simulate > 0) {
    const server = String(s.server).split(",")[0]!.trim();
    // Hollow nodes: each gets its own node credentials so the Node authorizer treats it as that node.
    const { joinCluster, loadNodePassword } = await import("../internal/auth/join.ts");
    const { runHollowNodes } = await import("../internal/hollow/index.ts");
    const prefix = String(s["node-name"] ?? "hollow");
    const dataDir = String(s["data-dir"]);
    const creds = await joinCluster({ server, token, nodeName: `${prefix}-0`, dataDir });
    log.info("running hollow nodes", { count: simulate, prefix });
    await runHollowNodes(
      { server, token: creds.nodeToken, caPEM: creds.caPEM, userAgent: "kubun-hollow" },
      {
        count: simulate,
        prefix,
        signal,
        credentialsFor: async (nodeName: string) => {
          // Joining again replaces a node's token, so the first node reuses the one the shared watches hold.
          if (nodeName === `${prefix}-0`) return { server, token: creds.nodeToken, caPEM: creds.caPEM, userAgent: "kubun-hollow" };
          // All hollow nodes of this agent share its node password, so they can join again after a restart.
          const c = await joinCluster({ server, token, nodeName, password: loadNodePassword(dataDir) });
          return { server, token: c.nodeToken, caPEM: c.caPEM, userAgent: "kubun-hollow" };
        },
      },
    );
    return;
  }

  const { runAgent } = await import("../internal/agent/index.ts");
  await runAgent({
    ...agentOptions(s, server, token, signal),
    onReady: () => {
      notifyReady("agent ready");
      void releaseStartupPagesLater(signal);
      void collectStartupCodeLater(signal);
    },
  });
});

/** The agent's settings from the flags both `kubun agent` and `kubun server` (its local agent) take. */
export function agentOptions(s: Settings, server: string, token: string, signal: AbortSignal): AgentOptions {
  const ingressOff = !!s["disable-ingress"] || ((s["disable"] as string[] | undefined) ?? []).includes("ingress");
  return {
    server,
    token,
    dataDir: String(s["data-dir"]),
    nodeName: s["node-name"] as string | undefined,
    nodeIP: s["node-ip"] as string | undefined,
    // The node says whether it runs the ingress proxy, so Ingress status lists only nodes that serve it.
    nodeLabels: [...((s["node-label"] as string[] | undefined) ?? []), `${INGRESS_NODE_LABEL}=${!ingressOff}`],
    nodeTaints: (s["node-taint"] as string[] | undefined) ?? [],
    kubeReserved: s["kube-reserved"] as string | undefined,
    kubeletPort: Number(s["kubelet-port"]),
    podLogDir: s["pod-log-dir"] ? String(s["pod-log-dir"]) : undefined,
    ingress: {
      disabled: ingressOff,
      httpPort: Number(s["ingress-http-port"] ?? 80),
      httpsPort: Number(s["ingress-https-port"] ?? 443),
      accessLog: !!s["ingress-access-log"],
    },
    signal,
  };
}
