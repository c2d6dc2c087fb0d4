// Hollow nodes in their own process, as kubemark runs them (and `kubun agent --simulate`): the fake kubelets'
// watch decoding and status writes use another core instead of the control plane's JS thread.
import type { ClientConfig } from "../client/types.ts";
import type { HollowOptions } from "./index.ts";

/** The options that can cross a process boundary (no callbacks). */
export type HollowProcessOptions = Omit<HollowOptions, "signal" | "labels" | "taints" | "credentialsFor" | "log">;

export interface HollowProcess {
  /** The child's process id. */
  pid: number;
  /** Resolves when every node is registered with its Lease; rejects if the child exits first. */
  ready: Promise<void>;
  /** Resolves with the child's exit code. */
  exited: Promise<number>;
  /** Stops the nodes (SIGTERM) and waits for the child to exit. */
  stop(): Promise<number>;
}

export function spawnHollowNodes(cfg: ClientConfig, opts: HollowProcessOptions, logLevel?: string): HollowProcess {
  const { tokenSource: _t, servers: _s, ...config } = cfg;
  if (cfg.tokenSource) config.token = cfg.tokenSource();
  const child = Bun.spawn([process.execPath, new URL("./child.ts", import.meta.url).pathname], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  child.stdin.write(JSON.stringify({ config, options: opts, logLevel }) + "\n");
  child.stdin.flush();
  const exited = child.exited;
  const ready = (async () => {
    const reader = child.stdout.getReader();
    const dec = new TextDecoder();
    let out = "";
    while (!out.includes("ready\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`hollow node process exited (code ${await exited}) before its nodes were ready`);
      out += dec.decode(value, { stream: true });
    }
    reader.releaseLock();
  })();
  ready.catch(() => {});
  return {
    pid: child.pid,
    ready,
    exited,
    async stop() {
      child.kill("SIGTERM");
      try {
        child.stdin.end();
      } catch {}
      return exited;
    },
  };
}
