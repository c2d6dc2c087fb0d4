// The pod-start steps that no longer spawn a process (mkfifo for container and exec stdio, bringing up the pod
// namespace's loopback, mounting the container's overlay rootfs) behave as the tools they replace: a FIFO with
// mode 0600 that refuses an existing path, "lo" up inside the namespace only (a namespace this test makes and
// removes), and an overlay whose writes land in the upper directory.
import { afterAll, expect, test } from "bun:test";
import "../helpers/tmpdir.ts";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loopbackUp } from "../../internal/cni/loopback.ts";
import { mkfifo } from "../../internal/runtime/fifo.ts";
import { mountFs } from "../../internal/runtime/mount.ts";
import { run } from "../../internal/runtime/run.ts";

const dir = mkdtempSync(join(tmpdir(), "kubun-nofork-"));
const ns = `kubun-nofork-${process.pid}`;
afterAll(async () => {
  await run(["umount", "-l", join(dir, "merged")], { allowFail: true });
  rmSync(dir, { recursive: true, force: true });
  await run(["ip", "netns", "del", ns], { allowFail: true });
});

test("mkfifo makes a FIFO with mode 0600 and refuses a path that exists", () => {
  const p = join(dir, "stdout");
  mkfifo(p);
  const st = statSync(p);
  expect(st.isFIFO()).toBe(true);
  expect(st.mode & 0o777).toBe(0o600);
  expect(() => mkfifo(p)).toThrow(/mkfifo/);
  writeFileSync(join(dir, "file"), "");
  expect(() => mkfifo(join(dir, "file"))).toThrow(/mkfifo/);
  expect(() => mkfifo(join(dir, "missing", "stdout"))).toThrow(/mkfifo/);
});

test("loopbackUp brings lo up in the given network namespace, as the loopback plugin does", async () => {
  await run(["ip", "netns", "add", ns]);
  const lo = async () => (await run(["ip", "-n", ns, "-o", "link", "show", "lo"])).stdout;
  expect(await lo()).not.toMatch(/[<,]UP[,>]/);
  loopbackUp(`/var/run/netns/${ns}`);
  expect(await lo()).toMatch(/[<,]UP[,>]/);
  // Traffic to 127.0.0.1 inside the namespace now works (ping needs lo up).
  const ping = await run(["nsenter", `--net=/var/run/netns/${ns}`, "--", "busybox", "ping", "-c", "1", "-W", "1", "127.0.0.1"], { allowFail: true });
  expect(ping.code).toBe(0);
  expect(() => loopbackUp("/var/run/netns/kubun-nofork-missing")).toThrow();
});

test("mountFs mounts an overlay as mount -t overlay does, and throws when it cannot", async () => {
  const [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map((d) => join(dir, d));
  for (const d of [lower, upper, work, merged]) mkdirSync(d, { recursive: true });
  writeFileSync(join(lower, "from-image"), "layer\n");
  mountFs("overlay", "overlay", merged, ["index=off", `workdir=${work}`, `upperdir=${upper}`, `lowerdir=${lower}`]);
  expect(readFileSync(join(merged, "from-image"), "utf8")).toBe("layer\n");
  writeFileSync(join(merged, "written"), "x");
  expect(readFileSync(join(upper, "written"), "utf8")).toBe("x");
  expect((await run(["mountpoint", "-q", merged], { allowFail: true })).code).toBe(0);
  await run(["umount", merged]);
  expect(() => mountFs("overlay", "overlay", merged, [`lowerdir=${join(dir, "missing")}`])).toThrow(/mount -t overlay/);
});
