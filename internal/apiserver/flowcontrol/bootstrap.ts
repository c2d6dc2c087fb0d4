// Upstream's mandatory and suggested API Priority and Fairness objects (k8s.io/apiserver
// pkg/apis/flowcontrol/bootstrap, flowcontrol.apiserver.k8s.io/v1 as of Kubernetes 1.32), and the start-up step that
// puts them in the store: mandatory objects are always restored to their spec; suggested ones are created when
// missing and kept up to date while their `apf.kubernetes.io/autoupdate-spec` annotation is "true".
import type { FlowSchema, PriorityLevelConfiguration, Subject, ResourcePolicyRule, NonResourcePolicyRule } from "kubernetes-types/flowcontrol/v1";
import { deepEqual } from "../validation/util.ts";
import { AUTHENTICATED_GROUP, COMPONENT_USERS, NODES_GROUP, PRIVILEGED_GROUP, SERVICE_ACCOUNTS_GROUP, UNAUTHENTICATED_GROUP } from "../../api/names.ts";
import { KeyExistsError, type Store } from "../../store/types.ts";

export const AUTO_UPDATE_ANNOTATION = "apf.kubernetes.io/autoupdate-spec";
export const FS_PREFIX = "/registry/flowcontrol.apiserver.k8s.io/flowschemas/";
export const PL_PREFIX = "/registry/flowcontrol.apiserver.k8s.io/prioritylevelconfigurations/";

const group = (name: string): Subject => ({ kind: "Group", group: { name } });
const user = (name: string): Subject => ({ kind: "User", user: { name } });
const kubeSystemSA = (name: string): Subject => ({ kind: "ServiceAccount", serviceAccount: { namespace: "kube-system", name } });
const ALL_RESOURCES: ResourcePolicyRule = { verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true };
const ALL_NON_RESOURCES: NonResourcePolicyRule = { verbs: ["*"], nonResourceURLs: ["*"] };
const AUTHENTICATED_OR_NOT = [group(UNAUTHENTICATED_GROUP), group(AUTHENTICATED_GROUP)];

function pl(name: string, spec: PriorityLevelConfiguration["spec"]): PriorityLevelConfiguration {
  return { apiVersion: "flowcontrol.apiserver.k8s.io/v1", kind: "PriorityLevelConfiguration", metadata: { name, annotations: { [AUTO_UPDATE_ANNOTATION]: "true" } }, spec };
}

function queued(shares: number, lendablePercent: number, queues: number, handSize: number): PriorityLevelConfiguration["spec"] {
  return {
    type: "Limited",
    limited: {
      nominalConcurrencyShares: shares,
      lendablePercent,
      limitResponse: { type: "Queue", queuing: { queues, handSize, queueLengthLimit: 50 } },
    },
  };
}

function fs(name: string, level: string, precedence: number, distinguisher: "ByUser" | "ByNamespace" | "", subjects: Subject[], resourceRules?: ResourcePolicyRule[], nonResourceRules?: NonResourcePolicyRule[]): FlowSchema {
  return {
    apiVersion: "flowcontrol.apiserver.k8s.io/v1",
    kind: "FlowSchema",
    metadata: { name, annotations: { [AUTO_UPDATE_ANNOTATION]: "true" } },
    spec: {
      priorityLevelConfiguration: { name: level },
      matchingPrecedence: precedence,
      ...(distinguisher ? { distinguisherMethod: { type: distinguisher } } : {}),
      rules: [{ subjects, ...(resourceRules ? { resourceRules } : {}), ...(nonResourceRules ? { nonResourceRules } : {}) }],
    },
  };
}

const leaderElectionRules = (endpointNamespaces: string[]): ResourcePolicyRule[] => [
  { verbs: ["get", "create", "update"], apiGroups: [""], resources: ["endpoints", "configmaps"], namespaces: endpointNamespaces },
  { verbs: ["get", "create", "update"], apiGroups: ["coordination.k8s.io"], resources: ["leases"], namespaces: ["*"] },
];

export const MANDATORY_PRIORITY_LEVELS: PriorityLevelConfiguration[] = [
  pl("exempt", { type: "Exempt", exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } }),
  pl("catch-all", { type: "Limited", limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: "Reject" } } }),
];

export const SUGGESTED_PRIORITY_LEVELS: PriorityLevelConfiguration[] = [
  pl("system", queued(30, 33, 64, 6)),
  pl("node-high", queued(40, 25, 64, 6)),
  pl("leader-election", queued(10, 0, 16, 4)),
  pl("workload-high", queued(40, 50, 128, 6)),
  pl("workload-low", queued(100, 90, 128, 6)),
  pl("global-default", queued(20, 50, 128, 6)),
];

export const MANDATORY_FLOW_SCHEMAS: FlowSchema[] = [
  fs("exempt", "exempt", 1, "", [group(PRIVILEGED_GROUP)], [ALL_RESOURCES], [ALL_NON_RESOURCES]),
  fs("catch-all", "catch-all", 10000, "ByUser", AUTHENTICATED_OR_NOT, [ALL_RESOURCES], [ALL_NON_RESOURCES]),
];

export const SUGGESTED_FLOW_SCHEMAS: FlowSchema[] = [
  fs("system-nodes", "system", 500, "ByUser", [group(NODES_GROUP)], [ALL_RESOURCES], [ALL_NON_RESOURCES]),
  fs("system-node-high", "node-high", 400, "ByUser", [group(NODES_GROUP)], [
    { verbs: ["*"], apiGroups: [""], resources: ["nodes", "nodes/status"], namespaces: ["*"], clusterScope: true },
    { verbs: ["*"], apiGroups: ["coordination.k8s.io"], resources: ["leases"], namespaces: ["*"] },
  ]),
  fs("probes", "exempt", 2, "", AUTHENTICATED_OR_NOT, undefined, [{ verbs: ["get"], nonResourceURLs: ["/healthz", "/readyz", "/livez"] }]),
  fs(
    "system-leader-election",
    "leader-election",
    100,
    "ByUser",
    [user(COMPONENT_USERS.controllerManager), user(COMPONENT_USERS.scheduler), kubeSystemSA("*")],
    leaderElectionRules(["kube-system"]),
  ),
  fs(
    "endpoint-controller",
    "workload-high",
    150,
    "ByUser",
    [user(COMPONENT_USERS.controllerManager), kubeSystemSA("endpoint-controller"), kubeSystemSA("endpointslicemirroring-controller")],
    [{ verbs: ["get", "create", "update"], apiGroups: [""], resources: ["endpoints"], namespaces: ["*"] }],
  ),
  fs("workload-leader-election", "leader-election", 200, "ByUser", [kubeSystemSA("*")], leaderElectionRules(["*"])),
  fs("kube-controller-manager", "workload-high", 800, "ByNamespace", [user(COMPONENT_USERS.controllerManager)], [ALL_RESOURCES], [ALL_NON_RESOURCES]),
  fs("kube-scheduler", "workload-high", 800, "ByNamespace", [user(COMPONENT_USERS.scheduler)], [ALL_RESOURCES], [ALL_NON_RESOURCES]),
  fs("kube-system-service-accounts", "workload-high", 900, "ByNamespace", [kubeSystemSA("*")], [ALL_RESOURCES], [ALL_NON_RESOURCES]),
  fs("service-accounts", "workload-low", 9000, "ByUser", [group(SERVICE_ACCOUNTS_GROUP)], [ALL_RESOURCES], [ALL_NON_RESOURCES]),
  fs("global-default", "global-default", 9900, "ByUser", AUTHENTICATED_OR_NOT, [ALL_RESOURCES], [ALL_NON_RESOURCES]),
];

function stamp(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Stored form: apiVersion, kind and metadata first (what the REST layer writes), no resourceVersion. */
function fresh(obj: FlowSchema | PriorityLevelConfiguration): Record<string, any> {
  return { ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), uid: crypto.randomUUID(), creationTimestamp: stamp(), generation: 1 } };
}

async function ensureOne(store: Store, prefix: string, want: FlowSchema | PriorityLevelConfiguration, mandatory: boolean): Promise<void> {
  const key = prefix + want.metadata!.name;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { kv } = await store.get(key);
    if (!kv) {
      try {
        await store.create(key, JSON.stringify(fresh(want)));
        return;
      } catch (err) {
        if (err instanceof KeyExistsError) continue;
        throw err;
      }
    }
    let cur: Record<string, any>;
    try {
      cur = JSON.parse(kv.value);
    } catch {
      cur = {};
    }
    const auto = cur.metadata?.annotations?.[AUTO_UPDATE_ANNOTATION];
    // Upstream: a mandatory object is always put back; a suggested one only while auto-update is on.
    if (!mandatory && auto !== "true") return;
    if (specMatches(prefix, cur.spec, want) && (mandatory || auto === "true")) return;
    const spec = structuredClone(want.spec) as unknown as Record<string, unknown>;
    // The exempt level's own settings (spec.exempt) are the administrator's to change, as upstream allows.
    if (keepsExemptSettings(prefix, want) && cur.spec?.exempt !== undefined) spec.exempt = cur.spec.exempt;
    const next = { ...cur, spec, metadata: { ...cur.metadata, annotations: { ...(cur.metadata?.annotations ?? {}), [AUTO_UPDATE_ANNOTATION]: "true" } } };
    next.metadata.generation = (Number(cur.metadata?.generation) || 1) + 1;
    delete next.metadata.resourceVersion;
    try {
      await store.update(key, JSON.stringify(next), kv.modRevision);
      return;
    } catch {
      // Someone wrote it meanwhile: look again.
    }
  }
}

function keepsExemptSettings(prefix: string, want: FlowSchema | PriorityLevelConfiguration): boolean {
  return prefix === PL_PREFIX && want.metadata?.name === "exempt";
}

/** Whether a stored spec is the wanted one (for the exempt level: apart from its `exempt` settings). */
export function specMatches(prefix: string, spec: unknown, want: FlowSchema | PriorityLevelConfiguration): boolean {
  if (!keepsExemptSettings(prefix, want)) return deepEqual(spec, want.spec);
  const { exempt: _a, ...rest } = (spec ?? {}) as Record<string, unknown>;
  const { exempt: _b, ...wantRest } = (want.spec ?? {}) as Record<string, unknown>;
  return deepEqual(rest, wantRest);
}

/** Creates (or restores) the default FlowSchemas and PriorityLevelConfigurations. Safe with several servers. */
export async function ensureFlowControlObjects(store: Store): Promise<void> {
  // All at once: the store commits them together (one fsync instead of 21 on an SD card at start-up).
  await Promise.all([
    ...MANDATORY_PRIORITY_LEVELS.map((o) => ensureOne(store, PL_PREFIX, o, true)),
    ...SUGGESTED_PRIORITY_LEVELS.map((o) => ensureOne(store, PL_PREFIX, o, false)),
    ...MANDATORY_FLOW_SCHEMAS.map((o) => ensureOne(store, FS_PREFIX, o, true)),
    ...SUGGESTED_FLOW_SCHEMAS.map((o) => ensureOne(store, FS_PREFIX, o, false)),
  ]);
}
