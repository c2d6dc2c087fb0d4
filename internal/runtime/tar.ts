// A minimal ustar writer: regular files, directories and symlinks — all an image layer built from
// busybox needs. Deliberately hand-written (~50 lines) rather than pulling a tar package: we only
// write, never parse, and only three entry types.

export type TarEntry =
  | { type: "file"; path: string; data: Uint8Array; mode?: number }
  | { type: "dir"; path: string; mode?: number }
  | { type: "symlink"; path: string; target: string };

const enc = new TextEncoder();

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, size: number, mode: number, typeflag: string, linkname = ""): Uint8Array {
  const h = new Uint8Array(512);
  let prefix = "";
  if (name.length > 100) {
    // ustar splits long names into prefix (155) + name (100) at a slash.
    const cut = name.lastIndexOf("/", 155);
    if (cut < 0 || name.length - cut - 1 > 100) throw new Error(`tar: path too long: ${name}`);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  const put = (s: string, off: number) => h.set(enc.encode(s), off);
  put(name, 0);
  put(octal(mode, 8), 100);
  put(octal(0, 8), 108); // uid
  put(octal(0, 8), 116); // gid
  put(octal(size, 12), 124);
  put(octal(0, 12), 136); // mtime 0: reproducible layers
  put("        ", 148); // checksum placeholder
  put(typeflag, 156);
  put(linkname, 157);
  put("ustar\0", 257);
  put("00", 263);
  put(prefix, 345);
  let sum = 0;
  for (const b of h) sum += b;
  put(octal(sum, 7) + " ", 148);
  return h;
}

/** Serialises entries into an uncompressed tar archive. */
export function writeTar(entries: TarEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, "");
    if (e.type === "file") {
      chunks.push(header(path, e.data.length, e.mode ?? 0o644, "0"));
      chunks.push(e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) chunks.push(new Uint8Array(pad));
    } else if (e.type === "dir") {
      chunks.push(header(path.endsWith("/") ? path : path + "/", 0, e.mode ?? 0o755, "5"));
    } else {
      chunks.push(header(path, 0, 0o777, "2", e.target));
    }
  }
  chunks.push(new Uint8Array(1024)); // end-of-archive marker
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
