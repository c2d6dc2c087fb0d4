// Two nodes in one test-made LAN: each gets a podCIDR; host-gw routes let their pods reach each other.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { refs } from "../../internal/client/refs.ts";
import { run } from "../../internal/runtime/run.ts";
import { busyboxPod, startEnv, waitPod, waitFor, type Env } from "./setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-1", "node-2"]);
}, 150_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const pods = () => env.client.resource(refs.pods, "default");

test("pods on two nodes ping each other across the nodes (host-gw routes)", async () => {
  await pods().create(busyboxPod("pa", "node-1", "exec sleep 3600"));
  await pods().create(busyboxPod("pb", "node-2", "exec sleep 3600"));
  const a = await waitPod(env, "pa", (p) => p.status?.phase === "Running" && !!p.status.podIP, "Running");
  const b = await waitPod(env, "pb", (p) => p.status?.phase === "Running" && !!p.status.podIP, "Running");
  const n1: any = await env.client.resource(refs.nodes).get("node-1");
  const n2: any = await env.client.resource(refs.nodes).get("node-2");
  expect(n1.spec.podCIDR).not.toBe(n2.spec.podCIDR);
  // Routes appear once each agent sees the other's podCIDR.
  await waitFor("route to node-2's pods on node-1", async () => {
    const r = await run(["ip", "-n", env.nodes[0]!.netns, "route"]);
    return r.stdout.includes(`${n2.spec.podCIDR} via ${env.nodes[1]!.ip}`);
  });
  const ping = await env.cluster.kubectl(["exec", "pa", "--", "ping", "-c", "2", "-W", "2", b.status!.podIP!]);
  expect(ping.code).toBe(0);
  expect(ping.stdout).toContain("2 packets received");
  const back = await env.cluster.kubectl(["exec", "pb", "--", "ping", "-c", "1", "-W", "2", a.status!.podIP!]);
  expect(back.code).toBe(0);
  // Pods see their own IP and the kubelet-written hosts file.
  const hosts = await env.cluster.kubectl(["exec", "pa", "--", "cat", "/etc/hosts"]);
  expect(hosts.stdout).toContain(`${a.status!.podIP}\tpa`);
}, 90_000);

test("hostPort maps a node port to the pod (portmap)", async () => {
  await pods().create(
    busyboxPod("hp", "node-2", "mkdir -p /www && echo via-hostport > /www/index.html && exec httpd -f -p 80 -h /www", {}, { ports: [{ containerPort: 80, hostPort: 18080 }] }),
  );
  await waitPod(env, "hp", (p) => p.status?.phase === "Running", "Running");
  // From node-1's namespace to node-2's address: only our test-made LAN is involved.
  const r = await waitFor("hostPort answers", async () => {
    const x = await run(["ip", "netns", "exec", env.nodes[0]!.netns, "busybox", "nc", "-w", "2", env.nodes[1]!.ip, "18080"], {
      allowFail: true,
      stdin: "GET / HTTP/1.0\r\n\r\n",
    });
    return x.stdout.includes("200 OK") ? x.stdout : undefined;
  });
  expect(r.endsWith("\r\n\r\nvia-hostport\n")).toBe(true);
}, 60_000);

test("a container's first instruction already has its network: eth0 with the pod's address, /etc/hosts naming it", async () => {
  // The container is created while the CNI plugins run (and started once they are done): what its process
  // sees first must be the finished network, for every pod of a burst. The IPAM plugin's lock is held for a
  // while, so the containers are ready long before their network is.
  const lock = join(env.nodes[0]!.dataDir, "agent", "cni", "networks", "kubun", "lock");
  expect(existsSync(lock)).toBe(true); // made by the first test's pod on node-1
  const holder = Bun.spawn(["flock", lock, "sleep", "2"], { stdout: "ignore", stderr: "ignore" });
  await waitFor("IPAM lock held", async () => (await run(["flock", "-n", lock, "true"], { allowFail: true })).code !== 0, 5000, 20);
  const names = ["first-0", "first-1", "first-2", "first-3"];
  const script = "ip -4 -o addr show dev eth0 > /dev/termination-log 2>&1; cat /etc/hosts >> /dev/termination-log";
  await Promise.all(names.map((n) => pods().create(busyboxPod(n, "node-1", script, { restartPolicy: "Never" }))));
  await holder.exited;
  for (const n of names) {
    const p = await waitPod(env, n, (x) => x.status?.phase === "Succeeded" || x.status?.phase === "Failed", "finished");
    expect(p.status!.phase).toBe("Succeeded");
    const ip = p.status!.podIP!;
    expect(ip).toBeTruthy();
    const msg = p.status!.containerStatuses![0]!.state!.terminated!.message ?? "";
    expect(msg).toContain(`inet ${ip}/24`);
    expect(msg).toContain(`${ip}\t${n}`);
  }
}, 90_000);
