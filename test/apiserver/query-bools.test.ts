// Boolean query parameters decoded as upstream's parameter codec does (issue #10 item 2): python's client
// sends watch=True and its watches must start; pretty follows Go's ParseBool.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { queryBool, parseGoBool } from "../../internal/apiserver/queryopts.ts";
import { parseLogOptions } from "../../internal/kubelet/logs.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
// Debian's interpreter: python3-kubernetes lives in its dist-packages (scripts/deps.sh installs it).
const PYTHON = "/usr/bin/python3";
let c: TestCluster;

beforeAll(async () => {
  // Frequent bookmarks: the python client must cope with them inside its watch.
  c = await startTestCluster({ watchBookmarkIntervalMs: 300 });
});
afterAll(async () => {
  await c?.stop();
});

/** First chunk of a response body (a watch stays open). */
async function firstChunk(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  let text = "";
  while (!text.trim()) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  return text;
}

describe("query booleans", () => {
  test("upstream's conversion: only 0 and false (any case) are false", () => {
    const q = (s: string) => new URLSearchParams(s);
    for (const t of ["1", "t", "T", "TRUE", "true", "True", "yes", ""]) expect(queryBool(q(`watch=${t}`), "watch")).toBe(true);
    for (const f of ["0", "false", "False", "FALSE", "fAlSe"]) expect(queryBool(q(`watch=${f}`), "watch")).toBe(false);
    expect(queryBool(q("watch=False&watch=true"), "watch")).toBe(false);
    expect(queryBool(q("other=1"), "watch")).toBeUndefined();
    expect(parseGoBool("True")).toBe(true);
    expect(parseGoBool("F")).toBe(false);
    expect(parseGoBool("yes")).toBeUndefined();
    // The kubelet reads the log options the API server passes through the same way.
    expect(parseLogOptions(q("follow=True&timestamps=1&previous=False"))).toMatchObject({ follow: true, timestamps: true, previous: false });
  });

  test("watch=True, watch=1 and watch=T are watches; watch=False and watch=0 are lists", async () => {
    await c.api("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "qb" } }),
      headers: { "Content-Type": "application/json" },
    });
    for (const v of ["True", "1", "T", "TRUE"]) {
      const res = await c.api(`/api/v1/namespaces/default/configmaps?watch=${v}&allowWatchBookmarks=True`);
      expect(res.status).toBe(200);
      const first = JSON.parse((await firstChunk(res)).split("\n")[0]!);
      expect(first.type).toBe("ADDED");
      expect(first.object.metadata.name).toBe("qb");
    }
    for (const v of ["False", "0", "FALSE"]) {
      const res = await c.api(`/api/v1/namespaces/default/configmaps?watch=${v}`);
      expect(((await res.json()) as any).kind).toBe("ConfigMapList");
    }
  });

  test("sendInitialEvents=True with allowWatchBookmarks=True ends the initial events with a bookmark", async () => {
    const res = await c.api("/api/v1/namespaces/default/configmaps?watch=True&sendInitialEvents=True&allowWatchBookmarks=True&resourceVersionMatch=NotOlderThan");
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("BOOKMARK")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const bm = text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === "BOOKMARK");
    expect(bm.object.metadata.annotations["k8s.io/initial-events-end"]).toBe("true");
  });

  test("pretty=True indents, pretty=False and a non-bool do not", async () => {
    const pretty = await (await c.api("/api/v1/namespaces/default/configmaps/qb?pretty=True")).text();
    expect(pretty).toStartWith('{\n  "');
    expect(pretty).toContain('\n  "kind": "ConfigMap",\n');
    for (const v of ["False", "maybe"]) {
      const plain = await (await c.api(`/api/v1/namespaces/default/configmaps/qb?pretty=${v}`)).text();
      expect(plain).toStartWith('{"');
      expect(plain).not.toContain("\n");
    }
  });

  test("force=True on a server-side apply takes over conflicting fields", async () => {
    const apply = (manager: string, value: string, force: string) =>
      c.api(`/api/v1/namespaces/default/configmaps/ssa?fieldManager=${manager}${force}`, {
        method: "PATCH",
        body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa" }, data: { k: value } }),
        headers: { "Content-Type": "application/apply-patch+yaml" },
      });
    expect((await apply("one", "a", "")).status).toBe(201);
    expect((await apply("two", "b", "")).status).toBe(409);
    const forced = await apply("two", "b", "&force=True");
    expect(forced.status).toBe(200);
    expect(((await forced.json()) as any).data.k).toBe("b");
  });
});

describe("python3-kubernetes (Debian's package)", () => {
  test.skipIf(!existsSync(PYTHON))("list, create, patch, watch.Watch().stream(list_namespaced_config_map) and dry-run delete work", async () => {
    await c.kubectl(["create", "namespace", "py"]);
    await c.kubectl(["-n", "py", "create", "configmap", "before", "--from-literal=x=y"]);
    const proc = Bun.spawn([PYTHON, join(import.meta.dir, "python", "watch_configmaps.py"), c.kubeconfigPath, "py"], {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: "/usr/bin:/bin", HOME: c.dataDir },
    });
    const timer = setTimeout(() => proc.kill(), 50_000);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`python client failed (${code}): ${err}`);
    const seen = JSON.parse(out.trim().split("\n").pop()!);
    expect(seen.listed).toEqual(["before"]);
    expect(seen.events).toEqual([
      ["ADDED", "py-1", { a: "1" }],
      ["MODIFIED", "py-1", { a: "2" }],
    ]);
    expect(seen.initial).toContainEqual(["ADDED", "before"]);
    expect(seen.initial).toContainEqual(["ADDED", "py-1"]);
    expect(seen.bookmarks).toBeGreaterThan(0);
    expect(seen.kept).toBe(true);
    expect(seen.noop_rv_same).toBe(true);
  });
});
