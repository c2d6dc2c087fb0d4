// server and agent restart themselves once, with the same PID, arguments and bun flags, under kubun's JIT options
// (internal/ops/jitpolicy.ts); an operator's own setting and every other command are left alone.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JIT_OPTIONS } from "../../internal/ops/jitpolicy.ts";
import { startServerProcess } from "../ha/server-process.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const entry = join(import.meta.dir, "../../cmd/kubun.ts");
const [OPTION, VALUE] = Object.entries(JIT_OPTIONS)[0]!;
const dir = tempDir("kubun-jit-");
const emptyConfig = join(dir, "config.yaml");
writeFileSync(emptyConfig, "");
// Preloaded by bun before kubun loads, so it runs once per process start: one line per start, with the option's value.
const starts = join(dir, "starts.log");
const preload = join(dir, "count-starts.ts");
writeFileSync(preload, `require("node:fs").appendFileSync(${JSON.stringify(starts)}, process.pid + " " + process.env[${JSON.stringify(OPTION)}] + "\\n");\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs kubun with the counting preload; the process starts it went through: [pid, value of OPTION][]. */
async function startsOf(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; starts: string[][]; pid: number }> {
  rmSync(starts, { force: true });
  const base: Record<string, string | undefined> = { ...process.env, KUBUN_CONFIG_FILE: emptyConfig };
  for (const k of Object.keys(JIT_OPTIONS)) delete base[k];
  const p = Bun.spawn(["bun", "--preload", preload, entry, ...args], { stdout: "pipe", stderr: "pipe", env: { ...base, ...env } as Record<string, string> });
  const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { code, stdout, pid: p.pid, starts: readFileSync(starts, "utf8").trim().split("\n").map((l) => l.split(" ")) };
}

describe("JIT options of the long-running commands", () => {
  test("the options are ones Bun accepts (a misspelt BUN_JSC_ variable stops bun at start)", async () => {
    const p = Bun.spawn(["bun", "-e", "console.log('ok')"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...JIT_OPTIONS } });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ out, err, code }).toEqual({ out: "ok\n", err: "", code: 0 });
  });

  for (const cmd of ["server", "agent"]) {
    test(`kubun ${cmd} restarts once, in the same process, with its JIT options`, async () => {
      const r = await startsOf([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`kubun ${cmd}`);
      expect(r.starts).toEqual([
        [String(r.pid), "undefined"],
        [String(r.pid), VALUE],
      ]);
    });
  }

  test("an operator's own value is kept: no restart", async () => {
    const r = await startsOf(["server", "--help"], { [OPTION]: "200000" });
    expect(r.code).toBe(0);
    expect(r.starts).toEqual([[String(r.pid), "200000"]]);
  });

  test("short commands start as they are", async () => {
    const r = await startsOf(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("kubun version");
    expect(r.starts).toEqual([[String(r.pid), "undefined"]]);
  });

  test("a real server keeps its PID and bun's flags across the restart, and serves", async () => {
    const s = await startServerProcess({ bunArgs: ["--smol"] });
    try {
      expect((await s.api("/readyz")).status).toBe(200);
      const environ = readFileSync(`/proc/${s.pid}/environ`, "utf8").split("\0");
      expect(environ).toContain(`${OPTION}=${VALUE}`);
      const cmdline = readFileSync(`/proc/${s.pid}/cmdline`, "utf8").split("\0");
      expect(cmdline.slice(1, 4)).toEqual(["--smol", entry, "server"]);
    } finally {
      await s.cleanup();
    }
  });
});
