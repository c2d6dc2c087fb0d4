// Node IPAM: every node gets a stable /24 (spec.podCIDR + podCIDRs) from the cluster CIDR, no two nodes the
// same; a deleted node's range becomes free again. The allocation map is rebuilt from the nodes themselves
// (upstream's range allocator does the same at start), so it survives restarts and leader changes.

import type { Node } from "kubernetes-types/core/v1";
import { formatCidr4, formatIPv4, parseCidr4, parseIPv4 } from "../../allocator/ipv4.ts";
import type { Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";

export function newNodeIpamController(ctx: ControllerContext, maskSize = 24): Controller {
  const log = ctx.log.child("nodeipam");
  const cluster = parseCidr4(ctx.options.clusterCIDR || "10.42.0.0/16");
  if (maskSize < cluster.prefix) throw new Error(`node CIDR mask /${maskSize} is larger than the cluster CIDR ${formatCidr4(cluster)}`);
  const blockSize = 2 ** (32 - maskSize);
  const count = cluster.size / blockSize;
  const nodeInf: Informer<Node> = ctx.informers.informerFor<Node>(refs.nodes);
  const { queue, run } = controllerQueue(ctx, "nodeipam");
  const nodes = ctx.client.resource<Node>(refs.nodes);
  /** block index → node name */
  const used = new Map<number, string>();

  const indexOf = (cidr: string): number | undefined => {
    const [ip, bits] = cidr.split("/");
    const n = parseIPv4(ip ?? "");
    if (n === undefined || Number(bits) !== maskSize) return undefined;
    const off = n - cluster.base;
    return off >= 0 && off < cluster.size && off % blockSize === 0 ? off / blockSize : undefined;
  };
  const cidrOf = (i: number) => `${formatIPv4((cluster.base + i * blockSize) >>> 0)}/${maskSize}`;

  function occupy(node: Node) {
    const c = node.spec?.podCIDR;
    const i = c ? indexOf(c) : undefined;
    if (i !== undefined) used.set(i, node.metadata!.name!);
  }
  nodeInf.addEventHandler({
    onAdd: (n) => {
      occupy(n);
      queue.add(n.metadata!.name!);
    },
    onUpdate: (_o, n) => {
      occupy(n);
      if (!n.spec?.podCIDR) queue.add(n.metadata!.name!);
    },
    onDelete: (n) => {
      const c = n.spec?.podCIDR;
      const i = c ? indexOf(c) : undefined;
      if (i !== undefined && used.get(i) === n.metadata!.name) used.delete(i);
    },
  });

  async function sync(name: string): Promise<void> {
    const node = nodeInf.get(name);
    if (!node || node.spec?.podCIDR) return;
    let i = 0;
    while (i < count && used.has(i)) i++;
    if (i >= count) {
      ctx.recorder("cidrAllocator").event({ ...node, kind: "Node", apiVersion: "v1" }, "Normal", "CIDRNotAvailable", `Node ${name} status is now: CIDRNotAvailable`);
      throw new Error(`no free /${maskSize} left in ${formatCidr4(cluster)} for node ${name}`);
    }
    const cidr = cidrOf(i);
    used.set(i, name);
    try {
      // Guarded by resourceVersion (update), so a concurrent writer makes us retry instead of double-assigning.
      await nodes.update({ ...structuredClone(node), spec: { ...(node.spec ?? {}), podCIDR: cidr, podCIDRs: [cidr] } });
      log.info("assigned pod CIDR", { node: name, podCIDR: cidr });
    } catch (e) {
      used.delete(i);
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
  }

  return { name: "nodeipam", run: () => run(sync, 1) };
}
