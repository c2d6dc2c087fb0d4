// The pod network as the kubelet sees it; the implementation (cni.ts) runs the standard CNI plugins.

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp" | "sctp";
  hostIP?: string;
}

export interface PodNetworkRequest {
  uid: string;
  namespace: string;
  name: string;
  portMappings: PortMapping[];
  /** Called once the pod's namespace exists, before its interfaces are made (containers may be created in it meanwhile). */
  onNamespace?: (netnsPath: string) => void;
}

export interface PodNetwork {
  /** Path of the pod's network namespace. */
  netnsPath: string;
  ips: string[];
}

export interface NodeRoute {
  podCIDR: string;
  nodeIP: string;
}

export interface Network {
  /** Called once the node's podCIDR is known (from Node.spec.podCIDR). */
  configure(podCIDR: string): Promise<void>;
  podCIDR(): string | undefined;
  /** Creates the pod's namespace and networks it; idempotent (returns the existing network). */
  setup(req: PodNetworkRequest): Promise<PodNetwork>;
  /** The network of a pod set up earlier (also by a previous agent run). */
  get(uid: string): PodNetwork | undefined;
  teardown(uid: string): Promise<void>;
  /** host-gw: routes to other nodes' pod CIDRs via their node IPs. */
  syncRoutes(routes: NodeRoute[]): Promise<void>;
  /** Pod uids with a network on this node. */
  list(): string[];
}
