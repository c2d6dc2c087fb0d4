// The ctr runtime resolves an image reference once and keeps it until containerd reports an image event:
// a removed image is no longer reported present, a re-imported one is found again, concurrent lookups share one
// `ctr images ls`, and an import leaves the imported images resolved. No containers run here (containerd only).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { CtrRuntime } from "../../internal/runtime/ctr.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { waitFor } from "../kubelet/setup.ts";
import { removeHostLeftovers } from "../helpers/hostleftovers.ts";

const dir = tempDir("rt-images-");
const ns = `ktim${Math.random().toString(36).slice(2, 6)}`;
let containerd: Containerd;
let rt: CtrRuntime;
/** ctr subcommands the runtime ran ("images ls", "content get", …). */
const calls: string[] = [];

const ctr = (...args: string[]) => run(["ctr", "--address", containerd.address, "-n", ns, ...args]);
const lookups = () => calls.filter((c) => c === "images ls").length;

beforeAll(async () => {
  containerd = await startContainerd({ dir: join(dir, "containerd") });
  rt = new CtrRuntime({ address: containerd.address, namespace: ns, stateDir: join(dir, "state") });
  const orig = (rt as any).ctr.bind(rt);
  (rt as any).ctr = (args: string[], o?: unknown) => {
    calls.push(args.slice(0, 2).join(" "));
    return orig(args, o);
  };
  writeBusyboxImage(join(dir, "busybox.tar"));
  await Bun.sleep(300); // the event subscription is set up
}, 60_000);

afterAll(async () => {
  await rt?.close();
  await containerd?.stop();
  removeHostLeftovers({ containerdNamespace: ns });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test("an import leaves the imported image resolved: the first pod start needs no ctr call to find it", async () => {
  await rt.importImages(join(dir, "busybox.tar"));
  await waitFor("image resolved in the background", async () => {
    const before = calls.length;
    const img = await rt.getImage("busybox:latest");
    return img && calls.length === before;
  }, 10_000, 100);
  const img = await rt.getImage("busybox");
  expect(img?.id).toMatch(/^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
  expect(img?.ref).toBe("busybox");
  expect((img as any).chainId).toMatch(/^sha256:/);
}, 30_000);

test("concurrent lookups of one name share one resolution", async () => {
  (rt as any).forgetImages();
  const before = lookups();
  const got = await Promise.all(Array.from({ length: 10 }, (_, i) => rt.getImage(i % 2 ? "busybox:latest" : "docker.io/library/busybox:latest")));
  expect(lookups() - before).toBe(1);
  expect(new Set(got.map((g) => g?.id)).size).toBe(1);
  // Each caller gets its own reference back, not the first caller's.
  expect(got[0]!.ref).toBe("docker.io/library/busybox:latest");
  expect(got[1]!.ref).toBe("busybox:latest");
  // And later lookups cost nothing.
  const after = calls.length;
  await rt.getImage("busybox:latest");
  expect(calls.length).toBe(after);
}, 30_000);

test("an image removed behind the runtime's back is no longer present; re-imported, it is found again", async () => {
  const id = (await rt.getImage("busybox:latest"))!.id;
  await ctr("images", "rm", "docker.io/library/busybox:latest");
  // containerd's /images/delete event drops the cached resolution (no waiting for any expiry).
  await waitFor("removal noticed", async () => (await rt.getImage("busybox:latest")) === undefined, 10_000, 100);
  await ctr("images", "import", "--all-platforms", join(dir, "busybox.tar"));
  const again = await waitFor("re-import noticed", () => rt.getImage("busybox:latest"), 10_000, 100);
  expect(again.id).toBe(id);
}, 30_000);

test("a name re-tagged to another image resolves to the new one", async () => {
  await ctr("images", "tag", "docker.io/library/busybox:latest", "docker.io/library/other:1");
  const other = await waitFor("tag noticed", () => rt.getImage("other:1"), 10_000, 100);
  expect(other.id).toMatch(/^docker\.io\/library\/other@sha256:/);
  await ctr("images", "rm", "docker.io/library/other:1");
  await waitFor("tag removal noticed", async () => (await rt.getImage("other:1")) === undefined, 10_000, 100);
}, 30_000);

test("when the event stream breaks (containerd restarts), nothing cached survives it", async () => {
  await rt.getImage("busybox:latest");
  expect((rt as any).refCache.size).toBeGreaterThan(0);
  await containerd.stop();
  await waitFor("cache dropped", () => (rt as any).refCache.size === 0, 10_000, 50);
  containerd = await startContainerd({ dir: join(dir, "containerd") });
  // The subscription is back, and removals are noticed again.
  await Bun.sleep(1500);
  await rt.getImage("busybox:latest");
  await ctr("images", "rm", "docker.io/library/busybox:latest");
  await waitFor("removal noticed after the subscription came back", async () => (await rt.getImage("busybox:latest")) === undefined, 10_000, 100);
}, 30_000);
