// The `kubernetes` Service in `default`: ClusterIP = first address of the service CIDR, port 443 (https) to the
// API servers, with its Endpoints and EndpointSlice (upstream's apiserver endpoint reconciler does this).

import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Endpoints, Service } from "kubernetes-types/core/v1";
import { nthIP } from "../../allocator/ipv4.ts";
import type { Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { SERVICE_NAME_LABEL } from "../endpoints/controller.ts";
import { ENDPOINT_LABEL, leaseLive, parseEndpoint } from "./publisher.ts";
import type { Lease } from "kubernetes-types/coordination/v1";

const NS = "default";
const NAME = "kubernetes";
const KEY = `${NS}/${NAME}`;

export function newKubernetesServiceController(ctx: ControllerContext): Controller {
  const svcInf: Informer<Service> = ctx.informers.informerFor<Service>(refs.services);
  const epInf: Informer<Endpoints> = ctx.informers.informerFor<Endpoints>(refs.endpoints);
  const sliceInf: Informer<EndpointSlice> = ctx.informers.informerFor<EndpointSlice>(refs.endpointslices);
  const leaseInf: Informer<Lease> = ctx.informers.informerFor<Lease>(refs.leases, { namespace: "kube-system", labelSelector: `${ENDPOINT_LABEL}=true` });
  const { queue, run } = controllerQueue(ctx, "kubernetes-service");
  const own = ctx.options.apiServerEndpoints ?? [];
  const port = own[0]?.port ?? 6443;
  leaseInf.addEventHandler({ onAdd: () => queue.add(KEY), onUpdate: () => queue.add(KEY), onDelete: () => queue.add(KEY) });

  /** Our own endpoints plus every other live server's (published Leases), sorted for stable output. */
  function liveEndpoints(): { ip: string; port: number }[] {
    const all = new Map<string, { ip: string; port: number }>();
    for (const e of own) all.set(`${e.ip}:${e.port}`, e);
    for (const l of leaseInf.list()) {
      const e = parseEndpoint(l);
      if (e && leaseLive(l)) all.set(`${e.ip}:${e.port}`, e);
    }
    return [...all.values()].sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`, undefined, { numeric: true }));
  }
  const ours = (o: { metadata?: { namespace?: string; name?: string } }) => {
    if (o.metadata?.namespace === NS && o.metadata?.name === NAME) queue.add(KEY);
  };
  for (const inf of [svcInf, epInf, sliceInf] as Informer<any>[]) {
    inf.addEventHandler({ onAdd: ours, onUpdate: (_o, n) => ours(n), onDelete: ours });
  }

  const ignoreExists = (e: unknown) => {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  };

  async function sync(): Promise<void> {
    const labels = { component: "apiserver", provider: "kubernetes" };
    const svc = svcInf.getByName(NS, NAME);
    const spec: Service["spec"] = {
      type: "ClusterIP",
      clusterIP: nthIP(ctx.options.serviceCIDR || "10.43.0.0/16", 1),
      ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }],
      sessionAffinity: "None",
    };
    if (!svc) {
      await ctx.client
        .resource<Service>(refs.services, NS)
        .create({ apiVersion: "v1", kind: "Service", metadata: { name: NAME, namespace: NS, labels }, spec })
        .catch(ignoreExists);
    } else if (JSON.stringify(svc.spec?.ports?.map((p) => [p.name, p.port, p.protocol, p.targetPort])) !== JSON.stringify(spec.ports!.map((p) => [p.name, p.port, p.protocol, p.targetPort]))) {
      await ctx.client.resource<Service>(refs.services, NS).update({ ...structuredClone(svc), spec: { ...svc.spec, ports: spec.ports } });
    }
    const endpoints = liveEndpoints();
    if (!endpoints.length) return;
    // One subset per port (servers may listen on different ports), as Endpoints repacking does.
    const byPort = new Map<number, string[]>();
    for (const e of endpoints) byPort.set(e.port, [...(byPort.get(e.port) ?? []), e.ip]);
    const subsets = [...byPort].sort((a, b) => a[0] - b[0]).map(([p, ips]) => ({ addresses: [...new Set(ips)].map((ip) => ({ ip })), ports: [{ name: "https", port: p, protocol: "TCP" }] }));
    const ep = epInf.getByName(NS, NAME);
    const epc = ctx.client.resource<Endpoints>(refs.endpoints, NS);
    if (!ep) {
      await epc.create({ apiVersion: "v1", kind: "Endpoints", metadata: { name: NAME, namespace: NS, labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } }, subsets }).catch(ignoreExists);
    } else if (JSON.stringify(ep.subsets) !== JSON.stringify(subsets)) {
      await epc.update({ ...structuredClone(ep), subsets });
    }
    const slice = sliceInf.getByName(NS, NAME);
    const sc = ctx.client.resource<EndpointSlice>(refs.endpointslices, NS);
    // The slice carries one port: servers on other ports are only in Endpoints (one slice per port would be upstream's).
    const sliceEndpoints = endpoints.filter((e) => e.port === port).map((e) => ({ addresses: [e.ip], conditions: { ready: true } }));
    const slicePorts = [{ name: "https", port, protocol: "TCP" }];
    if (!slice) {
      await sc
        .create({
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: { name: NAME, namespace: NS, labels: { [SERVICE_NAME_LABEL]: NAME } },
          addressType: "IPv4",
          endpoints: sliceEndpoints,
          ports: slicePorts,
        })
        .catch(ignoreExists);
    } else if (JSON.stringify(slice.endpoints) !== JSON.stringify(sliceEndpoints) || JSON.stringify(slice.ports) !== JSON.stringify(slicePorts)) {
      await sc.update({ ...structuredClone(slice), endpoints: sliceEndpoints, ports: slicePorts });
    }
  }

  return {
    name: "kubernetes-service",
    async run() {
      queue.add(KEY);
      // Other servers' Leases expire without an event: look again periodically.
      const timer = setInterval(() => queue.add(KEY), 15_000);
      ctx.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
      await run(sync, 1);
    },
  };
}
