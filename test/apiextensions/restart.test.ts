// CRDs survive a restart: a server started on a data dir with CRDs serves them (and their objects) before
// its first request, and a stopped server no longer serves them.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { findResource } from "../../internal/api/resources.ts";
import { startTestCluster } from "../helpers/cluster.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { pollUntil } from "../helpers/wait.ts";

setDefaultTimeout(90_000);
const dataDir = tempDir("crd-restart-");
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "notes.restart.example.com" },
  spec: {
    group: "restart.example.com",
    scope: "Namespaced",
    names: { plural: "notes", kind: "Note" },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { text: { type: "string", default: "empty" } } } } }],
  },
};

test("CRDs and their objects are served right after a restart", async () => {
  const a = await startTestCluster({ dataDir });
  const post = (path: string, body: unknown) => a.api(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  expect((await post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD)).status).toBe(201);
  await pollUntil("served", async () => ((await a.api("/apis/restart.example.com/v1/namespaces/default/notes")).status === 200 ? true : undefined), 10_000);
  expect((await post("/apis/restart.example.com/v1/namespaces/default/notes", { apiVersion: "restart.example.com/v1", kind: "Note", metadata: { name: "n1" } })).status).toBe(201);
  await a.stop();
  expect(findResource("restart.example.com", "v1", "notes")).toBeUndefined();

  const b = await startTestCluster({ dataDir });
  try {
    const r = await b.api("/apis/restart.example.com/v1/namespaces/default/notes/n1");
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).text).toBe("empty");
    expect((await b.kubectl(["get", "notes", "-o", "name"])).stdout).toBe("note.restart.example.com/n1\n");
  } finally {
    await b.stop();
  }
});
