// Releasing start-up pages (internal/runtime/pageout.ts): only present file-backed pages of the process's own
// executable are named — never an anonymous (written) page, which would go to swap — and a process whose pages were
// paged out goes on working, reading them back from its binary; containerd keeps answering afterwards.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startContainerd, startedContainerdPids } from "../../internal/runtime/containerd.ts";
import { executableMappings, pageOutExecutable, pagemapEntries, residentFileRuns, residentMemory } from "../../internal/runtime/pageout.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const dir = tempDir("rt-pageout-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shell from a private copy of busybox (no other process maps its pages), waiting for a number on stdin. */
async function privateShell() {
  const exe = join(dir, `busybox-${Math.random().toString(36).slice(2, 8)}`);
  copyFileSync("/usr/bin/busybox", exe);
  chmodSync(exe, 0o755);
  const proc = Bun.spawn([exe, "sh", "-c", "echo ready; read x; echo $((x * 2))"], { stdin: "pipe", stdout: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  const readLine = async () => {
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    const line = out.slice(0, out.indexOf("\n"));
    out = out.slice(out.indexOf("\n") + 1);
    return line;
  };
  expect(await readLine()).toBe("ready");
  return { exe, proc, readLine };
}

test("names only present file-backed pages inside the executable's own mappings, never a written (anonymous) one", async () => {
  const { exe, proc } = await privateShell();
  try {
    const pageSize = 4096; // x86_64 and the test machine; the code itself asks libc
    const mappings = executableMappings(proc.pid);
    expect(mappings.length).toBeGreaterThan(0);
    expect(readLinkTargets(proc.pid, mappings).every((p) => p === exe)).toBe(true);
    const runs = residentFileRuns(proc.pid, mappings, pageSize);
    expect(runs.length).toBeGreaterThan(0);
    // Every named page lies inside a mapping of the executable and is a present file page.
    const anonPages = new Set<number>();
    // The bits read here directly (63 present, 61 file page), not through the code under test.
    pagemapEntries(proc.pid, mappings, pageSize).forEach((entries, m) => {
      entries.forEach((e, i) => {
        if (e >> 63n && !((e >> 61n) & 1n)) anonPages.add(mappings[m]![0] + i * pageSize);
      });
    });
    // busybox's .data/.bss are written at start: copy-on-write made them anonymous pages of the executable's mapping.
    expect(anonPages.size).toBeGreaterThan(0);
    for (const [addr, len] of runs) {
      expect(mappings.some(([s, e]) => addr >= s && addr + len <= e)).toBe(true);
      for (let a = addr; a < addr + len; a += pageSize) expect(anonPages.has(a)).toBe(false);
    }
  } finally {
    proc.kill();
    await proc.exited;
  }
});

/** The file each mapping range belongs to, from /proc/<pid>/map_files. */
function readLinkTargets(pid: number, mappings: Array<[number, number]>): string[] {
  const { readlinkSync } = require("node:fs");
  return mappings.map(([s, e]) => readlinkSync(`/proc/${pid}/map_files/${s.toString(16)}-${e.toString(16)}`));
}

test("a paged-out process keeps working and its file-backed pages were released", async () => {
  const { proc, readLine } = await privateShell();
  try {
    const { before, after } = pageOutExecutable(proc.pid);
    expect(before.file).toBeGreaterThan(0);
    expect(after.file).toBeLessThan(before.file);
    proc.stdin.write("21\n");
    await proc.stdin.flush();
    expect(await readLine()).toBe("42");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill();
  }
});

test("this process pages out its own executable and goes on", async () => {
  const r = pageOutExecutable("self");
  expect(r.after.rss).toBeGreaterThan(0);
  // Code read back from the binary on demand: a fresh import and JSON work still run.
  const { parse } = await import("yaml");
  expect(parse("a: [1, 2]")).toEqual({ a: [1, 2] });
  expect(residentMemory("self").rss).toBeGreaterThan(0);
});

test("containerd started by this process is tracked, answers after its start-up pages are released, and is forgotten once stopped", async () => {
  const containerd = await startContainerd({ dir: join(dir, "containerd") });
  try {
    expect(containerd.pid).toBeDefined();
    expect(startedContainerdPids()).toContain(containerd.pid!);
    // (How much is released depends on the other containerd processes on the machine: shared pages stay.)
    pageOutExecutable(containerd.pid!);
    const v = await run(["ctr", "--address", containerd.address, "version"]);
    expect(v.stdout).toContain("Server:");
  } finally {
    await containerd.stop();
  }
  await Bun.sleep(0);
  expect(startedContainerdPids()).not.toContain(containerd.pid!);
}, 60_000);
