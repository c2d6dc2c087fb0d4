// `bun run release`: the folder a Pi needs, install.sh fetching from INSTALL_KUBUN_DOWNLOAD_URL (a local server on
// 127.0.0.1 here) and refusing a binary whose checksum does not match, and the arm64 binary under qemu-aarch64-static
// (Debian's qemu-user-static + libc6:arm64): `version`, and serving the API inside a test-made network namespace.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { inNs, waitFor } from "./helpers.ts";
import { ensureRelease, pathWithoutBun } from "./release.ts";

setDefaultTimeout(180_000);

let release = "";
let work = "";
let server: ReturnType<typeof Bun.serve> | undefined;
let badChecksum = false;

beforeAll(async () => {
  release = await ensureRelease();
  work = tempDir("kr-");
  // The release folder over HTTP, as a file server would publish it; badChecksum serves a wrong sha256 file.
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const name = new URL(req.url).pathname.split("/").pop()!;
      if (!/^[\w.-]+$/.test(name) || !existsSync(join(release, name))) return new Response("not found", { status: 404 });
      if (badChecksum && name.startsWith("sha256sum-")) return new Response(`${"0".repeat(64)}  kubun-linux-amd64\n`);
      return new Response(Bun.file(join(release, name)));
    },
  });
});

afterAll(() => {
  server?.stop(true);
  if (work) rmSync(work, { recursive: true, force: true });
});

async function installAlone(root: string, env: Record<string, string>) {
  // install.sh alone in a folder: no binary beside it, no checkout.
  const dir = join(root, "dl");
  await run(["mkdir", "-p", dir]);
  copyFileSync(join(release, "install.sh"), join(dir, "install.sh"));
  const p = Bun.spawn(["sh", join(dir, "install.sh")], {
    env: { PATH: pathWithoutBun(work), HOME: work, INSTALL_KUBUN_ROOT: root, INSTALL_KUBUN_BIN_DIR: join(root, "bin"), INSTALL_KUBUN_SKIP_START: "true", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

describe("release folder", () => {
  test("holds both binaries, install.sh, k3s-named checksum files that sha256sum -c accepts, and the install section", async () => {
    for (const f of ["kubun-linux-amd64", "kubun-linux-arm64", "install.sh", "sha256sum-amd64.txt", "sha256sum-arm64.txt", "README.md"]) expect(existsSync(join(release, f))).toBe(true);
    for (const arch of ["amd64", "arm64"]) {
      expect(readFileSync(join(release, `sha256sum-${arch}.txt`), "utf8")).toMatch(new RegExp(`^[0-9a-f]{64}  kubun-linux-${arch}\\n$`));
      const p = Bun.spawnSync(["sha256sum", "-c", `sha256sum-${arch}.txt`], { cwd: release });
      expect(p.stdout.toString()).toBe(`kubun-linux-${arch}: OK\n`);
    }
    const readme = readFileSync(join(release, "README.md"), "utf8");
    expect(readme).toContain("## Install");
    expect(readme).toContain("INSTALL_KUBUN_DOWNLOAD_URL");
    expect(readme).not.toContain("## Using it with kubectl");
  });

  test("INSTALL_KUBUN_DOWNLOAD_URL: fetched, verified against sha256sum-amd64.txt, installed", async () => {
    const root = join(work, "ok");
    const r = await installAlone(root, { INSTALL_KUBUN_DOWNLOAD_URL: `http://127.0.0.1:${server!.port}/v0.1.0/` });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("verified kubun-linux-amd64");
    expect(Bun.hash(readFileSync(join(root, "bin/kubun")))).toBe(Bun.hash(readFileSync(join(release, "kubun-linux-amd64"))));
  });

  test("a checksum mismatch is refused and nothing is installed", async () => {
    badChecksum = true;
    try {
      const root = join(work, "bad");
      const r = await installAlone(root, { INSTALL_KUBUN_DOWNLOAD_URL: `http://127.0.0.1:${server!.port}` });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("[ERROR] checksum mismatch for kubun-linux-amd64");
      expect(existsSync(join(root, "bin/kubun"))).toBe(false);
    } finally {
      badChecksum = false;
    }
  });
});

describe("arm64 binary under qemu-aarch64-static", () => {
  const qemu = "/usr/bin/qemu-aarch64-static";

  test("version", async () => {
    expect(existsSync(qemu)).toBe(true); // scripts/deps.sh installs qemu-user-static and libc6:arm64
    const r = await run([qemu, join(release, "kubun-linux-arm64"), "version"], { allowFail: true, timeoutMs: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^kubun version v\S+ \(kubernetes v1\.32\.0\+kubun, bun \S+, linux\/arm64\)\n$/);
  });

  test("serves the API (in a network namespace)", async () => {
    const ns = `ka${Math.random().toString(36).slice(2, 7)}`;
    await run(["ip", "netns", "add", ns]);
    await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
    const kubeconfig = join(work, "arm64-kubeconfig.yaml");
    await Bun.write(join(work, "none.yaml"), "");
    const proc = Bun.spawn(
      ["nsenter", `--net=/var/run/netns/${ns}`, "--", qemu, join(release, "kubun-linux-arm64"), "server", "--disable-agent", "--bind-address", "127.0.0.1", "--data-dir", join(work, "arm64-data"), "--write-kubeconfig", kubeconfig, "--config", join(work, "none.yaml")],
      { env: { PATH: process.env.PATH! }, stdout: "ignore", stderr: "pipe" },
    );
    try {
      await waitFor("the emulated server to answer", async () => {
        if (proc.exitCode !== null) throw new Error(`server exited: ${await new Response(proc.stderr).text()}`);
        return existsSync(kubeconfig) && (await inNs(ns, ["kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/readyz"])).stdout.trim() === "ok";
      }, 150_000);
      const r = await inNs(ns, ["kubectl", "--kubeconfig", kubeconfig, "get", "namespaces", "-o", "name"]);
      expect(r.stdout).toContain("namespace/kube-system");
      const v = await inNs(ns, ["kubectl", "--kubeconfig", kubeconfig, "version", "-o", "json"]);
      expect(JSON.parse(v.stdout).serverVersion.platform).toBe("linux/arm64");
    } finally {
      proc.kill(9);
      await proc.exited;
      await run(["ip", "netns", "del", ns], { allowFail: true });
    }
  });
});
