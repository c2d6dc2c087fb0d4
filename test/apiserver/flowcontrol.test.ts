// API Priority and Fairness end to end (issue 9 item 7): one ordinary user's slow-body flood no longer locks out the
// admin or the nodes; the flood itself gets 429 (queue full / wait timed out) and 408 (body never arrived); the
// answers name their FlowSchema and priority level; FlowSchemas/PriorityLevelConfigurations work with kubectl.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, type TLSSocket } from "node:tls";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(90_000);
let c: TestCluster;
const BODY_TIMEOUT_MS = 8000;

beforeAll(async () => {
  // 80 seats in all: the "workload-low" level (ServiceAccounts) gets ceil(80 × 100 / 245) = 33 of them.
  // Without flow control the same flood fills all 40 mutating slots and the admin gets 429.
  c = await startTestCluster({ maxMutatingInflight: 40, maxReadOnlyInflight: 40, flowControl: { queueWaitMs: 1000, requestBodyTimeoutMs: BODY_TIMEOUT_MS } });
  for (const args of [
    ["create", "namespace", "team"],
    ["create", "serviceaccount", "attacker", "-n", "team"],
    ["create", "rolebinding", "attacker-edit", "--clusterrole=edit", "--serviceaccount=team:attacker", "-n", "team"],
  ]) {
    const r = await c.kubectl(args);
    expect(r.stderr).toBe("");
  }
});
afterAll(async () => {
  await c?.stop();
});

async function uid(kind: string, name: string): Promise<string> {
  const r = await c.kubectl(["get", kind, name, "-o", "jsonpath={.metadata.uid}"]);
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

async function saToken(ns: string, name: string): Promise<string> {
  const r = await c.kubectl(["create", "token", name, "-n", ns]);
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

/** A write whose headers arrive but whose body never does; `status` resolves with the answer's status line. */
function slowBodyWrite(token: string): { socket: TLSSocket; answer: Promise<{ status: number; text: string }>; answered: () => boolean } {
  const socket = connect({ host: "127.0.0.1", port: c.port, ca: c.caPEM, servername: "localhost" });
  let text = "";
  let done = false;
  const answer = new Promise<{ status: number; text: string }>((resolve) => {
    const finish = () => {
      if (done) return;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m || !text.includes("\r\n\r\n")) return;
      done = true;
      resolve({ status: Number(m[1]), text });
    };
    socket.on("data", (d) => {
      text += d.toString();
      // Wait for the whole (small) Status body.
      setTimeout(finish, 50);
    });
    socket.on("close", () => {
      finish();
      if (!done) {
        done = true;
        resolve({ status: 0, text });
      }
    });
    socket.on("error", () => {});
  });
  socket.on("secureConnect", () => {
    socket.write(
      "POST /api/v1/namespaces/team/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"apiVersion":"v1",`,
    );
  });
  return { socket, answer, answered: () => done };
}

describe("a slow-body flood from one user", () => {
  test("the admin and a node still get through; the flood gets 429 and 408, all naming its flow schema", async () => {
    const token = await saToken("team", "attacker");
    const [saFlowSchema, workloadLow, nodeHighFS, nodeHigh, exemptFS, exemptPL] = await Promise.all([
      uid("flowschema", "service-accounts"),
      uid("prioritylevelconfiguration", "workload-low"),
      uid("flowschema", "system-node-high"),
      uid("prioritylevelconfiguration", "node-high"),
      uid("flowschema", "exempt"),
      uid("prioritylevelconfiguration", "exempt"),
    ]);

    const flood = Array.from({ length: 50 }, () => slowBodyWrite(token));
    try {
      // The level is saturated once the queued part of the flood starts getting 429s.
      const first429 = await Promise.race(flood.map((f) => f.answer.then((a) => (a.status === 429 ? a : new Promise<never>(() => {})))));
      expect(first429.text).toContain("Too many requests, please try again later.");
      expect(first429.text).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(first429.text.toLowerCase()).toContain(`x-kubernetes-pf-flowschema-uid: ${saFlowSchema}`);
      expect(first429.text.toLowerCase()).toContain(`x-kubernetes-pf-prioritylevel-uid: ${workloadLow}`);
      const stillHeld = flood.filter((f) => !f.answered()).length;
      expect(stillHeld).toBeGreaterThan(0);

      // The attack is running: seats of its level are held by bodies that never come.
      const admin = await c.api("/api/v1/namespaces/team/configmaps", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "admin-during-attack" } }),
      });
      expect(admin.status).toBe(201);
      expect(admin.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(exemptFS);
      expect(admin.headers.get("x-kubernetes-pf-prioritylevel-uid")).toBe(exemptPL);

      const nodeHeaders = { "Impersonate-User": "system:node:edge-1", "Impersonate-Group": "system:nodes", "Content-Type": "application/json" };
      const lease = await c.api("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
        method: "POST",
        headers: nodeHeaders,
        body: JSON.stringify({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "edge-1" }, spec: { holderIdentity: "edge-1", leaseDurationSeconds: 40 } }),
      });
      expect(lease.status).toBe(201);
      expect(lease.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(nodeHighFS);
      expect(lease.headers.get("x-kubernetes-pf-prioritylevel-uid")).toBe(nodeHigh);
      const nodeRead = await c.api("/api/v1/namespaces/default/services", { headers: nodeHeaders });
      expect(nodeRead.status).toBe(200);
      expect(nodeRead.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(await uid("flowschema", "system-nodes"));

      // Another user in another level is not affected either.
      const bob = await c.api("/api/v1/namespaces/team/configmaps", { headers: { "Impersonate-User": "bob" } });
      expect(bob.status).toBe(403); // no RBAC rights, but served (not 429)
      expect(bob.headers.get("x-kubernetes-pf-flowschema-uid")).toBeNull(); // refused by authorization before flow control
      expect(flood.filter((f) => !f.answered()).length).toBeGreaterThan(0);

      // Bodies that never come: cut off with 408 after the body deadline, which gives the seats back.
      const answers = await Promise.all(flood.map((f) => f.answer));
      const counts = new Map<number, number>();
      for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
      expect(counts.get(429) ?? 0).toBeGreaterThan(0);
      expect(counts.get(408) ?? 0).toBeGreaterThan(0);
      expect([...counts.keys()].every((s) => s === 408 || s === 429)).toBe(true);
      const timeout = answers.find((a) => a.status === 408)!;
      expect(timeout.text).toContain('"reason":"Timeout"');
      expect(timeout.text).toContain("request body was not received within 8s");
    } finally {
      for (const f of flood) f.socket.destroy();
    }

    const metrics = await (await c.api("/metrics")).text();
    expect(metrics).toMatch(/apiserver_flowcontrol_rejected_requests_total\{flow_schema="service-accounts",priority_level="workload-low",reason="time-out"\} [1-9]/);
    expect(metrics).toContain('apiserver_flowcontrol_nominal_limit_seats{priority_level="workload-low"} 33');
    expect(metrics).toMatch(/apiserver_flowcontrol_dispatched_requests_total\{flow_schema="system-node-high",priority_level="node-high"\} [1-9]/);

    // Seats are free again: the same user's ordinary write succeeds.
    const after = await c.api("/api/v1/namespaces/team/configmaps", {
      method: "POST",
      token,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "attacker-after" } }),
    });
    expect(after.status).toBe(201);
    expect(after.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(saFlowSchema);
  });
});

describe("FlowSchemas and PriorityLevelConfigurations through kubectl", () => {
  test("upstream's default objects are listed with upstream's columns", async () => {
    const fs = await c.kubectl(["get", "flowschemas"]);
    expect(fs.stderr).toBe("");
    const lines = fs.stdout.trim().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["NAME", "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "AGE", "MISSINGPL"]);
    const names = lines.slice(1).map((l) => l.split(/\s+/)[0]);
    expect(names.sort()).toEqual(
      [
        "catch-all", "endpoint-controller", "exempt", "global-default", "kube-controller-manager", "kube-scheduler", "kube-system-service-accounts",
        "probes", "service-accounts", "system-leader-election", "system-node-high", "system-nodes", "workload-leader-election",
      ].sort(),
    );
    expect(lines.find((l) => l.startsWith("exempt "))!.split(/\s+/)).toEqual(["exempt", "exempt", "1", "*", expect.any(String), "False"]);
    expect(lines.find((l) => l.startsWith("global-default "))!.split(/\s+/)).toEqual(["global-default", "global-default", "9900", "ByUser", expect.any(String), "False"]);

    const pl = await c.kubectl(["get", "prioritylevelconfigurations"]);
    expect(pl.stderr).toBe("");
    const pls = pl.stdout.trim().split("\n");
    expect(pls[0]!.split(/\s+/)).toEqual(["NAME", "TYPE", "NOMINALCONCURRENCYSHARES", "QUEUES", "HANDSIZE", "QUEUELENGTHLIMIT", "AGE"]);
    expect(pls.slice(1).map((l) => l.split(/\s+/)[0]).sort()).toEqual(["catch-all", "exempt", "global-default", "leader-election", "node-high", "system", "workload-high", "workload-low"]);
    expect(pls.find((l) => l.startsWith("exempt "))!.split(/\s+/).slice(0, 6)).toEqual(["exempt", "Exempt", "<none>", "<none>", "<none>", "<none>"]);
    expect(pls.find((l) => l.startsWith("workload-low "))!.split(/\s+/).slice(0, 6)).toEqual(["workload-low", "Limited", "100", "128", "6", "50"]);
    expect(pls.find((l) => l.startsWith("catch-all "))!.split(/\s+/).slice(0, 6)).toEqual(["catch-all", "Limited", "5", "<none>", "<none>", "<none>"]);
  });

  test("a user-created FlowSchema takes effect; a dangling one shows MissingPL and is skipped", async () => {
    const asCarol = { "Impersonate-User": "carol" };
    const before = await c.api("/api", { headers: asCarol });
    expect(before.status).toBe(200);
    expect(before.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(await uid("flowschema", "global-default"));

    const manifest = `
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: carol-level
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 5
    limitResponse:
      type: Queue
      queuing:
        queues: 4
        handSize: 2
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: carol
spec:
  priorityLevelConfiguration:
    name: carol-level
  matchingPrecedence: 300
  distinguisherMethod:
    type: ByUser
  rules:
  - subjects:
    - kind: User
      user:
        name: carol
    nonResourceRules:
    - verbs: ["get"]
      nonResourceURLs: ["/api", "/apis/*"]
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: carol-dangling
spec:
  priorityLevelConfiguration:
    name: no-such-level
  matchingPrecedence: 200
  rules:
  - subjects:
    - kind: Group
      group:
        name: system:authenticated
    nonResourceRules:
    - verbs: ["*"]
      nonResourceURLs: ["*"]
`;
    const apply = await c.kubectl(["apply", "-f", "-"], { stdin: manifest });
    expect(apply.stderr).toBe("");
    const pl = await c.kubectl(["get", "prioritylevelconfiguration", "carol-level", "-o", "json"]);
    const defaulted = JSON.parse(pl.stdout).spec.limited;
    expect(defaulted).toMatchObject({ lendablePercent: 0, limitResponse: { queuing: { queues: 4, handSize: 2, queueLengthLimit: 50 } } });

    const [carolFS, carolPL] = [await uid("flowschema", "carol"), await uid("prioritylevelconfiguration", "carol-level")];
    let after: Response | undefined;
    for (let i = 0; i < 50; i++) {
      after = await c.api("/api", { headers: asCarol });
      if (after.headers.get("x-kubernetes-pf-flowschema-uid") === carolFS) break;
      await Bun.sleep(100);
    }
    expect(after!.status).toBe(200);
    expect(after!.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(carolFS);
    expect(after!.headers.get("x-kubernetes-pf-prioritylevel-uid")).toBe(carolPL);
    // Outside the schema's rules: back to the defaults.
    const other = await c.api("/api/v1/namespaces/team/configmaps", { headers: asCarol });
    expect(other.headers.get("x-kubernetes-pf-flowschema-uid")).toBeNull(); // 403 before flow control
    const openapi = await c.api("/openapi/v2", { headers: asCarol });
    expect(openapi.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(await uid("flowschema", "global-default"));

    let missing = "";
    for (let i = 0; i < 50 && missing !== "True"; i++) {
      const g = await c.kubectl(["get", "flowschema", "carol-dangling", "--no-headers"]);
      missing = g.stdout.trim().split(/\s+/)[5] ?? "";
      if (missing !== "True") await Bun.sleep(100);
    }
    expect(missing).toBe("True");
    const cond = JSON.parse((await c.kubectl(["get", "flowschema", "carol-dangling", "-o", "json"])).stdout).status.conditions[0];
    expect(cond).toMatchObject({ type: "Dangling", status: "True", reason: "NotFound", message: 'This FlowSchema references the PriorityLevelConfiguration object named "no-such-level" but there is no such object' });
  });

  test("a level with no seats refuses at once; long-running requests (logs, exec) are not held in seats", async () => {
    const bind = await c.kubectl(["create", "clusterrolebinding", "dave-view", "--clusterrole=view", "--user=dave"]);
    expect(bind.stderr).toBe("");
    const apply = await c.kubectl(["apply", "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "flowcontrol.apiserver.k8s.io/v1",
            kind: "PriorityLevelConfiguration",
            metadata: { name: "jail" },
            spec: { type: "Limited", limited: { nominalConcurrencyShares: 0, limitResponse: { type: "Reject" } } },
          },
          {
            apiVersion: "flowcontrol.apiserver.k8s.io/v1",
            kind: "FlowSchema",
            metadata: { name: "jail-dave" },
            spec: {
              priorityLevelConfiguration: { name: "jail" },
              matchingPrecedence: 10,
              rules: [{ subjects: [{ kind: "User", user: { name: "dave" } }], resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true }] }],
            },
          },
        ],
      }),
    });
    expect(apply.stderr).toBe("");
    const jailFS = await uid("flowschema", "jail-dave");
    const asDave = { "Impersonate-User": "dave" };
    let list: Response | undefined;
    for (let i = 0; i < 50; i++) {
      list = await c.api("/api/v1/namespaces/team/pods", { headers: asDave });
      if (list.status === 429) break;
      await Bun.sleep(100);
    }
    expect(list!.status).toBe(429);
    expect(list!.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(jailFS);
    expect(((await list!.json()) as any).message).toBe("Too many requests, please try again later.");
    const watch = await c.api("/api/v1/namespaces/team/pods?watch=true", { headers: asDave });
    expect(watch.status).toBe(429);
    // Logs are long-running: not classified, not held, so not refused by the empty level.
    const logs = await c.api("/api/v1/namespaces/team/pods/nope/log", { headers: asDave });
    expect(logs.status).toBe(404);
    expect(logs.headers.get("x-kubernetes-pf-flowschema-uid")).toBeNull();
  });

  test("invalid objects are refused with upstream's messages; mandatory ones come back when deleted", async () => {
    const bad = await c.kubectl(["create", "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "flowcontrol.apiserver.k8s.io/v1",
        kind: "FlowSchema",
        metadata: { name: "bad" },
        spec: { priorityLevelConfiguration: { name: "global-default" }, matchingPrecedence: 20000, rules: [{ subjects: [{ kind: "User", user: { name: "x" } }] }] },
      }),
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('The FlowSchema "bad" is invalid');
    expect(bad.stderr).toContain("spec.matchingPrecedence: Invalid value: 20000: must not be greater than 10000");
    expect(bad.stderr).toContain("at least one of resourceRules and nonResourceRules has to be non-empty");

    const badPL = await c.kubectl(["create", "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "flowcontrol.apiserver.k8s.io/v1",
        kind: "PriorityLevelConfiguration",
        metadata: { name: "bad" },
        spec: { type: "Limited", limited: { limitResponse: { type: "Queue", queuing: { queues: 2, handSize: 3 } } } },
      }),
    });
    expect(badPL.code).not.toBe(0);
    expect(badPL.stderr).toContain("spec.limited.limitResponse.queuing.handSize: Invalid value: 3: should not be greater than queues (2)");

    const patch = await c.kubectl(["patch", "flowschema", "exempt", "--type=merge", "-p", '{"spec":{"matchingPrecedence":2}}']);
    expect(patch.code).not.toBe(0);
    expect(patch.stderr).toContain("spec of 'exempt' must equal the fixed value");

    const oldUID = await uid("flowschema", "exempt");
    const del = await c.kubectl(["delete", "flowschema", "exempt"]);
    expect(del.stderr).toBe("");
    let back = "";
    for (let i = 0; i < 50; i++) {
      const g = await c.kubectl(["get", "flowschema", "exempt", "-o", "jsonpath={.metadata.uid}"]);
      back = g.stdout.trim();
      if (back) break;
      await Bun.sleep(100);
    }
    expect(back).not.toBe("");
    expect(back).not.toBe(oldUID);
    // And the admin is exempt under the restored schema.
    let admin: Response | undefined;
    for (let i = 0; i < 50; i++) {
      admin = await c.api("/api/v1/namespaces");
      if (admin.headers.get("x-kubernetes-pf-flowschema-uid") === back) break;
      await Bun.sleep(100);
    }
    expect(admin!.headers.get("x-kubernetes-pf-flowschema-uid")).toBe(back);
  });
});
