// Pod networks set up in parallel on one node (the kubelet starts several pods at once): every pod gets its own
// namespace and address, the address inside the namespace is the one reported and cached, a restarted agent
// (a new CNINetwork on the same state) finds the same results, and teardown leaves no namespace, mount or lease.
// Runs in a test-made namespace that plays the node (the bridge lives there); nothing routes out.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readlinkSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { CNINetwork } from "../../internal/cni/cni.ts";
import { mountPoints } from "../../internal/runtime/mount.ts";
import { addNetns, delNetns } from "../../internal/runtime/netns.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const id = Math.random().toString(36).slice(2, 6);
const node = `ktcn${id}`;
const prefix = `${node}-`;
const k = 1 + Math.floor(Math.random() * 250);
const cidr = `10.99.${k}.0/24`;
const dir = tempDir("cni-par-");
const opts = { stateDir: join(dir, "cni"), nodeNetns: node, bridge: `kb${id}`, netnsPrefix: prefix, clusterCIDR: "10.99.0.0/16" };
let net: CNINetwork;
const ownNetns = readlinkSync("/proc/thread-self/ns/net");
const uids = Array.from({ length: 12 }, (_, i) => `${id}0000-0000-4000-8000-${String(i).padStart(12, "0")}`);

beforeAll(async () => {
  await run(["ip", "netns", "add", node]);
  await run(["ip", "-n", node, "link", "set", "lo", "up"]);
  net = new CNINetwork(opts);
  await net.configure(cidr);
}, 30_000);

afterAll(async () => {
  for (const u of uids) await net.teardown(u).catch(() => {});
  await run(["ip", "netns", "del", node], { allowFail: true });
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const eth0 = async (nsPath: string) => (await run(["nsenter", `--net=${nsPath}`, "ip", "-4", "-o", "addr", "show", "dev", "eth0"])).stdout;

test("parallel setups: one namespace and one distinct address each, the reported one inside it", async () => {
  const got = await Promise.all(uids.map((uid) => net.setup({ uid, namespace: "default", name: `p-${uid.slice(-2)}`, portMappings: [] })));
  const ips = got.map((g) => g.ips[0]);
  expect(new Set(ips).size).toBe(uids.length);
  for (const ip of ips) expect(ip).toMatch(new RegExp(`^10\\.99\\.${k}\\.\\d+$`));
  const inodes = new Set<number>();
  for (const [i, g] of got.entries()) {
    expect(g.netnsPath).toBe(`/var/run/netns/${prefix}${uids[i]}`);
    expect(await eth0(g.netnsPath)).toContain(` ${ips[i]}/24 `);
    // lo is up in each (what the loopback plugin would do).
    expect((await run(["nsenter", `--net=${g.netnsPath}`, "ip", "-o", "link", "show", "lo"])).stdout).toMatch(/[<,]UP[,>]/);
    inodes.add(statSync(g.netnsPath).ino);
  }
  // Separate namespaces, none of them the node's or this process's.
  inodes.add(statSync(`/var/run/netns/${node}`).ino);
  inodes.add(statSync("/proc/self/ns/net").ino);
  expect(inodes.size).toBe(uids.length + 2);
  // This process is back in its own namespace.
  expect(readlinkSync("/proc/thread-self/ns/net")).toBe(ownNetns);
  // Asked again (a resync), a pod keeps its address; no second lease.
  expect(await net.setup({ uid: uids[0]!, namespace: "default", name: "p-00", portMappings: [] })).toEqual(got[0]!);
}, 60_000);

test("a restarted agent finds every pod's cached network", () => {
  const again = new CNINetwork(opts);
  expect(again.list().sort()).toEqual([...uids].sort());
  for (const uid of uids) expect(again.get(uid)?.ips).toEqual(net.get(uid)!.ips);
}, 30_000);

test("parallel teardowns remove the namespaces, their mounts and the address leases", async () => {
  await Promise.all(uids.map((uid) => net.teardown(uid)));
  const mounts = mountPoints();
  for (const uid of uids) {
    expect(existsSync(`/var/run/netns/${prefix}${uid}`)).toBe(false);
    expect([...mounts].some((m) => m.endsWith(`${prefix}${uid}`))).toBe(false);
    expect(net.get(uid)).toBeUndefined();
  }
  expect(net.list()).toEqual([]);
  const leases = readdirSync(join(opts.stateDir, "networks", "kubun")).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  expect(leases).toEqual([]);
}, 60_000);

test("a namespace made without ip(8) is a real one that a process can enter, and deleting it is idempotent", async () => {
  const name = `${prefix}solo`;
  const path = await addNetns(name);
  try {
    expect(statSync(path).ino).not.toBe(statSync("/proc/self/ns/net").ino);
    expect((await run(["ip", "netns", "list"])).stdout).toContain(name);
    expect((await run(["nsenter", `--net=${path}`, "ip", "-o", "link"])).stdout).toContain("lo:");
    await expect(addNetns(name)).rejects.toThrow(); // exists already, as `ip netns add` refuses
  } finally {
    delNetns(name);
  }
  expect(existsSync(path)).toBe(false);
  delNetns(name);
}, 30_000);
