// Content volumes (configMap, secret, downwardAPI, projected) are written as upstream's atomic writer does:
// files under a timestamped ..<stamp> directory, ..data pointing at it, top-level names linked through ..data;
// an update swaps ..data in one rename and removes the old directory and names that are gone; unchanged content
// writes nothing. No containers: setupVolumes with an in-memory API.
import { afterAll, expect, test } from "bun:test";
import { lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { setupVolumes } from "../../internal/kubelet/volumes.ts";
import type { PodRefs } from "../../internal/kubelet/refs.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const dir = tempDir("kubelet-vol-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let data: Record<string, string> = { a: "one", "b.conf": "x=1\n" };
const refs: PodRefs = {
  configMap: async () => ({ metadata: { name: "cm" }, data }),
  secret: async () => undefined,
  serviceAccountToken: async () => "token",
};
const pod: any = {
  metadata: { name: "p", namespace: "default", uid: "u1" },
  spec: {
    volumes: [
      { name: "cfg", configMap: { name: "cm", defaultMode: 0o640 } },
      { name: "nested", configMap: { name: "cm", items: [{ key: "a", path: "sub/dir/a.txt", mode: 0o600 }] } },
    ],
  },
};
const ctx = { podDir: dir, refs, nodeAllocatable: {} };
const vol = join(dir, "volumes", "cfg");
const stamps = (d: string) => readdirSync(d).filter((e) => e.startsWith("..") && e !== "..data");

test("first write: ..data → ..<stamp>, names linked through ..data, modes as asked", async () => {
  const out = await setupVolumes(pod, ctx);
  expect(out.get("cfg")).toBe(vol);
  expect(readlinkSync(join(vol, "..data"))).toMatch(/^\.\.\d{4}_/);
  expect(readlinkSync(join(vol, "a"))).toBe("..data/a");
  expect(readFileSync(join(vol, "a"), "utf8")).toBe("one");
  expect(readFileSync(join(vol, "b.conf"), "utf8")).toBe("x=1\n");
  expect(statSync(join(vol, "a")).mode & 0o777).toBe(0o640);
  expect(stamps(vol)).toHaveLength(1);
  const nested = join(dir, "volumes", "nested");
  expect(readFileSync(join(nested, "sub", "dir", "a.txt"), "utf8")).toBe("one");
  expect(statSync(join(nested, "sub", "dir", "a.txt")).mode & 0o777).toBe(0o600);
  expect(lstatSync(join(nested, "sub")).isSymbolicLink()).toBe(true);
});

test("unchanged content writes nothing; an update swaps ..data and drops the old directory and removed names", async () => {
  const before = readlinkSync(join(vol, "..data"));
  await setupVolumes(pod, ctx);
  expect(readlinkSync(join(vol, "..data"))).toBe(before);
  await Bun.sleep(5); // a new stamp
  data = { a: "two", c: "new" };
  await setupVolumes(pod, ctx);
  const after = readlinkSync(join(vol, "..data"));
  expect(after).not.toBe(before);
  expect(stamps(vol)).toEqual([after]);
  expect(readFileSync(join(vol, "a"), "utf8")).toBe("two");
  expect(readFileSync(join(vol, "c"), "utf8")).toBe("new");
  expect(readdirSync(vol).filter((e) => !e.startsWith("..")).sort()).toEqual(["a", "c"]);
  expect(readdirSync(vol)).not.toContain("..data_tmp");
});
