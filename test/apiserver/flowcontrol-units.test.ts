// API Priority and Fairness building blocks: classification by FlowSchema, shuffle sharding, per-level seats,
// fair dispatch between flows, queue limits and timeouts, validation messages.
import { describe, expect, test } from "bun:test";
import type { FlowSchema } from "kubernetes-types/flowcontrol/v1";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureFlowControlObjects, FS_PREFIX, MANDATORY_FLOW_SCHEMAS, PL_PREFIX, SUGGESTED_FLOW_SCHEMAS } from "../../internal/apiserver/flowcontrol/bootstrap.ts";
import { openStore } from "../../internal/store/index.ts";
import { flowDistinguisher, flowSchemaMatches, sortFlowSchemas } from "../../internal/apiserver/flowcontrol/match.ts";
import { flowHash, QueueSet } from "../../internal/apiserver/flowcontrol/queueset.ts";
import { validateFlowSchema, validatePriorityLevelConfiguration } from "../../internal/apiserver/flowcontrol/validation.ts";
import { Errors } from "../../internal/apiserver/validation/errors.ts";
import { parseRequestInfo } from "../../internal/apiserver/requestinfo.ts";
import { StatusError } from "../../internal/api/status.ts";

const ALL = sortFlowSchemas([...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS]);
const req = (method: string, path: string) => parseRequestInfo(method, path, new URLSearchParams(path.includes("?") ? path.split("?")[1] : ""));
const classify = (user: { username: string; groups: string[] }, method: string, path: string) =>
  ALL.find((fs) => flowSchemaMatches(fs, user, req(method, path.split("?")[0]!)))?.metadata?.name;

describe("classification with upstream's default FlowSchemas", () => {
  const admin = { username: "system:admin", groups: ["system:masters", "system:authenticated"] };
  const node = { username: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };
  const kcm = { username: "system:kube-controller-manager", groups: ["system:authenticated"] };
  const sched = { username: "system:kube-scheduler", groups: ["system:authenticated"] };
  const sa = (ns: string, n: string) => ({ username: `system:serviceaccount:${ns}:${n}`, groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"] });
  const alice = { username: "alice", groups: ["system:authenticated"] };

  test("admins are exempt, nodes and leader election get their own levels", () => {
    expect(classify(admin, "POST", "/api/v1/namespaces/default/configmaps")).toBe("exempt");
    expect(classify(node, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")).toBe("system-node-high");
    expect(classify(node, "PATCH", "/api/v1/nodes/n1/status")).toBe("system-node-high");
    expect(classify(node, "GET", "/api/v1/pods")).toBe("system-nodes");
    expect(classify(kcm, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager")).toBe("system-leader-election");
    expect(classify(kcm, "PUT", "/api/v1/namespaces/default/endpoints/web")).toBe("endpoint-controller");
    expect(classify(kcm, "GET", "/api/v1/pods")).toBe("kube-controller-manager");
    expect(classify(sched, "POST", "/api/v1/namespaces/default/pods/p/binding")).toBe("kube-scheduler");
    expect(classify(sa("kube-system", "x"), "GET", "/apis/coordination.k8s.io/v1/namespaces/app/leases/l")).toBe("system-leader-election");
    expect(classify(sa("kube-system", "x"), "GET", "/api/v1/pods")).toBe("kube-system-service-accounts");
    expect(classify(sa("team", "app"), "PUT", "/apis/coordination.k8s.io/v1/namespaces/team/leases/l")).toBe("service-accounts");
    expect(classify(sa("team", "app"), "GET", "/api/v1/namespaces/team/pods")).toBe("service-accounts");
    expect(classify(alice, "GET", "/api/v1/namespaces/default/pods")).toBe("global-default");
    expect(classify(alice, "GET", "/healthz")).toBe("probes");
    expect(classify(alice, "GET", "/version")).toBe("global-default");
    expect(classify({ username: "system:anonymous", groups: ["system:unauthenticated"] }, "GET", "/livez")).toBe("probes");
  });

  test("resource rules: subresources, cluster scope, namespaces, verbs", () => {
    const fs: FlowSchema = {
      metadata: { name: "t" },
      spec: {
        priorityLevelConfiguration: { name: "x" },
        rules: [
          {
            subjects: [{ kind: "ServiceAccount", serviceAccount: { namespace: "team", name: "*" } }],
            resourceRules: [{ verbs: ["get", "list"], apiGroups: ["apps"], resources: ["deployments/scale"], namespaces: ["team"] }],
          },
        ],
      },
    };
    const u = sa("team", "any");
    expect(flowSchemaMatches(fs, u, req("GET", "/apis/apps/v1/namespaces/team/deployments/d/scale"))).toBe(true);
    expect(flowSchemaMatches(fs, u, req("GET", "/apis/apps/v1/namespaces/team/deployments/d"))).toBe(false);
    expect(flowSchemaMatches(fs, u, req("PUT", "/apis/apps/v1/namespaces/team/deployments/d/scale"))).toBe(false);
    expect(flowSchemaMatches(fs, u, req("GET", "/apis/apps/v1/namespaces/other/deployments/d/scale"))).toBe(false);
    expect(flowSchemaMatches(fs, sa("other", "any"), req("GET", "/apis/apps/v1/namespaces/team/deployments/d/scale"))).toBe(false);
    expect(flowSchemaMatches(fs, { username: "system:serviceaccount:team", groups: [] }, req("GET", "/apis/apps/v1/namespaces/team/deployments/d/scale"))).toBe(false);
  });

  test("flow distinguishers", () => {
    const byUser = ALL.find((f) => f.metadata?.name === "global-default")!;
    const byNs = ALL.find((f) => f.metadata?.name === "kube-controller-manager")!;
    const exempt = ALL.find((f) => f.metadata?.name === "exempt")!;
    expect(flowDistinguisher(byUser, alice, req("GET", "/api/v1/namespaces/a/pods"))).toBe("alice");
    expect(flowDistinguisher(byNs, kcm, req("GET", "/api/v1/namespaces/a/pods"))).toBe("a");
    expect(flowDistinguisher(exempt, admin, req("GET", "/api/v1/namespaces/a/pods"))).toBe("");
  });

  test("ordering: matchingPrecedence, then name", () => {
    const mk = (name: string, p: number): FlowSchema => ({ metadata: { name }, spec: { priorityLevelConfiguration: { name: "x" }, matchingPrecedence: p } });
    expect(sortFlowSchemas([mk("b", 5), mk("a", 5), mk("c", 1)]).map((f) => f.metadata!.name)).toEqual(["c", "a", "b"]);
  });
});

describe("QueueSet", () => {
  test("a level never runs more than its seats; released seats go to waiting requests", async () => {
    const qs = new QueueSet({ concurrencyLimit: 2, queuing: { queues: 8, handSize: 2, queueLengthLimit: 10 } }, 5000);
    const a = await qs.acquire(flowHash("fs", "a"));
    const b = await qs.acquire(flowHash("fs", "a"));
    let third: (() => void) | undefined;
    const p = qs.acquire(flowHash("fs", "a")).then((r) => (third = r));
    await Bun.sleep(5);
    expect(third).toBeUndefined();
    expect(qs.inUse).toBe(2);
    expect(qs.waiting).toBe(1);
    a();
    a(); // idempotent
    await p;
    expect(qs.inUse).toBe(2);
    b();
    third!();
    expect(qs.inUse).toBe(0);
  });

  test("fair dispatch: a newcomer flow is served before a heavy flow's backlog", async () => {
    const qs = new QueueSet({ concurrencyLimit: 2, queuing: { queues: 64, handSize: 1, queueLengthLimit: 50 } }, 5000);
    const heavy = flowHash("fs", "heavy");
    // A light flow that lands in a different queue than the heavy one.
    let light = flowHash("fs", "light-0");
    for (let i = 1; (light % 64n) === (heavy % 64n); i++) light = flowHash("fs", `light-${i}`);
    const running = [await qs.acquire(heavy), await qs.acquire(heavy)];
    const order: string[] = [];
    const waiters = [0, 1, 2].map((i) => qs.acquire(heavy).then((r) => (order.push(`heavy-${i}`), r)));
    await Bun.sleep(1);
    const lightP = qs.acquire(light).then((r) => (order.push("light"), r));
    running[0]!();
    await Bun.sleep(1);
    expect(order).toEqual(["light"]);
    running[1]!();
    (await lightP)();
    for (const w of waiters) (await w)();
    expect(order).toEqual(["light", "heavy-0", "heavy-1", "heavy-2"]);
  });

  test("full queues and queue timeouts give 429 with upstream's message; Reject levels don't queue", async () => {
    const qs = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 1, handSize: 1, queueLengthLimit: 1 } }, 50);
    const h = flowHash("fs", "u");
    const held = await qs.acquire(h);
    const waiting = qs.acquire(h);
    const full = await qs.acquire(h).catch((e) => e);
    expect(full).toBeInstanceOf(StatusError);
    expect(full.code).toBe(429);
    expect(full.message).toBe("Too many requests, please try again later.");
    expect(full.headers["Retry-After"]).toBe("1");
    const timedOut = await waiting.catch((e) => e);
    expect(timedOut).toBeInstanceOf(StatusError);
    expect(timedOut.code).toBe(429);
    expect(qs.waiting).toBe(0);
    held();

    const reject = new QueueSet({ concurrencyLimit: 1 }, 1000);
    const r = await reject.acquire(h);
    expect((await reject.acquire(h).catch((e) => e)).code).toBe(429);
    r();
    (await reject.acquire(h))();
  });

  test("queues exist only while used: a level may declare 10^7 of them", async () => {
    const qs = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 10_000_000, handSize: 3, queueLengthLimit: 5 } }, 5000);
    const held = await qs.acquire(flowHash("fs", "a"));
    const waiting = [qs.acquire(flowHash("fs", "b")), qs.acquire(flowHash("fs", "c"))];
    expect((qs as any).queues.size).toBeLessThanOrEqual(3);
    held();
    (await waiting[0]!)();
    (await waiting[1]!)();
    expect((qs as any).queues.size).toBe(0);
    expect(qs.inUse).toBe(0);
  });

  test("shuffle sharding deals the same hand to a flow and spreads flows over queues", async () => {
    const qs = new QueueSet({ concurrencyLimit: 0, queuing: { queues: 16, handSize: 3, queueLengthLimit: 1 } }, 60_000);
    // One flow fills exactly its hand (3 queues × 1), then is refused; another flow still gets in.
    const a = flowHash("fs", "flood");
    const pending = [qs.acquire(a), qs.acquire(a), qs.acquire(a)];
    pending.forEach((p) => p.catch(() => {}));
    expect((await qs.acquire(a).catch((e) => e)).code).toBe(429);
    let admitted = 0;
    for (let i = 0; i < 20; i++) {
      const p = qs.acquire(flowHash("fs", `other-${i}`));
      const r = await Promise.race([p.then(() => "ok", (e) => (e.code === 429 ? "429" : "err")), Bun.sleep(5).then(() => "queued")]);
      if (r === "queued") admitted++;
      p.catch(() => {});
    }
    expect(admitted).toBeGreaterThan(0);
    qs.setConfig({ concurrencyLimit: 0 }); // no queues any more: everyone waiting is refused
    for (const p of pending) expect((await p.catch((e) => e)).code).toBe(429);
  });
});

describe("validation", () => {
  const errs = (fn: (e: Errors) => void) => {
    const e = new Errors();
    fn(e);
    return e.list.map((c) => `${c.field}: ${c.message}`);
  };
  test("FlowSchema", () => {
    expect(
      errs((e) =>
        validateFlowSchema(e, {
          metadata: { name: "x" },
          spec: {
            matchingPrecedence: 20000,
            distinguisherMethod: { type: "ByGroup" },
            priorityLevelConfiguration: { name: "" },
            rules: [{ subjects: [], resourceRules: [{ verbs: ["*", "get"], apiGroups: [], resources: ["pods"] }] }, { subjects: [{ kind: "Robot" }] }],
          },
        }),
      ),
    ).toEqual([
      "spec.matchingPrecedence: Invalid value: 20000: must not be greater than 10000",
      'spec.distinguisherMethod.type: Unsupported value: "ByGroup": supported values: "ByNamespace", "ByUser"',
      "spec.priorityLevelConfiguration.name: Required value: must reference a priority level",
      "spec.rules[0].subjects: Required value: subjects must contain at least one value",
      `spec.rules[0].resourceRules[0].verbs: Invalid value: []string{"*", "get"}: if '*' is present, must not specify other verbs`,
      "spec.rules[0].resourceRules[0].apiGroups: Required value: resource rules must supply at least one api group",
      "spec.rules[0].resourceRules[0].namespaces: Required value: resource rules that are not cluster scoped must supply at least one namespace",
      'spec.rules[1].subjects[0].kind: Unsupported value: "Robot": supported values: "Group", "ServiceAccount", "User"',
      "spec.rules[1]: Required value: at least one of resourceRules and nonResourceRules has to be non-empty",
    ]);
    for (const fs of [...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS]) expect(errs((e) => validateFlowSchema(e, fs as any))).toEqual([]);
    expect(
      errs((e) =>
        validateFlowSchema(e, {
          metadata: { name: "mine" },
          spec: {
            matchingPrecedence: 1,
            priorityLevelConfiguration: { name: "global-default" },
            rules: [
              {
                subjects: [{ kind: "ServiceAccount", serviceAccount: { name: "*" }, user: { name: "u" } }],
                resourceRules: [{ verbs: ["get", "escalate"], apiGroups: ["*"], resources: ["*"], namespaces: ["Team"] }],
                nonResourceURLs: undefined,
                nonResourceRules: [{ verbs: ["get"], nonResourceURLs: ["/api/*/x", "healthz"] }],
              },
            ],
          },
        }),
      ),
    ).toEqual([
      "spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1",
      "spec.rules[0].subjects[0].serviceAccount.namespace: Required value: must specify namespace for service account",
      "spec.rules[0].subjects[0].user: Forbidden: user is forbidden when subject kind is not 'User'",
      `spec.rules[0].resourceRules[0].verbs: Unsupported value: []string{"get", "escalate"}: supported values: "create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"`,
      expect.stringContaining(`spec.rules[0].resourceRules[0].namespaces[0]: Invalid value: "Team": each member of this list must be '*' or a DNS-1123 label; a lowercase RFC 1123 label`),
      `spec.rules[0].nonResourceRules[0].nonResourceURLs[0]: Invalid value: "/api/*/x": wildcard can only do suffix matching`,
      `spec.rules[0].nonResourceRules[0].nonResourceURLs[1]: Invalid value: "healthz": must start with slash`,
    ]);
    const changedExempt = structuredClone(MANDATORY_FLOW_SCHEMAS[0]!) as any;
    changedExempt.spec.matchingPrecedence = 2;
    expect(errs((e) => validateFlowSchema(e, changedExempt))).toEqual([expect.stringContaining("spec of 'exempt' must equal the fixed value")]);
  });
  test("PriorityLevelConfiguration", () => {
    const limited = (limitResponse: any, extra: any = {}) => ({ metadata: { name: "x" }, spec: { type: "Limited", limited: { nominalConcurrencyShares: 1, limitResponse, ...extra } } });
    expect(errs((e) => validatePriorityLevelConfiguration(e, limited({ type: "Queue", queuing: { queues: 4, handSize: 8, queueLengthLimit: 0 } }, { lendablePercent: 101 })))).toEqual([
      "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive",
      "spec.limited.limitResponse.queuing.queueLengthLimit: Invalid value: 0: must be positive",
      "spec.limited.limitResponse.queuing.handSize: Invalid value: 8: should not be greater than queues (4)",
    ]);
    expect(errs((e) => validatePriorityLevelConfiguration(e, limited({ type: "Reject", queuing: { queues: 1 } })))).toEqual([
      "spec.limited.limitResponse.queuing: Forbidden: must be nil if limited.limitResponse.type is not Limited",
    ]);
    expect(errs((e) => validatePriorityLevelConfiguration(e, limited({ type: "Queue", queuing: { queues: 512, handSize: 10, queueLengthLimit: 1 } })))).toEqual([
      "spec.limited.limitResponse.queuing.handSize: Invalid value: 10: required entropy bits of deckSize 512 and handSize 10 should not be greater than 60",
    ]);
    // The exempt level's own settings may change; nothing else of a mandatory level.
    expect(errs((e) => validatePriorityLevelConfiguration(e, { metadata: { name: "exempt" }, spec: { type: "Exempt", exempt: { nominalConcurrencyShares: 10, lendablePercent: 0 } } }))).toEqual([]);
    expect(errs((e) => validatePriorityLevelConfiguration(e, { metadata: { name: "catch-all" }, spec: { type: "Limited", limited: { nominalConcurrencyShares: 50, lendablePercent: 0, limitResponse: { type: "Reject" } } } }))).toEqual([
      expect.stringContaining("spec of 'catch-all' must equal the fixed value"),
    ]);
    expect(errs((e) => validatePriorityLevelConfiguration(e, { metadata: { name: "mine" }, spec: { type: "Exempt", exempt: {} } }))).toEqual([
      `spec.type: Invalid value: "Exempt": type must be 'Exempt' if and only if name is 'exempt'`,
    ]);
  });
});

describe("default objects", () => {
  test("created once; mandatory ones restored; suggested ones kept up to date only while auto-update is on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubun-apf-"));
    const store = await openStore({ dataDir: dir });
    try {
      await ensureFlowControlObjects(store);
      expect((await store.list(FS_PREFIX)).items).toHaveLength(13);
      expect((await store.list(PL_PREFIX)).items).toHaveLength(8);
      const change = async (key: string, fn: (o: any) => void) => {
        const { kv } = await store.get(key);
        const o = JSON.parse(kv!.value);
        fn(o);
        await store.update(key, JSON.stringify(o), kv!.modRevision);
      };
      const get = async (key: string) => JSON.parse((await store.get(key)).kv!.value);
      // The admin turns auto-update off for one suggested level and changes it; another changed one has it on.
      await change(PL_PREFIX + "workload-low", (o) => {
        o.metadata.annotations["apf.kubernetes.io/autoupdate-spec"] = "false";
        o.spec.limited.nominalConcurrencyShares = 7;
      });
      await change(PL_PREFIX + "global-default", (o) => (o.spec.limited.nominalConcurrencyShares = 7));
      // The exempt level's own settings are the administrator's; mandatory specs come back whatever the annotation says.
      await change(PL_PREFIX + "exempt", (o) => (o.spec.exempt.nominalConcurrencyShares = 10));
      await change(FS_PREFIX + "exempt", (o) => {
        o.metadata.annotations["apf.kubernetes.io/autoupdate-spec"] = "false";
        o.spec.matchingPrecedence = 5000;
      });
      const uid = (await get(FS_PREFIX + "catch-all")).metadata.uid;
      await store.delete(FS_PREFIX + "catch-all");
      await store.delete(FS_PREFIX + "probes");

      await ensureFlowControlObjects(store);
      expect((await get(PL_PREFIX + "workload-low")).spec.limited.nominalConcurrencyShares).toBe(7);
      expect((await get(PL_PREFIX + "global-default")).spec.limited.nominalConcurrencyShares).toBe(20);
      expect((await get(FS_PREFIX + "exempt")).spec.matchingPrecedence).toBe(1);
      expect((await get(PL_PREFIX + "exempt")).spec).toEqual({ type: "Exempt", exempt: { nominalConcurrencyShares: 10, lendablePercent: 0 } });
      const catchAll = await get(FS_PREFIX + "catch-all");
      expect(catchAll.metadata.uid).not.toBe(uid);
      expect(catchAll.spec.matchingPrecedence).toBe(10000);
      expect((await get(FS_PREFIX + "probes")).spec.priorityLevelConfiguration.name).toBe("exempt");
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
