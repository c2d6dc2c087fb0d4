// A projected volume's sources are read from the API side by side (a pod start waits for one round trip, not one
// per source), yet the volume is what reading them one by one gives: a later source's file wins over an earlier
// one's of the same path, and the first failing source (in the pod's order) is the error reported.
// No containers: setupVolumes with an in-memory API whose answers arrive in an order the test chooses.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../internal/kubelet/env.ts";
import type { PodRefs } from "../../internal/kubelet/refs.ts";
import { setupVolumes } from "../../internal/kubelet/volumes.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const dir = tempDir("kubelet-proj-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Refs whose answers each wait for the test to release them; records which requests are in flight. */
function gatedRefs(maps: Record<string, Record<string, string> | undefined>) {
  const inFlight: string[] = [];
  const release = new Map<string, () => void>();
  const gate = (what: string) => {
    inFlight.push(what);
    return new Promise<void>((r) => release.set(what, r));
  };
  const refs: PodRefs = {
    configMap: async (_ns, name) => {
      await gate(`cm/${name}`);
      const data = maps[name];
      return data ? { metadata: { name }, data } : undefined;
    },
    secret: async () => undefined,
    serviceAccountToken: async () => {
      await gate("token");
      return "the-token";
    },
  };
  return { refs, inFlight, release: (what: string) => release.get(what)!() };
}

const pod = (name: string, sources: any[]): any => ({
  metadata: { name, namespace: "default", uid: `uid-${name}` },
  spec: { volumes: [{ name: "proj", projected: { sources } }] },
});

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await Bun.sleep(5);
  expect(cond()).toBe(true);
};

test("the token and the ConfigMap are asked for at once; the later source's file wins whatever answers first", async () => {
  const api = gatedRefs({ ca: { "ca.crt": "CA", shared: "from-configmap" } });
  const p = pod("p1", [
    { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
    { configMap: { name: "ca", items: [{ key: "ca.crt", path: "ca.crt" }, { key: "shared", path: "namespace" }] } },
    { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
  ]);
  const podDir = join(dir, "p1");
  const done = setupVolumes(p, { podDir, refs: api.refs, nodeAllocatable: {} });
  // Both reads are out before either is answered.
  await until(() => api.inFlight.length === 2);
  expect(api.inFlight.sort()).toEqual(["cm/ca", "token"]);
  api.release("cm/ca"); // the second source answers first
  await Bun.sleep(10);
  api.release("token");
  const vol = (await done).get("proj")!;
  expect(readFileSync(join(vol, "token"), "utf8")).toBe("the-token");
  expect(readFileSync(join(vol, "ca.crt"), "utf8")).toBe("CA");
  // "namespace" is written by the ConfigMap source and then by the downward API one: the last one wins.
  expect(readFileSync(join(vol, "namespace"), "utf8")).toBe("default");
});

test("an earlier source's file is overwritten by a later source's even when the later one answers first", async () => {
  const api = gatedRefs({ first: { k: "first" }, second: { k: "second" } });
  const p = pod("p2", [{ configMap: { name: "first" } }, { configMap: { name: "second" } }]);
  const done = setupVolumes(p, { podDir: join(dir, "p2"), refs: api.refs, nodeAllocatable: {} });
  await until(() => api.inFlight.length === 2);
  api.release("cm/second");
  await Bun.sleep(10);
  api.release("cm/first");
  const vol = (await done).get("proj")!;
  expect(readFileSync(join(vol, "k"), "utf8")).toBe("second");
});

test("two failing sources: the error is the first one's in the pod's order, not the first to fail", async () => {
  const api = gatedRefs({});
  const p = pod("p3", [{ configMap: { name: "missing-a" } }, { configMap: { name: "missing-b" } }]);
  const done = setupVolumes(p, { podDir: join(dir, "p3"), refs: api.refs, nodeAllocatable: {} });
  await until(() => api.inFlight.length === 2);
  api.release("cm/missing-b");
  await Bun.sleep(10);
  api.release("cm/missing-a");
  const err = await done.catch((e) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as Error).message).toBe('configmap "missing-a" not found');
});
