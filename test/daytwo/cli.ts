// Runs the kubun CLI as a user would (a child process), with a private empty config file.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_TMP } from "../helpers/tmpdir.ts";

const ROOT = join(import.meta.dir, "..", "..");
const EMPTY_CONFIG = join(REPO_TMP, "kubun-daytwo-empty-config.yaml");
writeFileSync(EMPTY_CONFIG, "");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function kubun(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, join(ROOT, "cmd", "kubun.ts"), ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, KUBUN_CONFIG_FILE: EMPTY_CONFIG, ...env },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
