// Builds a busybox OCI image archive offline from a static busybox binary (Debian's busybox-static),
// for air-gapped nodes and for tests: oci-layout + index.json + manifest + config + one gzipped layer (and any
// layers a test stacks on it).
import { readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { writeTar, type TarEntry } from "./tar.ts";

export interface BusyboxImageOptions {
  /** Path of a statically linked busybox. */
  busybox?: string;
  /** Image reference the archive carries, e.g. docker.io/library/busybox:latest */
  ref?: string;
  /** Layers on top of busybox's, bottom first (a `.wh.<name>` file deletes <name> of the layers below). */
  upperLayers?: TarEntry[][];
}

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const enc = new TextEncoder();

function applets(busybox: string): string[] {
  const r = spawnSync(busybox, ["--list-full"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${busybox} --list-full failed: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l && !l.endsWith("/busybox"));
}

/** Returns the bytes of an OCI image archive that `ctr images import` accepts. */
export function buildBusyboxImage(opts: BusyboxImageOptions = {}): Uint8Array {
  const busybox = opts.busybox ?? "/bin/busybox";
  const ref = opts.ref ?? "docker.io/library/busybox:latest";
  const entries: TarEntry[] = [];
  for (const d of ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "home", "var", "proc", "sys", "dev"])
    entries.push({ type: "dir", path: d });
  entries.push({ type: "dir", path: "tmp", mode: 0o1777 });
  entries.push({ type: "file", path: "bin/busybox", data: readFileSync(busybox), mode: 0o755 });
  for (const a of applets(busybox)) entries.push({ type: "symlink", path: a, target: "/bin/busybox" });
  entries.push({ type: "file", path: "etc/passwd", data: enc.encode("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n") });
  entries.push({ type: "file", path: "etc/group", data: enc.encode("root:x:0:\nnobody:x:65534:\n") });

  const tars = [writeTar(entries), ...(opts.upperLayers ?? []).map((l) => writeTar(l))];
  const layers = tars.map((t) => Bun.gzipSync(t as Uint8Array<ArrayBuffer>));
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const config = enc.encode(
    JSON.stringify({
      architecture: arch,
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: tars.map((t) => `sha256:${sha256(t)}`) },
    }),
  );
  const manifest = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${sha256(config)}`, size: config.length },
      layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${sha256(l)}`, size: l.length })),
    }),
  );
  const index = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: `sha256:${sha256(manifest)}`,
          size: manifest.length,
          platform: { architecture: arch, os: "linux" },
          annotations: { "io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref.split(":").pop()! },
        },
      ],
    }),
  );
  const blob = (b: Uint8Array): TarEntry => ({ type: "file", path: `blobs/sha256/${sha256(b)}`, data: b });
  return writeTar([
    { type: "file", path: "oci-layout", data: enc.encode(JSON.stringify({ imageLayoutVersion: "1.0.0" })) },
    { type: "file", path: "index.json", data: index },
    { type: "dir", path: "blobs" },
    { type: "dir", path: "blobs/sha256" },
    blob(config),
    blob(manifest),
    ...layers.map(blob),
  ]);
}

/** Writes the archive to a file (e.g. <data-dir>/agent/images/busybox.tar). */
export function writeBusyboxImage(path: string, opts: BusyboxImageOptions = {}): void {
  writeFileSync(path, buildBusyboxImage(opts));
}
