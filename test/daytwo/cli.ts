// Runs the kubun CLI as a user would (a child process), with an empty config file.
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
// Empty and always there (a missing --config file is an error), so no file is left behind in .tmp.
const EMPTY_CONFIG = "/dev/null";

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
