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

const NS = "default";
const NAME = "kubernetes";
const KEY = `${NS}/${NAME}`;

export function newKubernetesServiceController(ctx: ControllerContext): Controller {
  const svcInf: Informer<Service> = ctx.informers.informerFor<Service>(refs.services);
  const epInf: Informer<Endpoints> = ctx.informers.informerFor<Endpoints>(refs.endpoints);
  const sliceInf: Informer<EndpointSlice> = ctx.informers.informerFor<EndpointSlice>(refs.endpointslices);
  const { queue, run } = controllerQueue(ctx, "kubernetes-service");
  const endpoints = ctx.options.apiServerEndpoints ?? [];
  const port = endpoints[0]?.port ?? 6443;
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
    if (!endpoints.length) return;
    const addresses = endpoints.map((e) => ({ ip: e.ip }));
    const subsets = [{ addresses, ports: [{ name: "https", port, protocol: "TCP" }] }];
    const ep = epInf.getByName(NS, NAME);
    const epc = ctx.client.resource<Endpoints>(refs.endpoints, NS);
    if (!ep) {
      await epc.create({ apiVersion: "v1", kind: "Endpoints", metadata: { name: NAME, namespace: NS, labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } }, subsets }).catch(ignoreExists);
    } else if (JSON.stringify(ep.subsets) !== JSON.stringify(subsets)) {
      await epc.update({ ...structuredClone(ep), subsets });
    }
    const slice = sliceInf.getByName(NS, NAME);
    const sc = ctx.client.resource<EndpointSlice>(refs.endpointslices, NS);
    const sliceEndpoints = endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: true } }));
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
      await run(sync, 1);
    },
  };
}
