// Probes against real containers: exec, httpGet (busybox httpd) and tcpSocket (busybox nc), readiness driving
// the Ready condition, a failing liveness probe restarting the container, startup gating the others.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { refs } from "../../internal/client/refs.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "./setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-p"]);
}, 120_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const pods = () => env.client.resource(refs.pods, "default");
const ready = (p: any) => p.status?.conditions?.find((c: any) => c.type === "Ready")?.status === "True";

test("exec readiness probe drives the Ready condition", async () => {
  await pods().create(
    busyboxPod("exec-ready", "node-p", "sleep 2; touch /tmp/ready; exec sleep 3600", {}, {
      readinessProbe: { exec: { command: ["cat", "/tmp/ready"] }, periodSeconds: 1, failureThreshold: 1 },
    }),
  );
  const running = await waitPod(env, "exec-ready", (p) => p.status?.phase === "Running", "Running");
  expect(running.status!.containerStatuses![0]!.ready).toBe(false);
  const p = await waitPod(env, "exec-ready", ready, "Ready");
  expect(p.status!.containerStatuses![0]!.ready).toBe(true);
  expect(p.status!.conditions!.find((c) => c.type === "ContainersReady")!.status).toBe("True");
}, 60_000);

test("httpGet readiness probe against busybox httpd; a 404 path never gets ready", async () => {
  const script = "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www";
  await pods().create(
    busyboxPod("http-ok", "node-p", script, {}, {
      ports: [{ name: "http", containerPort: 8080 }],
      readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 1 },
    }),
  );
  await pods().create(
    busyboxPod("http-404", "node-p", script, {}, { readinessProbe: { httpGet: { path: "/missing", port: 8080 }, periodSeconds: 1, failureThreshold: 1 } }),
  );
  await waitPod(env, "http-ok", ready, "Ready");
  await waitPod(env, "http-404", (p) => p.status?.phase === "Running", "Running");
  await Bun.sleep(3000);
  const p = await pods().get("http-404");
  expect(ready(p)).toBe(false);
  const events: any = await env.client.resource(refs.events, "default").list();
  const msgs = events.items.filter((e: any) => e.involvedObject.name === "http-404" && e.reason === "Unhealthy").map((e: any) => e.message);
  expect(msgs.some((m: string) => m.includes("Readiness probe failed") && m.includes("404"))).toBe(true);
}, 60_000);

test("tcpSocket liveness probe: a closed port restarts the container", async () => {
  // Listens for 4 s then stops listening: liveness fails and the kubelet restarts it.
  await pods().create(
    busyboxPod("tcp-live", "node-p", "timeout 4 nc -lk -p 9000 -e true; exec sleep 3600", {}, {
      livenessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1, failureThreshold: 2 },
    }),
  );
  const p = await waitPod(env, "tcp-live", (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, "restarted by liveness", 45_000);
  expect(p.status!.containerStatuses![0]!.lastState!.terminated).toBeTruthy();
  // Events are written asynchronously.
  const mine = await waitFor("Killing event", async () => {
    const events: any = await env.client.resource(refs.events, "default").list();
    const m = events.items.filter((e: any) => e.involvedObject.name === "tcp-live");
    return m.some((e: any) => e.reason === "Killing") ? m : undefined;
  });
  expect(mine.some((e: any) => e.reason === "Unhealthy" && e.message.startsWith("Liveness probe failed"))).toBe(true);
  expect(mine.find((e: any) => e.reason === "Killing").message).toContain("failed liveness probe");
}, 60_000);

test("startup probe gates readiness until it succeeds", async () => {
  await pods().create(
    busyboxPod("slow-start", "node-p", "sleep 3; touch /tmp/started; exec sleep 3600", {}, {
      startupProbe: { exec: { command: ["test", "-f", "/tmp/started"] }, periodSeconds: 1, failureThreshold: 30 },
    }),
  );
  const r = await waitPod(env, "slow-start", (p) => p.status?.phase === "Running", "Running");
  expect(r.status!.containerStatuses![0]!.started).toBe(false);
  const p = await waitPod(env, "slow-start", (p) => !!p.status?.containerStatuses?.[0]?.started && ready(p), "started and Ready");
  expect(p.status!.containerStatuses![0]!.restartCount).toBe(0);
}, 60_000);
