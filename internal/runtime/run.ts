// Runs a host command and collects its output; the one place the agent spawns short-lived tools (ctr, ip, mount, CNI).

import { openSync, writeSync } from "node:fs";
import { inNetns } from "./netns.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    public argv: string[],
    public result: RunResult,
  ) {
    super(`${argv.slice(0, 4).join(" ")}${argv.length > 4 ? " …" : ""}: exit ${result.code}: ${(result.stderr || result.stdout).trim().split("\n").pop()}`);
  }
}

export interface RunOptions {
  stdin?: string | Uint8Array;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Do not throw on a non-zero exit. */
  allowFail?: boolean;
  /** Path of a network namespace to run the command in: spawned from inside it (setns around the spawn), no nsenter. */
  netns?: string;
}

/** KUBUN_TRACE_RUN=<file>: one line per command (end time, wall time, argv (a batched ctr names up to 100 ids), then its CPU time) appended to that file, to count the processes a pod start costs. */
const trace = process.env.KUBUN_TRACE_RUN;
/** Opened once (append): an open/close per line cost the traced agent ~0.5 ms of CPU per pod start. */
let traceFd: number | undefined;
function traceLine(line: string): void {
  traceFd ??= openSync(trace!, "a");
  writeSync(traceFd, line);
}

/** A step that is not a command (an API call, a gRPC call, a phase of a pod start), logged like one under KUBUN_TRACE_RUN ("= <what>"). */
export async function traced<T>(what: string, fn: () => Promise<T>): Promise<T> {
  if (!trace) return fn();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    traceLine(`${Date.now()} ${(performance.now() - t0).toFixed(1)}ms = ${what}\n`);
  }
}

export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (trace) {
    const t0 = performance.now();
    const usage = { cpuMs: 0 };
    try {
      return await runCommand(argv, opts, usage);
    } finally {
      traceLine(`${Date.now()} ${(performance.now() - t0).toFixed(1)}ms ${argv.join(" ").slice(0, 4000)} cpu=${usage.cpuMs.toFixed(1)}ms\n`);
    }
  }
  return runCommand(argv, opts);
}

async function runCommand(argv: string[], opts: RunOptions, usage?: { cpuMs: number }): Promise<RunResult> {
  let proc: ReturnType<typeof spawn>;
  try {
    proc = spawn(argv, opts);
  } catch (err) {
    // A missing tool is a failed command (exit 127, as a shell reports it), so allowFail covers it too.
    const result = { code: 127, stdout: "", stderr: (err as Error).message };
    if (!opts.allowFail) throw new CommandError(argv, result);
    return result;
  }
  const timer = opts.timeoutMs ? setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs) : undefined;
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (timer) clearTimeout(timer);
  if (usage) {
    // The command and the processes it waited for (a CNI plugin's IPAM plugin).
    const u = proc.resourceUsage();
    if (u) usage.cpuMs = Number(u.cpuTime.user + u.cpuTime.system) / 1000;
  }
  const result = { code, stdout, stderr };
  if (code !== 0 && !opts.allowFail) throw new CommandError(argv, result);
  return result;
}

function spawn(argv: string[], opts: RunOptions) {
  // The child inherits the network namespace of the thread that spawns it (synchronously, here).
  return opts.netns ? inNetns(opts.netns, () => spawnHere(argv, opts)) : spawnHere(argv, opts);
}

function spawnHere(argv: string[], opts: RunOptions) {
  return Bun.spawn(argv, {
    stdin: opts.stdin !== undefined ? (typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: opts.env ? (Object.fromEntries(Object.entries(opts.env).filter(([, v]) => v !== undefined)) as Record<string, string>) : undefined,
  });
}
