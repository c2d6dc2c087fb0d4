// Issue #10 items 3-5: writes that change nothing are not written (no resourceVersion bump, no watch event,
// kubectl says "no change"/"unchanged"); resourceVersion "0" on update is unconditional; kinds without a
// generation have no metadata.generation.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { kubectlOK, startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster();
  await ok(["create", "namespace", "nw"]);
});
afterAll(async () => {
  await c?.stop();
});

function ok(args: string[], stdin?: string): Promise<string> {
  return kubectlOK(c, args, stdin);
}

async function getJSON(args: string[]): Promise<any> {
  return JSON.parse(await ok(["-n", "nw", "get", ...args, "-o", "json"]));
}

async function send(method: string, path: string, body: unknown, contentType = "application/json"): Promise<{ status: number; json: any }> {
  const res = await c.api(path, { method, body: typeof body === "string" ? body : JSON.stringify(body), headers: { "Content-Type": contentType } });
  return { status: res.status, json: await res.json() };
}

/** Watch events (type/name/resourceVersion) from `rv` until `until` names one. */
async function watchUntil(path: string, rv: string, until: (e: any) => boolean): Promise<any[]> {
  const res = await c.api(`${path}?watch=true&resourceVersion=${rv}`);
  const reader = res.body!.getReader();
  const events: any[] = [];
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    const lines = buf.split("\n");
    buf = lines.pop()!;
    for (const l of lines.filter((x) => x.trim())) events.push(JSON.parse(l));
    if (events.some(until)) break;
  }
  await reader.cancel();
  return events;
}

const CM = `apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: nw, labels: {a: "1"}}
data: {k: v}
`;

describe("a write that changes nothing is not written", () => {
  test("kubectl patch says (no change); resourceVersion, managedFields and watchers see nothing", async () => {
    await ok(["-n", "nw", "create", "configmap", "p", "--from-literal=k=v"]);
    const before = await getJSON(["configmap", "p"]);
    expect(await ok(["-n", "nw", "patch", "configmap", "p", "-p", '{"data":{"k":"v"}}'])).toBe("configmap/p patched (no change)\n");
    expect(await ok(["-n", "nw", "patch", "configmap", "p", "--type=json", "-p", '[{"op":"replace","path":"/data/k","value":"v"}]'])).toBe("configmap/p patched (no change)\n");
    const same = await getJSON(["configmap", "p"]);
    expect(same.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(same.metadata.managedFields).toEqual(before.metadata.managedFields);
    expect(await ok(["-n", "nw", "patch", "configmap", "p", "-p", '{"data":{"k":"w"}}'])).toBe("configmap/p patched\n");

    // The first event after the no-op patches is the real change.
    const events = await watchUntil("/api/v1/namespaces/nw/configmaps/p", before.metadata.resourceVersion, (e) => e.type === "MODIFIED");
    expect(events.map((e) => `${e.type} ${e.object.data.k}`)).toEqual(["MODIFIED w"]);
  });

  test("kubectl apply twice is unchanged; server-side apply keeps resourceVersion and managedFields time", async () => {
    expect(await ok(["apply", "-f", "-"], CM)).toBe("configmap/same created\n");
    const first = await getJSON(["configmap", "same"]);
    expect(await ok(["apply", "-f", "-"], CM)).toBe("configmap/same unchanged\n");
    expect((await getJSON(["configmap", "same"])).metadata.resourceVersion).toBe(first.metadata.resourceVersion);

    const ssa = CM.replace("name: same", "name: ssa");
    await ok(["apply", "--server-side", "-f", "-"], ssa);
    const a = await getJSON(["configmap", "ssa"]);
    await Bun.sleep(1100); // managedFields times have second resolution: a rewrite would show
    await ok(["apply", "--server-side", "-f", "-"], ssa);
    const b = await getJSON(["configmap", "ssa"]);
    expect(b.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    expect(b.metadata.managedFields).toEqual(a.metadata.managedFields);
  });

  test("PUT of the unchanged object (kubectl replace) keeps resourceVersion and generation", async () => {
    await ok(["-n", "nw", "create", "deployment", "d", "--image=busybox"]);
    const d = await getJSON(["deployment", "d"]);
    expect(await ok(["replace", "-f", "-"], JSON.stringify(d))).toBe("deployment.apps/d replaced\n");
    const after = await getJSON(["deployment", "d"]);
    expect(after.metadata.resourceVersion).toBe(d.metadata.resourceVersion);
    expect(after.metadata.generation).toBe(1);
    // kubectl create sends protobuf, whose ObjectMeta always carries generation: the template has none.
    expect(after.spec.template.metadata).not.toHaveProperty("generation");
    // Status writes too.
    const st = await send("PUT", "/apis/apps/v1/namespaces/nw/deployments/d/status", after);
    expect(st.status).toBe(200);
    expect(st.json.metadata.resourceVersion).toBe(d.metadata.resourceVersion);
  });
});

describe('resourceVersion "0" on update', () => {
  test("is an unconditional update, as an absent one; a stale one is still a conflict", async () => {
    await ok(["-n", "nw", "create", "configmap", "rv0", "--from-literal=k=1"]);
    const cm = await getJSON(["configmap", "rv0"]);
    const put = (rv: string, k: string) =>
      send("PUT", "/api/v1/namespaces/nw/configmaps/rv0", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "rv0", resourceVersion: rv }, data: { k } });
    const zero = await put("0", "2");
    expect(zero.status).toBe(200);
    expect(zero.json.data.k).toBe("2");
    expect(zero.json.metadata.resourceVersion).not.toBe(cm.metadata.resourceVersion);
    const stale = await put(cm.metadata.resourceVersion, "3");
    expect(stale.status).toBe(409);
    expect(stale.json.reason).toBe("Conflict");

    // kubectl replace of a manifest carrying resourceVersion "0"
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rv0, namespace: nw, resourceVersion: "0"}\ndata: {k: "4"}\n`;
    expect(await ok(["replace", "-f", "-"], manifest)).toBe("configmap/rv0 replaced\n");
    expect((await getJSON(["configmap", "rv0"])).data.k).toBe("4");
    // A merge patch naming resourceVersion "0" is unconditional too.
    const mp = await send("PATCH", "/api/v1/namespaces/nw/configmaps/rv0", { metadata: { resourceVersion: "0" }, data: { k: "5" } }, "application/merge-patch+json");
    expect(mp.status).toBe(200);
    expect(mp.json.data.k).toBe("5");
  });

  test("kubectl replace of a cluster-scoped Node with resourceVersion \"0\" (upstream test/cmd core.sh)", async () => {
    await ok(["create", "-f", "-"], JSON.stringify({ kind: "Node", apiVersion: "v1", metadata: { name: "node-v1-test" } }));
    const manifest = JSON.stringify({ kind: "Node", apiVersion: "v1", metadata: { name: "node-v1-test", annotations: { a: "b" }, resourceVersion: "0" } });
    await ok(["replace", "--dry-run=server", "-f", "-"], manifest);
    expect(JSON.parse(await ok(["get", "node", "node-v1-test", "-o", "json"])).metadata.annotations?.a).toBeUndefined();
    await ok(["replace", "-f", "-"], manifest);
    expect(await ok(["get", "node", "node-v1-test", "-o", "jsonpath={.metadata.annotations.a}"])).toBe("b");
    // A patch naming a resourceVersion other than the stored one is a conflict.
    const rv = Number(await ok(["get", "node", "node-v1-test", "-o", "jsonpath={.metadata.resourceVersion}"])) + 100;
    const r = await c.kubectl(["patch", "node", "node-v1-test", "-p", JSON.stringify({ metadata: { resourceVersion: String(rv), labels: { x: "y" } } })]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("please apply your changes to the latest version and try again");
  });
});

describe("metadata.generation", () => {
  test("is absent on kinds without one (kubectl create configmap/secret), 1 on kinds with a spec", async () => {
    await ok(["-n", "nw", "create", "configmap", "g", "--from-literal=k=v"]);
    await ok(["-n", "nw", "create", "secret", "generic", "g", "--from-literal=k=v"]);
    await ok(["-n", "nw", "create", "serviceaccount", "g"]);
    for (const kind of ["configmap", "secret", "serviceaccount"]) {
      const obj = await getJSON([kind, "g"]);
      expect(obj.metadata).not.toHaveProperty("generation");
      await ok(["-n", "nw", "label", kind, "g", "x=y"]);
      expect((await getJSON([kind, "g"])).metadata).not.toHaveProperty("generation");
    }
    const created = await send("POST", "/api/v1/namespaces/nw/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "g0", generation: 0 } });
    expect(created.json.metadata).not.toHaveProperty("generation");
    await ok(["-n", "nw", "create", "job", "j", "--image=busybox"]);
    expect((await getJSON(["job", "j"])).metadata.generation).toBe(1);
  });
});
