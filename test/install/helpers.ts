// Shared by the install tests: network namespaces joined by a veth pair (no route out), commands run inside
// them, and what a node leaves behind (processes, mounts, network namespaces, nftables tables).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { run } from "../../internal/runtime/run.ts";

export interface NetnsPair {
  a: string;
  b: string;
  ipA: string;
  ipB: string;
  cleanup(): Promise<void>;
}

/** Two namespaces with one veth between them: a = 172.31.<k>.1, b = 172.31.<k>.2. */
export async function netnsPair(tag: string): Promise<NetnsPair> {
  const id = Math.random().toString(36).slice(2, 6);
  const a = `${tag}${id}a`;
  const b = `${tag}${id}b`;
  const k = 1 + Math.floor(Math.random() * 250);
  const ipA = `172.31.${k}.1`;
  const ipB = `172.31.${k}.2`;
  for (const n of [a, b]) {
    await run(["ip", "netns", "add", n]);
    await run(["ip", "-n", n, "link", "set", "lo", "up"]);
  }
  await run(["ip", "link", "add", `${a}x`, "netns", a, "type", "veth", "peer", "name", `${b}x`, "netns", b]);
  await run(["ip", "-n", a, "addr", "add", `${ipA}/24`, "dev", `${a}x`]);
  await run(["ip", "-n", b, "addr", "add", `${ipB}/24`, "dev", `${b}x`]);
  await run(["ip", "-n", a, "link", "set", `${a}x`, "up"]);
  await run(["ip", "-n", b, "link", "set", `${b}x`, "up"]);
  return {
    a,
    b,
    ipA,
    ipB,
    async cleanup() {
      for (const n of [a, b]) await run(["ip", "netns", "del", n], { allowFail: true });
    },
  };
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** argv run inside the named network namespace (nsenter, as the project's tests do). */
export async function inNs(ns: string, argv: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<Result> {
  const p = Bun.spawn(["nsenter", `--net=/var/run/netns/${ns}`, "--", ...argv], { env: { PATH: process.env.PATH!, ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => p.kill(9), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Processes whose command line mentions dir (kubun, its containerd, shims and their containers run from there). */
export function processesUnder(dir: string): { pid: number; cmdline: string }[] {
  // Callers kill what this returns: an empty or shallow path would name every process on the machine.
  if (!dir.includes("/.tmp/") || dir.length < 20) throw new Error(`processesUnder: refusing ${JSON.stringify(dir)} (not a test dir under .tmp/)`);
  const out: { pid: number; cmdline: string }[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, "utf8").replaceAll("\0", " ");
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") continue;
      if (cmdline.includes(dir)) out.push({ pid: Number(d), cmdline });
    } catch {}
  }
  return out;
}

export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m === dir || m.startsWith(dir + "/"));
}

/** Network namespaces named after pods in the data dir's CNI results or pod records. */
export function podNetns(dataDir: string): string[] {
  const uids = new Set<string>();
  for (const d of [`${dataDir}/agent/cni/results`, `${dataDir}/agent/pods`])
    if (existsSync(d)) for (const f of readdirSync(d)) uids.add(f.replace(/\.json$/, ""));
  return [...uids].map((u) => `kubun-${u}`).filter((n) => existsSync(`/var/run/netns/${n}`));
}

export async function nftTables(ns: string): Promise<string> {
  return (await inNs(ns, ["nft", "list", "tables"])).stdout;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await Bun.sleep(500);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}
