// `kubun agent --simulate N` as a user runs it: hollow nodes join with the server's join token, each with its own
// node credentials (the Node authorizer lets a node write only its own objects), and run the pods bound to them.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pollUntil } from "../helpers/wait.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(120_000);

const entry = join(import.meta.dir, "../../cmd/kubun.ts");
const work = mkdtempSync(join(tmpdir(), "kubun-simulate-"));
let cluster: TestCluster;
let agent: ReturnType<typeof Bun.spawn>;
let agentLog = "";

beforeAll(async () => {
  cluster = await startTestCluster();
  writeFileSync(join(work, "none.yaml"), "");
  agent = Bun.spawn(["bun", entry, "agent", "--simulate", "2", "--server", cluster.localURL, "--token", cluster.joinToken, "--node-name", "sim", "--data-dir", join(work, "agent")], {
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, KUBUN_CONFIG_FILE: join(work, "none.yaml") },
  });
  // Collect the agent's log as it runs (it runs until afterAll).
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of agent.stderr as ReadableStream<Uint8Array>) agentLog += decoder.decode(chunk, { stream: true });
  })();
});

afterAll(async () => {
  agent?.kill("SIGTERM");
  await Promise.race([agent?.exited, Bun.sleep(10_000)]);
  agent?.kill(9);
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function readyNodes(): Promise<string[]> {
  const r = await cluster.kubectl(["get", "nodes", "-o", 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
  return r.stdout
    .split("\n")
    .filter((l) => l.endsWith("=True"))
    .map((l) => l.slice(0, -"=True".length))
    .sort();
}

describe("kubun agent --simulate", () => {
  test("registers N Ready hollow nodes named <node-name>-<i>", async () => {
    await pollUntil("2 hollow nodes Ready", async () => (await readyNodes()).length === 2 || undefined, 60_000);
    expect(await readyNodes()).toEqual(["sim-0", "sim-1"]);
  });

  test("hollow nodes run the pods bound to them and keep their credentials valid", async () => {
    await cluster.kubectl(["create", "serviceaccount", "default"]);
    const pod = (name: string, node: string) =>
      JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] } });
    for (const [name, node] of [["on-0", "sim-0"], ["on-1", "sim-1"]] as const) {
      const r = await cluster.kubectl(["apply", "-f", "-"], { stdin: pod(name, node) });
      expect(r.code).toBe(0);
    }
    await pollUntil(
      "both pods Running",
      async () => {
        const r = await cluster.kubectl(["get", "pods", "on-0", "on-1", "-o", "jsonpath={.items[*].status.phase}"]);
        return r.stdout === "Running Running" || undefined;
      },
      60_000,
    );
    // The first node's token is shared by the hollow nodes' watches: joining again would have revoked it.
    expect(agentLog).toContain("running hollow nodes");
    expect(agentLog).not.toContain("Unauthorized");
  });
});
