// kubectl logs / exec through the API server's proxy to the kubelet's HTTPS endpoint, and agent restarts:
// kill -9 + restart adopts running containers without restarting them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { refs } from "../../internal/client/refs.ts";
import { createAuthenticator, kubeletServerIdentity } from "../../internal/auth/index.ts";
import { KUBECTL } from "../helpers/cluster.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "./setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-s"]);
}, 120_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const pods = () => env.client.resource(refs.pods, "default");

test("kubectl logs: whole log, --tail, --timestamps, -f until the container exits, --previous", async () => {
  await pods().create(busyboxPod("talker", "node-s", "for i in 1 2 3; do echo line $i; done; sleep 2; echo line 4; sleep 1; exit 1", { restartPolicy: "OnFailure" }));
  await waitPod(env, "talker", (p) => p.status?.phase === "Running", "Running");
  // -f streams until this instance exits.
  const follow = await env.cluster.kubectl(["logs", "-f", "talker"], { timeoutMs: 30_000 });
  expect(follow.code).toBe(0);
  expect(follow.stdout).toBe("line 1\nline 2\nline 3\nline 4\n");
  const tail = await env.cluster.kubectl(["logs", "--tail=1", "talker"]);
  expect(tail.stdout.trim().startsWith("line")).toBe(true);
  expect(tail.stdout.trim().split("\n").length).toBe(1);
  const ts = await env.cluster.kubectl(["logs", "--timestamps", "--tail=2", "talker"]);
  for (const l of ts.stdout.trim().split("\n")) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z line \d$/);
  await waitPod(env, "talker", (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, "restarted");
  const prev = await env.cluster.kubectl(["logs", "--previous", "talker"]);
  expect(prev.stdout).toBe("line 1\nline 2\nline 3\nline 4\n");
}, 60_000);

test("kubectl exec: stdout, stdin, and the command's exit code", async () => {
  await pods().create(busyboxPod("shell", "node-s", "exec sleep 3600"));
  await waitPod(env, "shell", (p) => p.status?.phase === "Running", "Running");
  const out = await env.cluster.kubectl(["exec", "shell", "--", "sh", "-c", "echo out; echo err >&2"]);
  expect(out.code).toBe(0);
  expect(out.stdout).toBe("out\n");
  expect(out.stderr).toBe("err\n");
  const code = await env.cluster.kubectl(["exec", "shell", "--", "sh", "-c", "exit 3"]);
  expect(code.code).toBe(3);
  expect(code.stderr).toContain("command terminated with exit code 3");
  const stdin = await env.cluster.kubectl(["exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z"], { stdin: "hello from stdin\n" });
  expect(stdin.code).toBe(0);
  expect(stdin.stdout).toBe("HELLO FROM STDIN\n");
  const notRunning = await env.cluster.kubectl(["exec", "shell", "-c", "nope", "--", "true"]);
  expect(notRunning.code).not.toBe(0);
}, 60_000);

test("kill -9 of the agent and a restart adopt running containers without restarting them", async () => {
  await pods().create(busyboxPod("survivor", "node-s", "exec sleep 3600"));
  const before = await waitPod(env, "survivor", (p) => p.status?.phase === "Running" && !!p.status.containerStatuses?.[0]?.ready, "Running");
  const cs0 = before.status!.containerStatuses![0]!;
  const node = env.nodes[0]!;
  await node.kill9();
  // Pods keep running without their agent.
  const tasks = await env.world.ctr(node.namespace, ["tasks", "ls"]);
  expect(tasks).toContain(cs0.containerID!.replace("containerd://", ""));
  await node.start();
  // A new pod proves the restarted agent works; then the survivor is unchanged.
  await pods().create(busyboxPod("after-restart", "node-s", "exec sleep 3600"));
  await waitPod(env, "after-restart", (p) => p.status?.phase === "Running", "Running after restart", 60_000);
  await Bun.sleep(3000);
  const after = await pods().get("survivor");
  const cs1 = after.status.containerStatuses[0];
  expect(cs1.containerID).toBe(cs0.containerID);
  expect(cs1.restartCount).toBe(0);
  expect(cs1.state.running.startedAt).toBe(cs0.state!.running!.startedAt);
  // Exactly one container for the pod: never started twice.
  const ids = (await env.world.ctr(node.namespace, ["containers", "ls", "-q"])).split("\n").filter((s) => s.startsWith(before.metadata!.uid!.slice(0, 13)));
  expect(ids.length).toBe(1);
  // Logs still flow after adoption.
  const ex = await env.cluster.kubectl(["exec", "survivor", "--", "sh", "-c", "echo adopted > /proc/1/fd/1"]);
  expect(ex.code).toBe(0);
  await waitFor("log line after adoption", async () => (await env.cluster.kubectl(["logs", "survivor"])).stdout.includes("adopted"));
}, 120_000);

test("kubelet endpoint refuses callers other than the API server", async () => {
  const node: any = await env.client.resource(refs.nodes).get("node-s");
  const port = node.status.daemonEndpoints.kubeletEndpoint.Port;
  const url = `https://${env.nodes[0]!.ip}:${port}/containerLogs/default/shell/main`;
  const anon = await fetch(url, { tls: { rejectUnauthorized: false } } as any);
  expect(anon.status).toBe(401);
  const admin = await fetch(url, { headers: { Authorization: `Bearer ${env.cluster.adminToken}` }, tls: { rejectUnauthorized: false } } as any);
  expect(admin.status).toBe(403);
  // The API server's identity counts only with a token made for this kubelet (issue 9 item 2): its long-lived API
  // token, or a token for another node's kubelet, is refused; the kubelet serves the CA-issued node certificate.
  const authn = createAuthenticator({ store: env.cluster.store, dataDir: env.cluster.dataDir });
  const as = (token: string) => fetch(url, { headers: { Authorization: `Bearer ${token}` }, tls: { ca: env.cluster.caPEM, checkServerIdentity: kubeletServerIdentity("node-s") } } as any);
  expect((await as(await authn.issueAPIServerToken())).status).toBe(403);
  expect((await as((await authn.issueKubeletToken("another-node")).token)).status).toBe(401);
  expect((await as((await authn.issueKubeletToken("node-s")).token)).status).toBe(200);
  void KUBECTL;
}, 30_000);

test("port-forward over the websocket portforward protocol (v4.channel.k8s.io) through the API server", async () => {
  await pods().create(busyboxPod("pf", "node-s", "mkdir -p /www && echo forwarded > /www/index.html && exec httpd -f -p 8080 -h /www"));
  await waitPod(env, "pf", (p) => p.status?.phase === "Running", "Running");
  await Bun.sleep(500);
  const url = env.cluster.localURL.replace("https", "wss") + "/api/v1/namespaces/default/pods/pf/portforward?ports=8080";
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${env.cluster.adminToken}` }, protocols: ["v4.channel.k8s.io"], tls: { ca: env.cluster.caPEM } } as any);
  ws.binaryType = "arraybuffer";
  let data = "";
  const headers: number[] = [];
  const done = new Promise<void>((resolve) => {
    ws.onmessage = (ev) => {
      const b = new Uint8Array(ev.data as ArrayBuffer);
      const ch = b[0]!;
      const body = b.subarray(1);
      if (body.length === 2 && headers.length < 2) {
        headers.push(body[0]! | (body[1]! << 8));
        if (headers.length === 2) {
          // The client sends plain data frames (only the server prefixes the port), as client-go and python's client.
          const req = new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n");
          const f = new Uint8Array(1 + req.length);
          f.set(req, 1);
          ws.send(f);
        }
        return;
      }
      if (ch === 0) data += new TextDecoder().decode(body);
    };
    ws.onclose = () => resolve();
  });
  await Promise.race([done, Bun.sleep(15_000)]);
  expect(headers).toEqual([8080, 8080]);
  expect(data).toContain("200 OK");
  expect(data.endsWith("forwarded\n")).toBe(true);
}, 60_000);

/** The "pf" pod (busybox httpd answering "forwarded" on 8080), created unless an earlier test left it running. */
async function ensurePfPod() {
  if (!(await pods().get("pf").catch(() => undefined))) {
    await pods().create(busyboxPod("pf", "node-s", "mkdir -p /www && echo forwarded > /www/index.html && exec httpd -f -p 8080 -h /www"));
    await waitPod(env, "pf", (p) => p.status?.phase === "Running", "Running");
  }
}

/** `kubectl port-forward pod/pf :8080` running, with the local port it printed (and what it printed up to then). */
async function kubectlPortForward(extraEnv: Record<string, string> = {}) {
  const proc = Bun.spawn([KUBECTL, "--kubeconfig", env.cluster.kubeconfigPath, "port-forward", "pod/pf", ":8080"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: `${env.cluster.dataDir}/home`, ...extraEnv },
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  const port = await waitFor("Forwarding line", async () => {
    const { value } = await reader.read();
    out += new TextDecoder().decode(value ?? new Uint8Array());
    return /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
  }, 20_000).catch(async (e) => {
    proc.kill();
    console.error(out, await new Response(proc.stderr).text());
    await proc.exited;
    throw e;
  });
  return { proc, port, out };
}

// Needs the API server's websocket bridge to pass kubectl's "SPDY/3.1+portforward.k8s.io" offer through;
// runs as soon as the bridge does.
const bridgePassesSpdy = !readFileSync(new URL("../../internal/apiserver/subresources/wsproxy.ts", import.meta.url), "utf8").includes("{ headers, protocols,");

test.skipIf(!bridgePassesSpdy)("kubectl port-forward (SPDY tunnelled through the websocket)", async () => {
  await ensurePfPod();
  const { proc, port, out } = await kubectlPortForward();
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`).catch(async (e) => {
        proc.kill();
        console.error("kubectl:", out, await new Response(proc.stderr).text());
        throw e;
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("forwarded\n");
    }
  } finally {
    proc.kill();
    await proc.exited;
  }
}, 60_000);

// SPDY/3.1 (kubectl's fallback when a websocket upgrade fails; older client-go, CI tools and IDE plugins speak
// only SPDY): the API server's TLS listener takes the upgrade and tunnels it to the kubelet.
const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false", KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" };

test("a SPDY upgrade of pods/exec gets 101 with the negotiated X-Stream-Protocol-Version", async () => {
  if (!(await pods().get("shell").catch(() => undefined))) {
    await pods().create(busyboxPod("shell", "node-s", "exec sleep 3600"));
    await waitPod(env, "shell", (p) => p.status?.phase === "Running", "Running");
  }
  const port = Number(new URL(env.cluster.localURL).port);
  let got = "";
  const head = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer: ${JSON.stringify(got)}`)), 10_000);
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      tls: { ca: env.cluster.caPEM, serverName: "localhost" } as any,
      socket: {
        open(s) {
          s.write(
            "POST /api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
              `Authorization: Bearer ${env.cluster.adminToken}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
              "X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\nContent-Length: 0\r\n\r\n",
          );
        },
        data(s, b) {
          got += b.toString("latin1");
          if (got.includes("\r\n\r\n")) {
            clearTimeout(t);
            resolve(got);
            s.end();
          }
        },
      },
    }).catch(reject);
  });
  expect(head.split("\r\n")[0]).toBe("HTTP/1.1 101 Switching Protocols");
  expect(head.toLowerCase()).toContain("x-stream-protocol-version: v4.channel.k8s.io");
}, 60_000);

test("kubectl exec over SPDY: stdout, stderr, stdin and the exit code", async () => {
  if (!(await pods().get("shell").catch(() => undefined))) {
    await pods().create(busyboxPod("shell", "node-s", "exec sleep 3600"));
    await waitPod(env, "shell", (p) => p.status?.phase === "Running", "Running");
  }
  const out = await env.cluster.kubectl(["exec", "shell", "--", "sh", "-c", "echo out; echo err >&2"], { env: SPDY });
  expect(out.stderr).toBe("err\n");
  expect(out.stdout).toBe("out\n");
  expect(out.code).toBe(0);
  const code = await env.cluster.kubectl(["exec", "shell", "--", "sh", "-c", "exit 3"], { env: SPDY });
  expect(code.code).toBe(3);
  expect(code.stderr).toContain("command terminated with exit code 3");
  const stdin = await env.cluster.kubectl(["exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z"], { stdin: "hello over spdy\n", env: SPDY });
  expect(stdin.stdout).toBe("HELLO OVER SPDY\n");
  expect(stdin.code).toBe(0);
}, 60_000);

test("kubectl port-forward over SPDY to a busybox httpd", async () => {
  await ensurePfPod();
  const { proc, port } = await kubectlPortForward(SPDY);
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("forwarded\n");
    }
  } finally {
    proc.kill();
    await proc.exited;
  }
}, 60_000);
