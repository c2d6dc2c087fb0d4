// A test-made network world for the service proxy, entirely inside namespaces it creates (nothing in the host's):
//   node   — br0 10.42.<k>.1/24 (its pod network), eth0 192.168.<k>.1/24 (the node IP, default route via ext), ip_forward on
//   pod1/2 — eth0 10.42.<k>.2/.3 on the node's bridge, each serving its own name on :8080 and the client's address
//            on /cgi-bin/ip (busybox httpd; clients use busybox wget)
//   ext    — eth0 192.168.<k>.2/24, an outside client with no route to the pod network (so NodePort replies only
//            come back if the node masqueraded them)
// cleanup() kills the responders and deletes every namespace (and with them their links and nft tables).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../internal/runtime/run.ts";

export interface Pod {
  name: string;
  netns: string;
  ip: string;
}

export interface ProxyWorld {
  prefix: string;
  nodeNetns: string;
  extNetns: string;
  nodeIP: string;
  extIP: string;
  podCIDR: string;
  /** The node's address on the pod bridge: what masqueraded traffic comes from. */
  podGateway: string;
  pods: Pod[];
  /** HTTP GET from inside a namespace with busybox wget; never throws. refused: the connection was refused (not a hang). */
  get(netns: string, url: string, timeoutSec?: number): Promise<{ ok: boolean; body: string; error: string; refused: boolean }>;
  nft(netns: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  cleanup(): Promise<void>;
}

const BUSYBOX = "/bin/busybox";

export async function createProxyWorld(podCount = 2): Promise<ProxyWorld> {
  const prefix = `kp${Math.random().toString(36).slice(2, 6)}`;
  const k = 1 + Math.floor(Math.random() * 250);
  const dir = mkdtempSync(join(tmpdir(), `kubun-proxy-${prefix}-`));
  const nodeNetns = `${prefix}-node`;
  const extNetns = `${prefix}-ext`;
  const procs: ReturnType<typeof Bun.spawn>[] = [];
  const pods: Pod[] = [];
  const inNs = (ns: string, argv: string[]) => run(["ip", "netns", "exec", ns, ...argv]);

  const world: ProxyWorld = {
    prefix,
    nodeNetns,
    extNetns,
    nodeIP: `192.168.${k}.1`,
    extIP: `192.168.${k}.2`,
    podCIDR: `10.42.${k}.0/24`,
    podGateway: `10.42.${k}.1`,
    pods,
    async get(netns, url, timeoutSec = 3) {
      // busybox wget's own -T crashes in Debian's busybox-static 1.35, so a hang is cut by killing it. An empty
      // environment keeps any http_proxy setting from sending the request elsewhere.
      const argv = ["ip", "netns", "exec", netns, BUSYBOX, "wget", "-q", "-O", "-", url];
      const r = await run(argv, { allowFail: true, timeoutMs: timeoutSec * 1000, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
      const error = r.stderr.trim() || (r.code === 0 ? "" : "timed out");
      return { ok: r.code === 0, body: r.stdout.trim(), error, refused: /refused/i.test(error) };
    },
    nft(netns, args) {
      return run(["ip", "netns", "exec", netns, "nft", ...args], { allowFail: true });
    },
    async cleanup() {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      for (const ns of readdirSync("/var/run/netns")) if (ns.startsWith(`${prefix}-`)) await run(["ip", "netns", "del", ns], { allowFail: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const ns of [nodeNetns, extNetns]) {
      await run(["ip", "netns", "add", ns]);
      await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    await inNs(nodeNetns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    await run(["ip", "-n", nodeNetns, "link", "add", "br0", "type", "bridge"]);
    await run(["ip", "-n", nodeNetns, "addr", "add", `10.42.${k}.1/24`, "dev", "br0"]);
    await run(["ip", "-n", nodeNetns, "link", "set", "br0", "up"]);
    // node eth0 <-> ext eth0
    await run(["ip", "-n", nodeNetns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", extNetns]);
    await run(["ip", "-n", nodeNetns, "addr", "add", `${world.nodeIP}/24`, "dev", "eth0"]);
    await run(["ip", "-n", nodeNetns, "link", "set", "eth0", "up"]);
    await run(["ip", "-n", extNetns, "addr", "add", `${world.extIP}/24`, "dev", "eth0"]);
    await run(["ip", "-n", extNetns, "link", "set", "eth0", "up"]);
    // A node has a default gateway (here the ext namespace, a dead end): ClusterIPs need a route before dstnat.
    await run(["ip", "-n", nodeNetns, "route", "add", "default", "via", world.extIP]);

    for (let i = 1; i <= podCount; i++) {
      const pod: Pod = { name: `pod${i}`, netns: `${prefix}-pod${i}`, ip: `10.42.${k}.${i + 1}` };
      await run(["ip", "netns", "add", pod.netns]);
      await run(["ip", "-n", pod.netns, "link", "set", "lo", "up"]);
      await run(["ip", "-n", nodeNetns, "link", "add", `veth${i}`, "type", "veth", "peer", "name", "eth0", "netns", pod.netns]);
      await run(["ip", "-n", nodeNetns, "link", "set", `veth${i}`, "master", "br0", "up"]);
      // As kubun's CNI bridge (hairpinMode): a pod reaching itself through a service gets its frames back.
      await run(["ip", "-n", nodeNetns, "link", "set", `veth${i}`, "type", "bridge_slave", "hairpin", "on"]);
      await run(["ip", "-n", pod.netns, "addr", "add", `${pod.ip}/24`, "dev", "eth0"]);
      await run(["ip", "-n", pod.netns, "link", "set", "eth0", "up"]);
      await run(["ip", "-n", pod.netns, "route", "add", "default", "via", `10.42.${k}.1`]);
      const www = join(dir, pod.name);
      mkdirSync(www);
      writeFileSync(join(www, "index.html"), `${pod.name}\n`);
      // /cgi-bin/ip answers "<pod> <client address it sees>" (masqueraded or not).
      mkdirSync(join(www, "cgi-bin"));
      writeFileSync(join(www, "cgi-bin", "ip"), `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s %s\\n' ${pod.name} "$REMOTE_ADDR"\n`, { mode: 0o755 });
      procs.push(Bun.spawn(["ip", "netns", "exec", pod.netns, BUSYBOX, "httpd", "-f", "-p", "8080", "-h", www], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }));
      pods.push(pod);
    }
    // The responders answer before any test relies on them.
    for (const p of pods) {
      const deadline = Date.now() + 10_000;
      while ((await world.get(nodeNetns, `http://${p.ip}:8080/`, 1)).body !== p.name) {
        if (Date.now() > deadline) throw new Error(`responder in ${p.netns} did not come up`);
        await Bun.sleep(100);
      }
    }
  } catch (e) {
    await world.cleanup();
    throw e;
  }
  return world;
}
