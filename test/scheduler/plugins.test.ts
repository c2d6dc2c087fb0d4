// Filter and score plugins, the FitError text and preemption on plain objects (no server).
import { describe, expect, test } from "bun:test";
import { Algorithm, findPreemption, fitErrorMessage, makePodInfo, numFeasibleNodesToFind } from "../../internal/scheduler/index.ts";
import { podRequests } from "../../internal/scheduler/podinfo.ts";
import { cluster, node, pod } from "./fixtures.ts";
import { CycleState } from "../../internal/scheduler/framework.ts";
import { taintToleration } from "../../internal/scheduler/plugins/basic.ts";

const algo = () => new Algorithm(undefined, () => 0.5);

function feasibleNodes(c: ReturnType<typeof cluster>, p: ReturnType<typeof pod>): string[] {
  const a = algo();
  const pi = makePodInfo(p);
  const { state, status } = a.preFilter(pi, c);
  if (status) return [];
  return c.nodes.filter((ni) => !a.runFilters(state, pi, ni)).map((ni) => ni.name).sort();
}

function failMessage(c: ReturnType<typeof cluster>, p: ReturnType<typeof pod>): string {
  const a = algo();
  const pi = makePodInfo(p);
  const r = a.schedule(pi, c);
  expect(r.node).toBeUndefined();
  const pre = findPreemption(a, pi, r.state, r.diagnosis!, c);
  r.diagnosis!.postFilterMsg = pre.message || undefined;
  return fitErrorMessage(c.nodes.length, r.diagnosis!);
}

describe("FitError message", () => {
  test("matches upstream's format: sorted histogram, then the preemption summary", () => {
    const c = cluster([
      node("cp", { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] }),
      node("w1", { cpu: "1" }),
      node("w2", { cpu: "1" }),
    ]);
    expect(failMessage(c, pod("big", { cpu: "2" }))).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  test("resolvable shortage without lower-priority pods says no victims were found", () => {
    const c = cluster([node("w1", { cpu: "1" }), node("w2", { cpu: "1" })], [pod("a", { cpu: "800m", node: "w1" }), pod("b", { cpu: "800m", node: "w2" })]);
    expect(failMessage(c, pod("p", { cpu: "500m" }))).toBe(
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
  });

  test("several reasons on one node are all counted; preemptionPolicy Never is reported", () => {
    const c = cluster([node("w1", { cpu: "1", memory: "1Gi" })], [pod("a", { cpu: "800m", memory: "900Mi", node: "w1" })]);
    const p = pod("p", { cpu: "500m", memory: "500Mi", priority: 10, spec: { preemptionPolicy: "Never" } });
    expect(failMessage(c, p)).toBe("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never.");
  });
});

describe("filters", () => {
  const nodes = [
    node("a", { labels: { disk: "ssd", gen: "3" }, zone: "z1" }),
    node("b", { labels: { disk: "hdd", gen: "5" }, zone: "z2" }),
    node("c", { labels: { gen: "7" }, zone: "z2" }),
  ];

  test("nodeSelector", () => {
    expect(feasibleNodes(cluster(nodes), pod("p", { spec: { nodeSelector: { disk: "ssd" } } }))).toEqual(["a"]);
  });

  test("required node affinity operators and matchFields", () => {
    const aff = (terms: any[]) => pod("p", { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } });
    const c = cluster(nodes);
    expect(feasibleNodes(c, aff([{ matchExpressions: [{ key: "disk", operator: "In", values: ["ssd", "hdd"] }] }]))).toEqual(["a", "b"]);
    expect(feasibleNodes(c, aff([{ matchExpressions: [{ key: "disk", operator: "NotIn", values: ["ssd"] }] }]))).toEqual(["b", "c"]);
    expect(feasibleNodes(c, aff([{ matchExpressions: [{ key: "disk", operator: "Exists" }] }]))).toEqual(["a", "b"]);
    expect(feasibleNodes(c, aff([{ matchExpressions: [{ key: "disk", operator: "DoesNotExist" }] }]))).toEqual(["c"]);
    expect(feasibleNodes(c, aff([{ matchExpressions: [{ key: "gen", operator: "Gt", values: ["4"] }] }]))).toEqual(["b", "c"]);
    expect(feasibleNodes(c, aff([{ matchExpressions: [{ key: "gen", operator: "Lt", values: ["6"] }] }]))).toEqual(["a", "b"]);
    expect(feasibleNodes(c, aff([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["c"] }] }]))).toEqual(["c"]);
    // Terms are ORed; expressions inside a term are ANDed.
    expect(
      feasibleNodes(c, aff([{ matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }, { key: "gen", operator: "Gt", values: ["4"] }] }, { matchFields: [{ key: "metadata.name", operator: "In", values: ["b"] }] }])),
    ).toEqual(["b"]);
    expect(failMessage(c, aff([{ matchExpressions: [{ key: "disk", operator: "In", values: ["nvme"] }] }]))).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  test("taints: NoSchedule and NoExecute need tolerations, PreferNoSchedule does not", () => {
    const c = cluster([
      node("ns", { taints: [{ key: "k", value: "v", effect: "NoSchedule" }] }),
      node("ne", { taints: [{ key: "k", effect: "NoExecute" }] }),
      node("pn", { taints: [{ key: "k", effect: "PreferNoSchedule" }] }),
    ]);
    expect(feasibleNodes(c, pod("p"))).toEqual(["pn"]);
    expect(feasibleNodes(c, pod("p", { spec: { tolerations: [{ key: "k", operator: "Equal", value: "v", effect: "NoSchedule" }] } }))).toEqual(["ns", "pn"]);
    expect(feasibleNodes(c, pod("p", { spec: { tolerations: [{ key: "k", operator: "Exists" }] } }))).toEqual(["ne", "ns", "pn"]);
    expect(feasibleNodes(c, pod("p", { spec: { tolerations: [{ operator: "Exists" }] } }))).toEqual(["ne", "ns", "pn"]);
    expect(feasibleNodes(c, pod("p", { spec: { tolerations: [{ key: "k", operator: "Equal", value: "other" }] } }))).toEqual(["pn"]);
  });

  test("unschedulable nodes", () => {
    const c = cluster([node("u", { unschedulable: true }), node("ok")]);
    expect(feasibleNodes(c, pod("p"))).toEqual(["ok"]);
    expect(feasibleNodes(c, pod("p", { spec: { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }] } }))).toEqual(["ok", "u"]);
    expect(failMessage(cluster([node("u", { unschedulable: true })]), pod("p"))).toBe(
      "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
  });

  test("host ports", () => {
    const withPort = (name: string, port: number, extra: any = {}) =>
      pod(name, { ...extra, spec: { containers: [{ name: "c", image: "x", ports: [{ containerPort: 80, hostPort: port, ...extra.portExtra }] }] } });
    const c = cluster([node("a"), node("b")], [withPort("x", 8080, { node: "a" })]);
    expect(feasibleNodes(c, withPort("p", 8080))).toEqual(["b"]);
    expect(feasibleNodes(c, withPort("p", 8081))).toEqual(["a", "b"]);
    expect(feasibleNodes(c, withPort("p", 8080, { portExtra: { protocol: "UDP" } }))).toEqual(["a", "b"]);
    const one = cluster([node("a")], [withPort("x", 8080, { node: "a" })]);
    expect(failMessage(one, withPort("p", 8080))).toBe(
      "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });

  test("resource requests count init containers (max), sidecars and overhead", () => {
    const p = pod("p", {
      spec: {
        containers: [
          { name: "a", image: "x", resources: { requests: { cpu: "100m", memory: "100Mi" } } },
          { name: "b", image: "x", resources: { requests: { cpu: "200m" } } },
        ],
        initContainers: [
          { name: "i1", image: "x", resources: { requests: { cpu: "500m", memory: "50Mi" } } },
          { name: "side", image: "x", restartPolicy: "Always", resources: { requests: { cpu: "50m" } } },
        ],
        overhead: { cpu: "10m", memory: "1Mi" },
      },
    });
    const r = podRequests(p);
    // containers 300m + sidecar 50m = 350m < init 500m → 500m; memory max(100Mi, 50Mi); plus overhead.
    expect(r.milliCPU).toBe(510);
    expect(r.memory).toBe(101 * 1024 * 1024);
    // Non-zero defaults for scoring: b and the sidecar set no memory → 200Mi each (100 + 200 + 200 + 1 overhead).
    expect(podRequests(p, true).memory).toBe(501 * 1024 * 1024);
  });

  test("pods and ephemeral-storage limits", () => {
    const c = cluster([node("a", { pods: 1 })], [pod("x", { node: "a" })]);
    expect(failMessage(c, pod("p"))).toContain("1 Too many pods");
    const big = pod("p", { spec: { containers: [{ name: "c", image: "x", resources: { requests: { "ephemeral-storage": "200Gi" } } }] } });
    expect(failMessage(cluster([node("a")]), big)).toContain("1 Insufficient ephemeral-storage");
  });

  test("terminal pods do not use resources", () => {
    const done = pod("done", { cpu: "4", node: "a" });
    (done as any).status = { phase: "Succeeded" };
    expect(feasibleNodes(cluster([node("a")], [done]), pod("p", { cpu: "1" }))).toEqual(["a"]);
  });
});

describe("inter-pod affinity", () => {
  const nodes = [node("a", { zone: "z1" }), node("b", { zone: "z1" }), node("c", { zone: "z2" })];
  const term = (key: string, labels: Record<string, string>) => ({ labelSelector: { matchLabels: labels }, topologyKey: key });

  test("required anti-affinity by hostname and by zone", () => {
    const c = cluster(nodes, [pod("web-1", { labels: { app: "web" }, node: "a" })]);
    const anti = (key: string) => pod("p", { labels: { app: "web" }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(key, { app: "web" })] } } } });
    expect(feasibleNodes(c, anti("kubernetes.io/hostname"))).toEqual(["b", "c"]);
    expect(feasibleNodes(c, anti("topology.kubernetes.io/zone"))).toEqual(["c"]);
  });

  test("required affinity to a zone holding a matching pod; the first pod of a self-affine group goes anywhere", () => {
    const aff = pod("p", { labels: { app: "db" }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("topology.kubernetes.io/zone", { app: "db" })] } } } });
    expect(feasibleNodes(cluster(nodes), aff)).toEqual(["a", "b", "c"]);
    expect(feasibleNodes(cluster(nodes, [pod("db-0", { labels: { app: "db" }, node: "c" })]), aff)).toEqual(["c"]);
    const other = pod("q", { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("topology.kubernetes.io/zone", { app: "db" })] } } } });
    expect(failMessage(cluster(nodes), other)).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  test("existing pods' anti-affinity keeps matching pods away", () => {
    const guard = pod("guard", { node: "a", spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("topology.kubernetes.io/zone", { app: "noisy" })] } } } });
    const c = cluster(nodes, [guard]);
    expect(feasibleNodes(c, pod("p", { labels: { app: "noisy" } }))).toEqual(["c"]);
    expect(feasibleNodes(c, pod("p", { labels: { app: "quiet" } }))).toEqual(["a", "b", "c"]);
  });

  test("namespaces: terms default to the pod's own namespace", () => {
    const c = cluster(nodes, [pod("x", { labels: { app: "web" }, node: "a", ns: "other" })]);
    const anti = pod("p", { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("kubernetes.io/hostname", { app: "web" })] } } } });
    expect(feasibleNodes(c, anti)).toEqual(["a", "b", "c"]);
  });
});

describe("topology spread", () => {
  const spread = (maxSkew: number, key: string, extra: any = {}) =>
    pod("p", { labels: { app: "s" }, spec: { topologySpreadConstraints: [{ maxSkew, topologyKey: key, whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "s" } }, ...extra }] } });

  test("DoNotSchedule keeps the skew within maxSkew", () => {
    const c = cluster(
      [node("a", { zone: "z1" }), node("b", { zone: "z1" }), node("c", { zone: "z2" })],
      [pod("s1", { labels: { app: "s" }, node: "a" }), pod("s2", { labels: { app: "s" }, node: "b" })],
    );
    expect(feasibleNodes(c, spread(1, "topology.kubernetes.io/zone"))).toEqual(["c"]);
    // z1 holds 2, z2 none: z1 would reach skew 3.
    expect(feasibleNodes(c, spread(2, "topology.kubernetes.io/zone"))).toEqual(["c"]);
    expect(feasibleNodes(c, spread(3, "topology.kubernetes.io/zone"))).toEqual(["a", "b", "c"]);
    expect(feasibleNodes(c, spread(1, "kubernetes.io/hostname"))).toEqual(["c"]);
  });

  test("nodes without the topology key are rejected as missing the label", () => {
    const c = cluster([node("a", { zone: "z1" }), node("nolabel")]);
    expect(feasibleNodes(c, spread(1, "topology.kubernetes.io/zone"))).toEqual(["a"]);
    const msg = failMessage(cluster([node("nolabel")]), spread(1, "topology.kubernetes.io/zone"));
    expect(msg).toBe(
      "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label). preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
  });

  test("minDomains treats missing domains as empty", () => {
    const c = cluster([node("a", { zone: "z1" }), node("b", { zone: "z2" })], [pod("s1", { labels: { app: "s" }, node: "a" })]);
    // Two domains exist but three are required: the global minimum is 0, so z1 (1 pod) + 1 > maxSkew 1.
    expect(feasibleNodes(c, spread(1, "topology.kubernetes.io/zone", { minDomains: 3 }))).toEqual(["b"]);
    const c2 = cluster([node("a", { zone: "z1" }), node("b", { zone: "z2" })], [pod("s1", { labels: { app: "s" }, node: "a" }), pod("s2", { labels: { app: "s" }, node: "b" })]);
    expect(feasibleNodes(c2, spread(1, "topology.kubernetes.io/zone"))).toEqual(["a", "b"]);
    expect(feasibleNodes(c2, spread(1, "topology.kubernetes.io/zone", { minDomains: 3 }))).toEqual([]);
  });
});

describe("scores", () => {
  const pick = (c: ReturnType<typeof cluster>, p: ReturnType<typeof pod>) => algo().schedule(makePodInfo(p), c).node;

  test("least allocated prefers the emptier node", () => {
    const c = cluster([node("busy"), node("idle")], [pod("x", { cpu: "3", memory: "8Gi", node: "busy" })]);
    expect(pick(c, pod("p", { cpu: "100m", memory: "100Mi" }))).toBe("idle");
  });

  test("balanced allocation prefers the node that stays balanced", () => {
    // Both nodes equally used in sum; on 'cpuheavy' adding a cpu-heavy pod unbalances more.
    const c = cluster([node("cpuheavy"), node("memheavy")], [pod("x", { cpu: "2", node: "cpuheavy" }), pod("y", { memory: "8Gi", node: "memheavy" })]);
    expect(pick(c, pod("p", { cpu: "1", memory: "100Mi" }))).toBe("memheavy");
  });

  test("preferred node affinity weights", () => {
    const c = cluster([node("a", { labels: { t: "x" } }), node("b", { labels: { t: "y" } })]);
    const p = pod("p", {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, preference: { matchExpressions: [{ key: "t", operator: "In", values: ["x"] }] } },
              { weight: 80, preference: { matchExpressions: [{ key: "t", operator: "In", values: ["y"] }] } },
            ],
          },
        },
      },
    });
    expect(pick(c, p)).toBe("b");
  });

  test("PreferNoSchedule taints are avoided when possible", () => {
    const c = cluster([node("tainted", { taints: [{ key: "k", effect: "PreferNoSchedule" }] }), node("clean")]);
    expect(pick(c, pod("p"))).toBe("clean");
  });

  test("TaintToleration's score counts the PreferNoSchedule taints the pod does not tolerate (with or without preScore)", () => {
    const c = cluster([node("t2", { taints: [{ key: "a", effect: "PreferNoSchedule" }, { key: "b", value: "x", effect: "PreferNoSchedule" }, { key: "c", effect: "NoSchedule" }] }), node("clean")]);
    const [t2, clean] = [c.node("t2")!, c.node("clean")!];
    const score = (tolerations: any[] | undefined, withPreScore: boolean) => {
      const pi = makePodInfo(pod("p", { spec: { tolerations } }));
      const st = new CycleState();
      if (withPreScore) taintToleration.preScore!(st, pi, [t2, clean], c);
      return [taintToleration.score!(st, pi, t2), taintToleration.score!(st, pi, clean)];
    };
    for (const pre of [true, false]) {
      expect(score(undefined, pre)).toEqual([2, 0]);
      expect(score([{ key: "a", operator: "Exists", effect: "PreferNoSchedule" }], pre)).toEqual([1, 0]);
      // A toleration for another effect does not count; one without an effect tolerates every effect.
      expect(score([{ key: "b", operator: "Equal", value: "x", effect: "NoSchedule" }], pre)).toEqual([2, 0]);
      expect(score([{ key: "b", operator: "Equal", value: "x" }, { key: "a", operator: "Exists" }], pre)).toEqual([0, 0]);
      expect(score([{ operator: "Exists" }], pre)).toEqual([0, 0]);
    }
  });

  test("preferred pod anti-affinity and affinity", () => {
    const c = cluster([node("a"), node("b")], [pod("w", { labels: { app: "w" }, node: "a" })]);
    const pref = (kind: "podAffinity" | "podAntiAffinity") =>
      pod("p", { spec: { affinity: { [kind]: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: "w" } }, topologyKey: "kubernetes.io/hostname" } }] } } } });
    expect(pick(c, pref("podAntiAffinity"))).toBe("b");
    // Affinity pulls it next to w even though 'a' is busier.
    expect(pick(c, pref("podAffinity"))).toBe("a");
  });

  test("ScheduleAnyway spread prefers the emptier domain", () => {
    const c = cluster(
      [node("a", { zone: "z1" }), node("b", { zone: "z2" })],
      [pod("s1", { labels: { app: "s" }, node: "a" }), pod("s2", { labels: { app: "s" }, node: "a" })],
    );
    const p = pod("p", { labels: { app: "s" }, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { app: "s" } } }] } });
    expect(pick(c, p)).toBe("b");
  });

  test("pods of one controller spread by default", () => {
    const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs-1", controller: true };
    const owned = (name: string, nodeName?: string) => {
      const p = pod(name, { node: nodeName, cpu: "10m", memory: "10Mi" });
      p.metadata!.ownerReferences = [owner];
      return p;
    };
    const c = cluster([node("a"), node("b"), node("c")], [owned("r1", "a"), owned("r2", "b")]);
    expect(pick(c, owned("r3"))).toBe("c");
  });
});

describe("preemption", () => {
  test("evicts the fewest lowest-priority pods on the best node", () => {
    const c = cluster(
      [node("a", { cpu: "2" }), node("b", { cpu: "2" })],
      [
        pod("a-low", { cpu: "1", node: "a", priority: 1 }),
        pod("a-mid", { cpu: "1", node: "a", priority: 5 }),
        pod("b-low1", { cpu: "1", node: "b", priority: 1 }),
        pod("b-low2", { cpu: "1", node: "b", priority: 1 }),
      ],
    );
    const a = algo();
    const pi = makePodInfo(pod("hi", { cpu: "1", priority: 10 }));
    const r = a.schedule(pi, c);
    expect(r.node).toBeUndefined();
    const pre = findPreemption(a, pi, r.state, r.diagnosis!, c);
    // Node a needs only a-low (priority 1) to go; node b also needs one priority-1 victim; tie → fewer and
    // lower sum are equal, so the highest victim priority decides: a's victims top out at 1, b's too → by sum
    // both 1 → by count both 1 → latest start; check at least that one priority-1 pod is the only victim.
    expect(pre.candidate!.pods.length).toBe(1);
    expect(pre.candidate!.pods[0]!.priority).toBe(1);
    expect(pre.message).toBe("");
  });

  test("prefers the node whose victims have the lowest top priority", () => {
    const c = cluster(
      [node("a", { cpu: "1" }), node("b", { cpu: "1" })],
      [pod("a-5", { cpu: "1", node: "a", priority: 5 }), pod("b-2", { cpu: "1", node: "b", priority: 2 })],
    );
    const a = algo();
    const pi = makePodInfo(pod("hi", { cpu: "1", priority: 10 }));
    const r = a.schedule(pi, c);
    const pre = findPreemption(a, pi, r.state, r.diagnosis!, c);
    expect(pre.candidate).toMatchObject({ node: "b", pods: [expect.objectContaining({ key: "default/b-2" })] });
  });

  test("never evicts equal or higher priority pods", () => {
    const c = cluster([node("a", { cpu: "1" })], [pod("x", { cpu: "1", node: "a", priority: 10 })]);
    expect(failMessage(c, pod("hi", { cpu: "1", priority: 10 }))).toBe(
      "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });
});

test("numFeasibleNodesToFind follows upstream's adaptive percentage", () => {
  expect(numFeasibleNodesToFind(50)).toBe(50);
  expect(numFeasibleNodesToFind(100)).toBe(100);
  expect(numFeasibleNodesToFind(1000)).toBe(420);
  expect(numFeasibleNodesToFind(5000)).toBe(500);
});

test("extended resources must fit the node's allocatable", () => {
  const gpuNode = node("gpu");
  (gpuNode.status!.allocatable as any)["example.com/gpu"] = "2";
  const c = cluster([gpuNode, node("plain")], [pod("user", { node: "gpu", spec: { containers: [{ name: "c", image: "x", resources: { limits: { "example.com/gpu": "1" } } }] } })]);
  const want = (n: string) => pod("p", { spec: { containers: [{ name: "c", image: "x", resources: { requests: { "example.com/gpu": n }, limits: { "example.com/gpu": n } } }] } });
  expect(feasibleNodes(c, want("1"))).toEqual(["gpu"]);
  expect(failMessage(c, want("2"))).toBe(
    "0/2 nodes are available: 2 Insufficient example.com/gpu. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.",
  );
});

test("pods pinned by matchFields metadata.name (DaemonSet pods) only evaluate their node", () => {
  const c = cluster([node("a"), node("b", { taints: [{ key: "k", value: "v", effect: "NoSchedule" }] }), node("c")]);
  const pinned = (names: string[][]) =>
    pod("ds", {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: names.map((n) => ({ matchFields: [{ key: "metadata.name", operator: "In", values: n }] })),
            },
          },
        },
      },
    });
  expect(algo().schedule(makePodInfo(pinned([["c"]])), c).node).toBe("c");
  expect(failMessage(c, pinned([["b"]]))).toBe(
    "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
  const conflict = pod("x", {
    spec: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["a"] }, { key: "metadata.name", operator: "In", values: ["b"] }] }],
          },
        },
      },
    },
  });
  expect(failMessage(c, conflict)).toBe(
    "0/3 nodes are available: pod affinity terms conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
});

describe("volumes and budgets", () => {
  test("pods whose claims are missing or being deleted are unresolvable", () => {
    const c = cluster([node("a")]);
    const claims: Record<string, any> = { data: { metadata: { name: "data" } }, old: { metadata: { name: "old", deletionTimestamp: "2026-01-01T00:00:00Z" } } };
    c.pvc = (_ns, name) => claims[name];
    const withClaim = (claim: string) => pod("p", { spec: { volumes: [{ name: "v", persistentVolumeClaim: { claimName: claim } }] } });
    expect(feasibleNodes(c, withClaim("data"))).toEqual(["a"]);
    expect(failMessage(c, withClaim("nope"))).toBe(
      '0/1 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    expect(failMessage(c, withClaim("old"))).toContain('persistentvolumeclaim "old" is being deleted');
  });

  test("preemption prefers victims not protected by a PodDisruptionBudget", () => {
    const c = cluster(
      [node("a", { cpu: "1" }), node("b", { cpu: "1" })],
      [pod("guarded", { cpu: "1", node: "a", priority: 1, labels: { app: "db" } }), pod("free", { cpu: "1", node: "b", priority: 5, labels: { app: "web" } })],
    );
    const pdb: any = { metadata: { name: "db", namespace: "default" }, spec: { selector: { matchLabels: { app: "db" } } }, status: { disruptionsAllowed: 0 } };
    const a = algo();
    const pi = makePodInfo(pod("hi", { cpu: "1", priority: 10 }));
    const r = a.schedule(pi, c);
    // Without budgets the lower-priority "guarded" pod would go; with its budget exhausted, "free" goes instead.
    expect(findPreemption(a, pi, r.state, r.diagnosis!, c).candidate!.node).toBe("a");
    const pre = findPreemption(a, pi, r.state, r.diagnosis!, c, undefined, undefined, [pdb]);
    expect(pre.candidate!.node).toBe("b");
    expect(pre.candidate!.pods.map((p) => p.key)).toEqual(["default/free"]);
  });
});

describe("skipped plugins (upstream's PreFilter/PreScore Skip)", () => {
  const filtersOf = (c: ReturnType<typeof cluster>, p: ReturnType<typeof pod>) => algo().preFilter(makePodInfo(p), c).state.filters!.map((pl) => pl.name);
  const nodes = [node("a", { labels: { disk: "ssd" } }), node("b")];

  test("a plain pod runs only the filters that depend on the node", () => {
    expect(filtersOf(cluster(nodes), pod("plain", { cpu: "100m" }))).toEqual(["NodeUnschedulable", "TaintToleration", "NodeResourcesFit"]);
  });

  test("each feature of the pod brings its filter back, and it still decides", () => {
    const antiAffinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "x" } } }] } };
    const p = pod("all", {
      labels: { app: "x" },
      spec: {
        nodeName: "a",
        nodeSelector: { disk: "ssd" },
        affinity: antiAffinity,
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "x" } } }],
        containers: [{ name: "c", image: "x", ports: [{ containerPort: 80, hostPort: 8080 }] }],
      },
    });
    expect(filtersOf(cluster(nodes), p)).toEqual(["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"]);
    // Node a is taken by a pod with the same host port and label: NodePorts (or anti-affinity) rejects it.
    const busy = pod("busy", { node: "a", labels: { app: "x" }, spec: { containers: [{ name: "c", image: "x", ports: [{ containerPort: 80, hostPort: 8080 }] }] } });
    expect(feasibleNodes(cluster(nodes, [busy]), { ...p, spec: { ...p.spec!, nodeName: undefined, affinity: undefined, topologySpreadConstraints: undefined } })).toEqual([]);
    expect(feasibleNodes(cluster(nodes), { ...p, spec: { ...p.spec!, nodeName: undefined } })).toEqual(["a"]);
  });

  test("an existing pod's required anti-affinity is enforced on a plain pod", () => {
    const guard = pod("guard", {
      node: "a",
      spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "web" } } }] } } },
    });
    const c = cluster(nodes, [guard]);
    expect(filtersOf(c, pod("web", { labels: { app: "web" } }))).toContain("InterPodAffinity");
    expect(feasibleNodes(c, pod("web", { labels: { app: "web" } }))).toEqual(["b"]);
  });

  test("skipped scores do not change the choice: an empty node still wins on least-allocated", () => {
    const c = cluster([node("full", { cpu: "2" }), node("empty", { cpu: "2" })], [pod("load", { node: "full", cpu: "1500m" })]);
    for (let i = 0; i < 5; i++) expect(algo().schedule(makePodInfo(pod(`p${i}`, { cpu: "100m" })), c).node).toBe("empty");
  });
});
