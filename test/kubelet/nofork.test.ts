// The pod-start steps that no longer spawn a process (mkfifo for container and exec stdio, bringing up the pod
// namespace's loopback, mounting the container's overlay rootfs) behave as the tools they replace: a FIFO with
// mode 0600 that refuses an existing path, "lo" up inside the namespace only (a namespace this test makes and
// removes), an overlay whose writes land in the upper directory, and mount points found and lazily unmounted.
import { afterAll, expect, test } from "bun:test";
import "../helpers/tmpdir.ts";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loopbackUp } from "../../internal/cni/loopback.ts";
import { mkfifo } from "../../internal/runtime/fifo.ts";
import { bindMount, isMountpoint, mountFs, umountLazy } from "../../internal/runtime/mount.ts";
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

test("isMountpoint and umountLazy agree with mountpoint(1) and umount -l, for paths with spaces too", async () => {
  const target = join(dir, "a mount");
  mkdirSync(target, { recursive: true });
  const mp = async (p: string) => (await run(["mountpoint", "-q", p], { allowFail: true })).code === 0;
  expect(isMountpoint(target)).toBe(false);
  expect(umountLazy(target)).toBe(false); // nothing mounted: nothing done
  await run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", target]);
  expect(isMountpoint(target)).toBe(true);
  expect(isMountpoint(`${target}/`)).toBe(true);
  expect(await mp(target)).toBe(true);
  // A busy mount (an open file in it) is detached at once, as umount -l does.
  writeFileSync(join(target, "f"), "x");
  const fd = openSync(join(target, "f"), "r");
  try {
    expect(umountLazy(target)).toBe(true);
  } finally {
    closeSync(fd);
  }
  expect(isMountpoint(target)).toBe(false);
  expect(await mp(target)).toBe(false);
  // A bind mount of a file.
  const src = join(dir, "bind-src");
  const dst = join(dir, "bind-dst");
  writeFileSync(src, "content\n");
  writeFileSync(dst, "");
  bindMount(src, dst);
  expect(readFileSync(dst, "utf8")).toBe("content\n");
  expect(await mp(dst)).toBe(true);
  expect(umountLazy(dst)).toBe(true);
  expect(readFileSync(dst, "utf8")).toBe("");
});
