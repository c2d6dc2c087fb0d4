// The agent's side of the ingress proxy: started with the node's own ingress credential (system:kubun-ingress),
// in the node's network namespace; a port already taken is logged and leaves the rest of the node running.
import type { ServerPool } from "../client/servers.ts";
import type { Logger } from "../log/log.ts";
import { startIngress } from "./index.ts";

export interface AgentIngressOptions {
  disabled?: boolean;
  httpPort?: number;
  httpsPort?: number;
  accessLog?: boolean;
}

export function startAgentIngress(o: {
  opts?: AgentIngressOptions;
  servers: ServerPool;
  token: () => string;
  caPEM: string;
  nodeName: string;
  netns?: string;
  runDir: string;
  log: Logger;
  signal: AbortSignal;
}): void {
  if (o.opts?.disabled) return void o.log.info("ingress proxy disabled");
  const token = o.token();
  if (!token) return void o.log.warn("no ingress credentials (cached by an older agent?): ingress proxy not started");
  const cfg = { server: o.servers.current(), servers: o.servers, token, tokenSource: o.token, caPEM: o.caPEM, userAgent: `kubun-ingress/${o.nodeName}` };
  startIngress(cfg, {
    httpPort: o.opts?.httpPort ?? 80,
    httpsPort: o.opts?.httpsPort ?? 443,
    netns: o.netns,
    runDir: o.runDir,
    stateDir: o.runDir,
    accessLog: o.opts?.accessLog,
    signal: o.signal,
    log: o.log,
  }).catch((e) => o.log.error("ingress proxy not started", { error: e as Error }));
}
