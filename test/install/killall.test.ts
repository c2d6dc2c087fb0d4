// kubun killall beyond install.sh: it also stops a server started by hand (found through the pid file every server
// keeps in <data-dir>/server/), and a stale pid file whose number now belongs to another process stops nothing.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { inNs, waitFor } from "./helpers.ts";
import { ensureRelease } from "./release.ts";

setDefaultTimeout(120_000);
const work = tempDir("kk-");
const ns = `kk${Math.random().toString(36).slice(2, 7)}`;
const procs: ReturnType<typeof Bun.spawn>[] = [];

afterAll(async () => {
  for (const p of procs) p.kill(9);
  await run(["ip", "netns", "del", ns], { allowFail: true });
  rmSync(work, { recursive: true, force: true });
});

test("killall stops a hand-started server, and not the process a stale pid file names", async () => {
  const release = await ensureRelease();
  await run(["ip", "netns", "add", ns]);
  await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
  const data = join(work, "data");
  const kubeconfig = join(work, "kubeconfig.yaml");
  writeFileSync(join(work, "none.yaml"), "");
  const server = Bun.spawn(
    ["nsenter", `--net=/var/run/netns/${ns}`, "--", join(release, "kubun-linux-amd64"), "server", "--disable-agent", "--bind-address", "127.0.0.1", "--data-dir", data, "--write-kubeconfig", kubeconfig, "--config", join(work, "none.yaml")],
    { stdout: "ignore", stderr: "ignore" },
  );
  procs.push(server);
  await waitFor("the server", async () => existsSync(kubeconfig) && (await inNs(ns, ["kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/readyz"])).stdout === "ok");
  // install.sh's pid file, left behind: its number now belongs to an unrelated process.
  const bystander = Bun.spawn(["sleep", "300"]);
  procs.push(bystander);
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, "kubun.pid"), `${bystander.pid}\n`);

  const r = await inNs(ns, [join(release, "kubun-linux-amd64"), "killall", "--data-dir", data, "--config", join(work, "none.yaml")]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`stopped kubun (pid `);
  expect(await server.exited).toBeDefined();
  expect(bystander.exitCode).toBeNull();
  expect(existsSync(join(data, "kubun.pid"))).toBe(false);
  expect(existsSync(join(data, "server/db/state.db"))).toBe(true);
});
