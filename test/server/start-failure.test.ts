// `kubun server` starts its node's containerd alongside the control plane; a control plane that cannot start
// (its port taken) must not leave that containerd behind.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/tmpdir.ts";

const repo = join(import.meta.dir, "../..");

function processesMentioning(s: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.includes(s)) out.push(`${name} ${cmd}`);
    } catch {}
  }
  return out;
}

test("a server whose API port is taken exits with the reason and leaves no containerd running", async () => {
  const dir = tempDir("kubun-startfail-");
  const dataDir = join(dir, "data");
  writeFileSync(join(dir, "none.yaml"), "");
  const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const p = Bun.spawn(
      ["bun", join(repo, "cmd/kubun.ts"), "server", "--data-dir", dataDir, "--https-listen-port", String(taken.port), "--bind-address", "127.0.0.1", "--write-kubeconfig", join(dir, "kc.yaml")],
      { stdout: "ignore", stderr: "pipe", env: { ...process.env, KUBUN_CONFIG_FILE: join(dir, "none.yaml") } },
    );
    const stderr = await new Response(p.stderr).text();
    expect(await p.exited).toBe(1);
    // A host where the agent's checks fail (e.g. the kubelet port held by another test) never gets as far.
    if (!stderr.includes("cannot serve the API")) {
      console.warn(`skipped: the server stopped before its API: ${stderr.trim().split("\n").pop()}`);
      return;
    }
    expect(processesMentioning(dataDir)).toEqual([]);
  } finally {
    taken.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
