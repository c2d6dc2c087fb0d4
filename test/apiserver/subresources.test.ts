// Subresources and review APIs: binding, eviction with PodDisruptionBudgets, TokenRequest, reviews,
// kubelet-proxied subresources without a kubelet, and events with a TTL.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { readResponse } from "../helpers/response.ts";
import { createVethNetns } from "../helpers/veth-netns.ts";
import { inNetns } from "../../internal/runtime/netns.ts";
import { issueKubeletServingCert } from "../../internal/auth/kubeletcert.ts";
import { exportKeyPEM, generateKeyPair, pemEncode } from "../../internal/auth/pem.ts";

setDefaultTimeout(60_000);
let c: TestCluster;
const NS = "/api/v1/namespaces/default";

async function req(method: string, path: string, body?: unknown, type = "application/json") {
  const { status, json, text } = await readResponse(await c.api(path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "Content-Type": type } }));
  return { status, json, text };
}

const pod = (name: string, labels: Record<string, string> = {}, nodeName?: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "busybox" }] },
});

/** A stand-in kubelet's TLS: a key of its own and the serving certificate the cluster CA issues at join. */
async function kubeletTLS(nodeName: string, ips: string[]): Promise<{ cert: string; key: string }> {
  const keys = await generateKeyPair();
  const spki = pemEncode(await crypto.subtle.exportKey("spki", keys.publicKey), "PUBLIC KEY");
  return { cert: await issueKubeletServingCert(c.dataDir, nodeName, ips, spki), key: await exportKeyPEM(keys.privateKey) };
}

/** The claims of a JWT (no verification: the kubelet side is tested in test/auth). */
function claims(authorization: string): any {
  return JSON.parse(Buffer.from(authorization.replace(/^Bearer /, "").split(".")[1]!, "base64url").toString());
}

beforeAll(async () => {
  c = await startTestCluster();
  expect((await req("POST", `${NS}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } })).status).toBe(201);
});
afterAll(async () => {
  await c?.stop();
});

describe("binding", () => {
  test("pods/binding sets nodeName and PodScheduled; a second binding conflicts", async () => {
    await req("POST", `${NS}/pods`, pod("bind-me"));
    const b = await req("POST", `${NS}/pods/bind-me/binding`, { apiVersion: "v1", kind: "Binding", metadata: { name: "bind-me" }, target: { apiVersion: "v1", kind: "Node", name: "node-1" } });
    expect(b.status).toBe(201);
    expect(b.json).toMatchObject({ kind: "Status", status: "Success" });
    const p = await req("GET", `${NS}/pods/bind-me`);
    expect(p.json.spec.nodeName).toBe("node-1");
    expect(p.json.status.conditions.find((x: any) => x.type === "PodScheduled").status).toBe("True");
    const again = await req("POST", `${NS}/bindings`, { apiVersion: "v1", kind: "Binding", metadata: { name: "bind-me" }, target: { kind: "Node", name: "node-2" } });
    expect(again.status).toBe(409);
    expect(again.json.reason).toBe("Conflict");
    expect(again.json.message).toContain('is already assigned to node "node-1"');
  });
});

describe("eviction", () => {
  const ready = { conditions: [{ type: "Ready", status: "True" }], phase: "Running" };
  test("respects a PodDisruptionBudget: 429 when it would be violated", async () => {
    for (const n of ["ev-1", "ev-2"]) {
      await req("POST", `${NS}/pods`, pod(n, { app: "ev" }, "node-1"));
      const s = await req("PATCH", `${NS}/pods/${n}/status`, { status: ready }, "application/merge-patch+json");
      expect(s.status).toBe(200);
    }
    const pdb = await req("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "ev" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "ev" } } },
    });
    expect(pdb.status).toBe(201);
    const eviction = (n: string) => ({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: n, namespace: "default" }, deleteOptions: { gracePeriodSeconds: 0 } });
    const first = await req("POST", `${NS}/pods/ev-1/eviction`, eviction("ev-1"));
    expect(first.status).toBe(201);
    expect((await req("GET", `${NS}/pods/ev-1`)).status).toBe(404);
    const second = await req("POST", `${NS}/pods/ev-2/eviction`, eviction("ev-2"));
    expect(second.status).toBe(429);
    expect(second.json.reason).toBe("TooManyRequests");
    expect(second.json.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(second.json.details.causes[0].reason).toBe("DisruptionBudget");
    expect((await req("GET", `${NS}/pods/ev-2`)).status).toBe(200);
  });

  test("eviction of a pod without a budget starts its graceful deletion", async () => {
    await req("POST", `${NS}/pods`, pod("free", {}, "node-1"));
    const r = await req("POST", `${NS}/pods/free/eviction`, { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "free" } });
    expect(r.status).toBe(201);
    const p = await req("GET", `${NS}/pods/free`);
    expect(p.json.metadata.deletionTimestamp).toBeDefined();
  });
});

describe("tokens and reviews", () => {
  test("TokenRequest issues a token that authenticates as the ServiceAccount", async () => {
    const t = await req("POST", `${NS}/serviceaccounts/default/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } });
    expect(t.status).toBe(201);
    expect(t.json.kind).toBe("TokenRequest");
    const token = t.json.status.token;
    expect(token.split(".").length).toBe(3);
    const who = await c.api("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      method: "POST",
      token,
      body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
      headers: { "Content-Type": "application/json" },
    });
    expect(who.status).toBe(201);
    expect(((await who.json()) as any).status.userInfo.username).toBe("system:serviceaccount:default:default");
    const denied = await c.api(`${NS}/secrets`, { token });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as any).message).toBe(
      'secrets is forbidden: User "system:serviceaccount:default:default" cannot list resource "secrets" in API group "" in the namespace "default"',
    );
    const tr = await req("POST", "/apis/authentication.k8s.io/v1/tokenreviews", { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } });
    expect(tr.json.status.authenticated).toBe(true);
    expect(tr.json.status.user.username).toBe("system:serviceaccount:default:default");
    const missing = await req("POST", `${NS}/serviceaccounts/nobody/token`, { spec: {} });
    expect(missing.status).toBe(404);
  });

  test("SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview", async () => {
    const ssar = await req("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: { verb: "delete", resource: "nodes" } },
    });
    expect(ssar.status).toBe(201);
    expect(ssar.json.status.allowed).toBe(true);
    const sar = await req("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user: "nobody", groups: ["system:authenticated"], resourceAttributes: { verb: "list", resource: "secrets", namespace: "default" } },
    });
    expect(sar.json.status.allowed).toBe(false);
    const lsar = await req("POST", "/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "LocalSubjectAccessReview",
      spec: { user: "nobody", resourceAttributes: { verb: "get", resource: "pods", namespace: "other" } },
    });
    expect(lsar.status).toBe(422);
    expect(lsar.json.reason).toBe("Invalid");
    const noattrs = await req("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", { spec: {} });
    expect(noattrs.status).toBe(422);
    const rules = await req("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", { spec: { namespace: "default" } });
    expect(rules.status).toBe(201);
    expect(rules.json.status.resourceRules.length).toBeGreaterThan(0);
  });
});

describe("kubelet-proxied subresources", () => {
  test("logs/exec of an unscheduled pod or a node without a kubelet give clear errors", async () => {
    await req("POST", `${NS}/pods`, pod("nolog"));
    const unscheduled = await req("GET", `${NS}/pods/nolog/log`);
    expect(unscheduled.status).toBe(400);
    expect(unscheduled.json.message).toBe("pod nolog does not have a host assigned");
    await req("POST", `${NS}/pods`, pod("onnode", {}, "ghost"));
    const noNode = await req("GET", `${NS}/pods/onnode/log`);
    expect(noNode.status).toBe(404);
    expect(noNode.json.message).toBe('nodes "ghost" not found');
    await req("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "ghost" } });
    const noKubelet = await req("GET", `${NS}/pods/onnode/log`);
    expect(noKubelet.status).toBe(503);
    expect(noKubelet.json.reason).toBe("ServiceUnavailable");
    const k = await c.kubectl(["logs", "onnode"]);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toContain('node "ghost" has no kubelet endpoint yet');
  });

  test("logs are proxied to the kubelet endpoint the node reports", async () => {
    // A stand-in kubelet on loopback that serves containerLogs over HTTPS with the certificate issued to node "real".
    let auth = "";
    const kubelet = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: await kubeletTLS("real", ["127.0.0.1"]),
      fetch(r) {
        auth = r.headers.get("authorization") ?? "";
        const u = new URL(r.url);
        return new Response(`log of ${u.pathname} tail=${u.searchParams.get("tailLines")}\n`);
      },
    });
    try {
      await req("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "real" } });
      const st = await req("PATCH", "/api/v1/nodes/real/status", { status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } }, "application/merge-patch+json");
      expect(st.status).toBe(200);
      await req("POST", `${NS}/pods`, pod("logged", {}, "real"));
      const k = await c.kubectl(["logs", "logged", "--tail=5"]);
      expect(k.stdout).toBe("log of /containerLogs/default/logged/c tail=5\n");
      expect(auth).toMatch(/^Bearer .+/);
      expect(auth).not.toBe(`Bearer ${c.adminToken}`);
      // What the API server sends a kubelet is good for that kubelet only, for minutes.
      const jwt = claims(auth);
      expect(jwt.sub).toBe("system:kube-apiserver");
      expect(jwt.aud).toEqual(["kubelet:real"]);
      expect(jwt.exp - jwt.iat).toBeLessThanOrEqual(300);
      expect((await c.api("/api/v1/namespaces", { token: auth.slice(7) })).status).toBe(401);
      const proxied = await c.api("/api/v1/nodes/real/proxy/stats/summary?x=1");
      expect(proxied.status).toBe(200);
      expect(await proxied.text()).toBe("log of /stats/summary tail=null\n");
    } finally {
      kubelet.stop(true);
    }
  });
});

describe("pods/proxy and services/proxy", () => {
  test("HTTP is proxied to the pod IP, and for a service to a ready endpoint that is that pod", async () => {
    // The "pod" listens in a test-made network namespace, on a non-loopback address the API server reaches by veth.
    const ns = await createVethNetns("ksp");
    const backend = inNetns(ns.path, () =>
      Bun.serve({ port: 0, hostname: ns.nsIP, fetch: (r) => new Response(`backend saw ${new URL(r.url).pathname}${new URL(r.url).search}`) }),
    );
    try {
      await req("POST", `${NS}/pods`, { apiVersion: "v1", kind: "Pod", metadata: { name: "px" }, spec: { containers: [{ name: "c", image: "x", ports: [{ containerPort: backend.port }] }] } });
      await req("PATCH", `${NS}/pods/px/status`, { status: { podIP: ns.nsIP, podIPs: [{ ip: ns.nsIP }] } }, "application/merge-patch+json");
      const viaPod = await c.api(`${NS}/pods/px/proxy/hello?x=1`);
      expect(viaPod.status).toBe(200);
      expect(await viaPod.text()).toBe("backend saw /hello?x=1");
      expect(await (await c.api(`${NS}/pods/px:${backend.port}/proxy/`)).text()).toBe("backend saw /");

      await req("POST", `${NS}/services`, { apiVersion: "v1", kind: "Service", metadata: { name: "psvc" }, spec: { ports: [{ name: "web", port: 80, targetPort: backend.port }] } });
      const ep = await req("POST", `${NS}/endpoints`, { apiVersion: "v1", kind: "Endpoints", metadata: { name: "psvc" }, subsets: [{ addresses: [{ ip: ns.nsIP, targetRef: { kind: "Pod", name: "px", namespace: "default" } }], ports: [{ name: "web", port: backend.port }] }] });
      expect(ep.status).toBe(201);
      const viaSvc = await c.api(`${NS}/services/psvc:web/proxy/status`);
      expect(await viaSvc.text()).toBe("backend saw /status");
      const noPort = await c.api(`${NS}/services/psvc:nope/proxy/`);
      expect(noPort.status).toBe(503);
      const k = await c.kubectl(["get", "--raw", "/api/v1/namespaces/default/services/psvc:web/proxy/k"]);
      expect(k.stdout).toBe("backend saw /k");

      // An endpoint that names no pod with that IP is not dialled (upstream's isValidAddress).
      await req("POST", `${NS}/services`, { apiVersion: "v1", kind: "Service", metadata: { name: "orphan" }, spec: { ports: [{ port: 80 }] } });
      await req("POST", `${NS}/endpoints`, { apiVersion: "v1", kind: "Endpoints", metadata: { name: "orphan" }, subsets: [{ addresses: [{ ip: ns.nsIP }], ports: [{ port: backend.port }] }] });
      const orphan = await req("GET", `${NS}/services/orphan/proxy/`);
      expect(orphan.status).toBe(503);
      expect(orphan.json.message).toBe('no endpoints available for service "orphan"');
    } finally {
      backend.stop(true);
      await ns.cleanup();
    }
  });

  test("loopback and link-local addresses are refused: in Endpoints, EndpointSlices and as a pod's IP", async () => {
    // Something only the API server's host can reach on loopback (e.g. a plain-HTTP etcd).
    let reached = 0;
    const secret = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (reached++, new Response("loopback-only")) });
    try {
      const ep = await req("POST", `${NS}/endpoints`, { apiVersion: "v1", kind: "Endpoints", metadata: { name: "lo" }, subsets: [{ addresses: [{ ip: "127.0.0.1" }], notReadyAddresses: [{ ip: "169.254.169.254" }], ports: [{ port: secret.port }] }] });
      expect(ep.status).toBe(422);
      expect(ep.json.reason).toBe("Invalid");
      expect(ep.json.details.causes).toEqual([
        { reason: "FieldValueInvalid", field: "subsets[0].addresses[0].ip", message: 'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)' },
        { reason: "FieldValueInvalid", field: "subsets[0].notReadyAddresses[0].ip", message: 'Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)' },
      ]);
      const slice = await req("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: "lo-abc", labels: { "kubernetes.io/service-name": "lo" } },
        addressType: "IPv4",
        endpoints: [{ addresses: ["127.0.0.2"] }, { addresses: ["0.0.0.0"] }],
        ports: [{ port: secret.port }],
      });
      expect(slice.status).toBe(422);
      expect(slice.json.message).toContain('endpoints[0].addresses[0]: Invalid value: "127.0.0.2": may not be in the loopback range (127.0.0.0/8, ::1/128)');
      expect(slice.json.message).toContain('endpoints[1].addresses[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)');

      // A pod whose (node-reported) IP is loopback is not proxied to, directly or as a service endpoint.
      await req("POST", `${NS}/pods`, { apiVersion: "v1", kind: "Pod", metadata: { name: "lopod" }, spec: { containers: [{ name: "c", image: "x", ports: [{ containerPort: secret.port }] }] } });
      await req("PATCH", `${NS}/pods/lopod/status`, { status: { podIP: "127.0.0.1" } }, "application/merge-patch+json");
      const viaPod = await req("GET", `${NS}/pods/lopod/proxy/`);
      expect(viaPod.status).toBe(400);
      expect(viaPod.json.message).toBe("address not allowed");
      expect(reached).toBe(0);
    } finally {
      secret.stop(true);
    }
  });
});

describe("exec over websockets", () => {
  test("kubectl exec is bridged to the kubelet's websocket with the negotiated subprotocol", async () => {
    let offered: string[] = [];
    let auth = "";
    const kubelet = Bun.serve<{ path: string }>({
      port: 0,
      hostname: "127.0.0.1",
      tls: await kubeletTLS("exec-node", ["127.0.0.1"]),
      fetch(r, s) {
        offered = (r.headers.get("sec-websocket-protocol") ?? "").split(",").map((x) => x.trim());
        auth = r.headers.get("authorization") ?? "";
        const u = new URL(r.url);
        if (s.upgrade(r, { headers: { "Sec-WebSocket-Protocol": "v5.channel.k8s.io" }, data: { path: `${u.pathname}?${u.searchParams.getAll("command").join(" ")}` } })) return undefined as any;
        return new Response("upgrade required", { status: 400 });
      },
      websocket: {
        // Channel 1 is stdout, channel 3 the final status, as in the v5.channel.k8s.io protocol.
        open(ws) {
          ws.send(new Uint8Array([1, ...new TextEncoder().encode(`ran ${ws.data.path}\n`)]));
          ws.send(new Uint8Array([3, ...new TextEncoder().encode(JSON.stringify({ metadata: {}, status: "Success" }))]));
          ws.close(1000);
        },
        message() {},
      },
    });
    try {
      await req("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "exec-node" } });
      await req("PATCH", "/api/v1/nodes/exec-node/status", { status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } }, "application/merge-patch+json");
      await req("POST", `${NS}/pods`, pod("shell", {}, "exec-node"));
      const r = await c.kubectl(["exec", "shell", "--", "echo", "hi"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("ran /exec/default/shell/c?echo hi\n");
      expect(offered).toContain("v5.channel.k8s.io");
      expect(claims(auth).aud).toEqual(["kubelet:exec-node"]);
    } finally {
      kubelet.stop(true);
    }
  });
});

describe("the API server's credential to kubelets", () => {
  test("is sent only to a kubelet with the CA-issued certificate of that very node (a node cannot redirect it)", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { selfSignedServingCert } = await import("../../internal/auth/pki.ts");
    const dir = join(c.dataDir, "server", "tls");
    const impostors: [string, { cert: string; key: string }][] = [
      // Signed by the cluster CA, but the API server's own certificate.
      ["API server certificate", { cert: readFileSync(join(dir, "serving-kube-apiserver.crt"), "utf8"), key: readFileSync(join(dir, "serving-kube-apiserver.key"), "utf8") }],
      // Another node's kubelet certificate, for the right address.
      ["another node's kubelet", await kubeletTLS("honest-node", ["127.0.0.1"])],
      // This node's name, but not from the cluster CA.
      ["self-signed", await selfSignedServingCert({ commonName: "system:node:greedy", days: 1, dns: ["greedy"], ips: ["127.0.0.1"] }).then((x) => ({ cert: x.certPEM, key: x.keyPEM }))],
    ];
    await req("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "greedy" } });
    await req("POST", `${NS}/pods`, pod("greedy-pod", {}, "greedy"));
    // Even with verification turned off process-wide (other tests, or an operator's environment), nothing is sent.
    const savedReject = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    try {
      for (const [what, tls] of impostors) {
        const seen: string[] = [];
        const listener = Bun.serve({ port: 0, hostname: "127.0.0.1", tls, fetch: (r) => (seen.push(r.headers.get("authorization") ?? ""), new Response("gotcha")) });
        try {
          // The node reports whatever address and port it likes: here, the listener above.
          const st = await req("PATCH", "/api/v1/nodes/greedy/status", { status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: listener.port } } } }, "application/merge-patch+json");
          expect(st.status).toBe(200);
          const logs = await req("GET", `${NS}/pods/greedy-pod/log`);
          expect(logs.status).toBe(502);
          expect(logs.json.message).toStartWith("error dialing backend:");
          expect((await c.api("/api/v1/nodes/greedy/proxy/pods")).status).toBe(502);
          const exec = await c.kubectl(["exec", "greedy-pod", "--", "id"]);
          expect(exec.code).not.toBe(0);
          expect({ what, seen }).toEqual({ what, seen: [] });
        } finally {
          listener.stop(true);
        }
      }
    } finally {
      if (savedReject === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = savedReject;
    }
  });
});

describe("events", () => {
  test("events are stored with a TTL", async () => {
    const r = await req("POST", `${NS}/events`, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "ttl-ev" },
      involvedObject: { kind: "Pod", name: "p", namespace: "default" },
      reason: "Test",
      message: "hello",
      type: "Normal",
    });
    expect(r.status).toBe(201);
    const { kv } = await c.store.get("/registry/core/events/default/ttl-ev");
    expect(kv?.expiresAt).toBeGreaterThan(Date.now() + 3500 * 1000);
    const v1 = await req("GET", "/apis/events.k8s.io/v1/namespaces/default/events/ttl-ev");
    expect(v1.json).toMatchObject({ apiVersion: "events.k8s.io/v1", note: "hello", regarding: { kind: "Pod", name: "p" } });
  });
});
