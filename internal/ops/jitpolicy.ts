// kubun's long-running processes raise the bar for JavaScriptCore's top JIT tier, FTL, tenfold: only code that is
// really hot (the scheduler's per-node loops) is compiled by it, not every request handler a few thousand writes have
// run. On small machines those compiles cost more CPU than their code gives back: JSC's report showed ~2.3 s of FTL
// compiling during 14,000 pod creates of a fresh server, and with the higher bar the server spent ~0.50 instead of
// ~0.61 ms of CPU per pod create (2 cores, medians of back-to-back runs). Turning FTL off altogether saved as much
// there but made scheduling on 1,000 nodes ~25 % slower. JSC reads its options only when a process starts, so a
// process that wants them replaces itself once (execve: the same PID, for systemd and `kubun killall`). Options the
// environment already sets (an operator's, or the installed service's) are left as they are.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { selfCommand } from "./self.ts";

/** The JSC options kubun's server and agent run with (environment variables, read by Bun at start). */
export const JIT_OPTIONS: Readonly<Record<string, string>> = { BUN_JSC_thresholdForFTLOptimizeAfterWarmUp: "1000000" }; // JSC: 100000

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
