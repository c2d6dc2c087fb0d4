// kubun's long-running processes run without JavaScriptCore's top JIT tier, FTL. On small machines its compiles
// cost more CPU than the faster code they produce gives back: with it off, bench:api's server spent ~0.42 instead
// of ~0.58 ms of CPU per pod create (2 cores, medians of back-to-back runs) and held ~40 MiB less afterwards; the
// lower tiers (baseline, DFG) stay on. JSC reads its options only when a process starts, so a process that wants
// them replaces itself once (execve: the same PID, for systemd and `kubun killall`). Options the environment
// already sets (an operator's, or the installed service's) are left as they are.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { selfCommand } from "./self.ts";

/** The JSC options kubun's server and agent run with (environment variables, read by Bun at start). */
export const JIT_OPTIONS: Readonly<Record<string, string>> = { BUN_JSC_useFTLJIT: "false" };

/** execve(2) through libc (Bun has no exec): returns only when it failed. */
function execve(argv: string[], env: Record<string, string | undefined>): void {
  const libc = dlopen("libc.so.6", { execve: { args: [FFIType.cstring, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
  const keep: Buffer[] = []; // the strings the pointer tables point at, alive until execve returns
  const table = (items: string[]) => {
    const t = new BigUint64Array(items.length + 1); // a NULL-terminated char*[]
    items.forEach((s, i) => {
      const b = Buffer.from(`${s}\0`);
      keep.push(b);
      t[i] = BigInt(ptr(b));
    });
    return t;
  };
  const envp = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  libc.symbols.execve(Buffer.from(`${argv[0]}\0`), table(argv), table(envp));
  libc.close();
}

/**
 * Restarts this process (same PID, same arguments and bun flags) with JIT_OPTIONS when the environment lacks any
 * of them; returns when nothing was missing, or when execve failed (then it runs on with JSC's defaults).
 */
export function applyJITPolicy(): void {
  if (process.platform !== "linux") return;
  const missing = Object.entries(JIT_OPTIONS).filter(([k]) => process.env[k] === undefined);
  if (missing.length === 0) return;
  execve([...selfCommand({ bunFlags: true }), ...process.argv.slice(2)], { ...process.env, ...Object.fromEntries(missing) });
  process.stderr.write(`kubun: could not restart with ${missing.map(([k, v]) => `${k}=${v}`).join(" ")}; running with JavaScriptCore's defaults\n`);
}
