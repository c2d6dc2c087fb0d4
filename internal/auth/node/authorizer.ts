// The Node authorizer, after upstream's plugin/pkg/auth/authorizer/node: requests from system:node:<name> users
// (group system:nodes) may read secrets, configmaps, PVCs and PVs only when a pod bound to that node refers to them,
// create tokens only for their pods' ServiceAccounts, touch only their own Lease; everything else a node does is
// checked against upstream's static node rules. Writes to Node and Pod objects are narrowed further by the
// NodeRestriction admission plugin. Denials are "no-opinion" with upstream's reason, so RBAC still gets a say.
import type { Authorizer, Decision, RequestAttributes, UserInfo } from "../types.ts";
import type { Store } from "../../store/types.ts";
import { NODE_USER_PREFIX, NODES_GROUP } from "../../api/names.ts";
import { nodeRules } from "../rbac/policy.ts";
import { rulesAllow } from "../rbac/rules.ts";
import type { NodeGraph, RefKind } from "./graph.ts";

const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** upstream nodeidentifier: `{ isNode, nodeName }` for a user. */
export function nodeIdentity(user: UserInfo): { isNode: boolean; nodeName: string } {
  if (!user.username.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return { isNode: false, nodeName: "" };
  return { isNode: true, nodeName: user.username.slice(NODE_USER_PREFIX.length) };
}

type Result = { decision: Decision; reason?: string };
const NO: Result = { decision: "no-opinion" };

export class NodeAuthorizer implements Authorizer {
  private rules = nodeRules();

  constructor(
    private graph: NodeGraph,
    private store?: Store,
  ) {}

  async authorize(attrs: RequestAttributes): Promise<Result> {
    const { isNode, nodeName } = nodeIdentity(attrs.user);
    if (!isNode) return NO;
    if (!nodeName) return { decision: "no-opinion", reason: `unknown node for user "${attrs.user.username}"` };
    await this.graph.ready;

    if (attrs.resourceRequest) {
      const group = attrs.apiGroup ?? "";
      const res = attrs.resource ?? "";
      if (group === "") {
        switch (res) {
          case "secrets":
            return this.readNamespaced(nodeName, "secret", attrs);
          case "configmaps":
            return this.readNamespaced(nodeName, "configmap", attrs);
          case "persistentvolumeclaims":
            if (attrs.subresource === "status") return this.statusUpdate(nodeName, "pvc", attrs);
            return this.get(nodeName, "pvc", attrs);
          case "persistentvolumes":
            return this.getPV(nodeName, attrs);
          case "serviceaccounts":
            return this.createToken(nodeName, attrs);
        }
      }
      if (group === "coordination.k8s.io" && res === "leases") return this.lease(nodeName, attrs);
    }
    if (rulesAllow(attrs, this.rules)) return { decision: "allow" };
    return NO;
  }

  private related(nodeName: string, kind: RefKind, attrs: RequestAttributes): Result {
    if (!attrs.name) return { decision: "no-opinion", reason: "No Object name found" };
    if (this.graph.hasRef(nodeName, kind, attrs.namespace ?? "", attrs.name)) return { decision: "allow" };
    return { decision: "no-opinion", reason: `no relationship found between node '${nodeName}' and this object` };
  }

  private readNamespaced(nodeName: string, kind: RefKind, attrs: RequestAttributes): Result {
    if (!["get", "list", "watch"].includes(attrs.verb)) return { decision: "no-opinion", reason: "can only read resources of this type" };
    if (attrs.subresource) return { decision: "no-opinion", reason: "cannot read subresource" };
    if (!attrs.namespace) return { decision: "no-opinion", reason: "can only read namespaced object of this type" };
    return this.related(nodeName, kind, attrs);
  }

  private get(nodeName: string, kind: RefKind, attrs: RequestAttributes): Result {
    if (attrs.verb !== "get") return { decision: "no-opinion", reason: "can only get individual resources of this type" };
    if (attrs.subresource) return { decision: "no-opinion", reason: "cannot get subresource" };
    return this.related(nodeName, kind, attrs);
  }

  private statusUpdate(nodeName: string, kind: RefKind, attrs: RequestAttributes): Result {
    if (attrs.verb !== "update" && attrs.verb !== "patch") return { decision: "no-opinion", reason: "can only get/update/patch this type" };
    if (attrs.subresource !== "status") return { decision: "no-opinion", reason: "can only update status subresource" };
    return this.related(nodeName, kind, attrs);
  }

  /**
   * node <- pod <- pvc <- pv: resolved through the PVCs of the node's pods (few), read from the store.
   * kubun extension for the built-in local-path provisioner, whose directories the node's agent removes: a node may
   * list and watch volumes (they carry no secret data, only names), and update one only when it is a local-path
   * volume on that node (annotation local.path.provisioner/selected-node, written by the controller), to drop the
   * cleanup finalizer.
   */
  private async getPV(nodeName: string, attrs: RequestAttributes): Promise<Result> {
    if ((attrs.verb === "list" || attrs.verb === "watch") && !attrs.subresource) return { decision: "allow" };
    if (["get", "update", "patch"].includes(attrs.verb) && !attrs.subresource && attrs.name && this.store) {
      const { kv } = await this.store.get(`/registry/core/persistentvolumes/${attrs.name}`);
      let onNode = false;
      try {
        onNode = !!kv && JSON.parse(kv.value)?.metadata?.annotations?.["local.path.provisioner/selected-node"] === nodeName;
      } catch {
        onNode = false;
      }
      if (onNode) return { decision: "allow" };
      if (attrs.verb !== "get") return { decision: "no-opinion", reason: `no relationship found between node '${nodeName}' and this object` };
    }
    if (attrs.verb !== "get") return { decision: "no-opinion", reason: "can only get individual resources of this type" };
    if (attrs.subresource) return { decision: "no-opinion", reason: "cannot get subresource" };
    if (!attrs.name) return { decision: "no-opinion", reason: "No Object name found" };
    if (this.store) {
      for (const pvc of this.graph.pvcsOf(nodeName)) {
        const { kv } = await this.store.get(`/registry/core/persistentvolumeclaims/${pvc}`);
        if (!kv) continue;
        try {
          if (JSON.parse(kv.value)?.spec?.volumeName === attrs.name) return { decision: "allow" };
        } catch {
          /* unparseable PVC: no relationship */
        }
      }
    }
    return { decision: "no-opinion", reason: `no relationship found between node '${nodeName}' and this object` };
  }

  private createToken(nodeName: string, attrs: RequestAttributes): Result {
    if (attrs.verb !== "create" || !attrs.name) {
      return { decision: "no-opinion", reason: "can only create tokens for individual service accounts" };
    }
    if (attrs.subresource !== "token") return { decision: "no-opinion", reason: "can only create token subresource of serviceaccount" };
    return this.related(nodeName, "serviceaccount", attrs);
  }

  private lease(nodeName: string, attrs: RequestAttributes): Result {
    if (!["get", "create", "update", "patch", "delete"].includes(attrs.verb)) {
      return { decision: "no-opinion", reason: "can only get, create, update, patch, or delete a node lease" };
    }
    if (attrs.namespace !== NODE_LEASE_NAMESPACE) {
      return { decision: "no-opinion", reason: `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace` };
    }
    if (attrs.verb !== "create" && attrs.name !== nodeName) {
      return { decision: "no-opinion", reason: "can only access node lease with the same name as the requesting node" };
    }
    return { decision: "allow" };
  }
}
