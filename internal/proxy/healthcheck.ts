// The health check node ports of LoadBalancer Services with externalTrafficPolicy Local, as kube-proxy serves them:
// an HTTP server on spec.healthCheckNodePort answering 200 when this node has ready endpoints of the Service and
// 503 when it has none, with upstream's JSON body, so an outside load balancer sends traffic only to nodes that
// keep the client address and have somewhere to send it.
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Logger } from "../log/log.ts";
import { inNetns } from "../runtime/netns.ts";

interface Target {
  namespace: string;
  name: string;
  localEndpoints: number;
}

/** healthCheckNodePort → what it reports, for the Services that have one. */
export function healthChecks(services: Iterable<Service>, slicesOf: (svc: Service) => EndpointSlice[], nodeName: string): Map<number, Target> {
  const out = new Map<number, Target>();
  for (const svc of services) {
    const port = svc.spec?.healthCheckNodePort;
    if (!port || svc.spec?.type !== "LoadBalancer" || svc.spec.externalTrafficPolicy !== "Local") continue;
    const local = new Set<string>();
    for (const sl of slicesOf(svc))
      for (const ep of sl.endpoints ?? []) if (ep.nodeName === nodeName && (ep.conditions?.ready ?? true) && ep.addresses?.[0]) local.add(ep.addresses[0]);
    out.set(port, { namespace: svc.metadata?.namespace ?? "default", name: svc.metadata?.name ?? "", localEndpoints: local.size });
  }
  return out;
}

/** Keeps one listener per health check port; update() opens new ports, closes gone ones, refreshes the counts. */
export class HealthCheckServers {
  private servers = new Map<number, ReturnType<typeof Bun.serve>>();
  private targets = new Map<number, Target>();

  constructor(
    private log: Logger,
    private netnsPath?: string,
  ) {}

  update(next: Map<number, Target>): void {
    this.targets = next;
    for (const [port, server] of this.servers) {
      if (next.has(port)) continue;
      server.stop(true);
      this.servers.delete(port);
    }
    for (const port of next.keys()) {
      if (this.servers.has(port)) continue;
      try {
        const server = inNetns(this.netnsPath, () => Bun.serve({ hostname: "0.0.0.0", port, fetch: () => this.answer(port) }));
        this.servers.set(port, server);
      } catch (e) {
        this.log.warn("could not open a health check node port", { port, error: e as Error });
      }
    }
  }

  private answer(port: number): Response {
    const t = this.targets.get(port);
    if (!t) return new Response("not found\n", { status: 404 });
    const body = JSON.stringify({ service: { namespace: t.namespace, name: t.name }, localEndpoints: t.localEndpoints, serviceProxyHealthy: true });
    return new Response(body, {
      status: t.localEndpoints > 0 ? 200 : 503,
      headers: { "Content-Type": "application/json", "X-Content-Type-Options": "nosniff", "X-Load-Balancing-Endpoint-Weight": String(t.localEndpoints) },
    });
  }

  stop(): void {
    for (const s of this.servers.values()) s.stop(true);
    this.servers.clear();
  }
}
