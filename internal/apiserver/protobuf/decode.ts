// Decodes Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf, which kubectl's typed
// commands such as `create secret` or `auth can-i` send) into the JSON form of the object.
// Hand-written wire decoding (~150 lines) driven by the field table generated from upstream's .proto files:
// protobufjs would need the .proto sources at run time and still not know Kubernetes' JSON mapping
// (Time, Quantity, IntOrString, inlined structs, byte maps).
import type { FieldSpec } from "./generate.ts";
import { LISTS, MAGIC, MESSAGES, META } from "./tables.ts";

const utf8 = new TextDecoder();

export class ProtobufError extends Error {}

class Reader {
  pos = 0;
  constructor(
    public buf: Uint8Array,
    public end = buf.length,
  ) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new ProtobufError("varint too long");
    }
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (len < 0 || this.pos + len > this.end) throw new ProtobufError("truncated field");
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  fixed(n: number): DataView {
    if (this.pos + n > this.end) throw new ProtobufError("truncated fixed field");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.fixed(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.fixed(4);
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
}

function scalar(type: string, wire: number, r: Reader): unknown {
  switch (type) {
    case "string":
      return utf8.decode(r.bytes());
    case "bytes":
      return Buffer.from(r.bytes()).toString("base64");
    case "bool":
      return r.varint() !== 0n;
    case "int32":
      return Number(BigInt.asIntN(32, r.varint()));
    case "int64":
      return Number(BigInt.asIntN(64, r.varint()));
    case "uint32":
    case "uint64":
      return Number(r.varint());
    case "double":
      return wire === 1 ? r.fixed(8).getFloat64(0, true) : Number(r.varint());
    case "float":
      return r.fixed(4).getFloat32(0, true);
  }
  throw new ProtobufError(`unknown scalar ${type}`);
}

const NUMERIC = new Set(["int32", "int64", "uint32", "uint64", "bool", "double", "float"]);

function rfc3339(seconds: number, nanos: number, micro: boolean): string | undefined {
  if (seconds === 0 && nanos === 0) return undefined;
  const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "");
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z` : `${iso}Z`;
}

/** Go's time.Duration.String(). */
function goDuration(nanos: number): string {
  if (nanos === 0) return "0s";
  const neg = nanos < 0;
  let n = Math.abs(nanos);
  let out = "";
  if (n < 1e9) {
    out = n < 1e3 ? `${n}ns` : n < 1e6 ? `${n / 1e3}µs` : `${n / 1e6}ms`;
  } else {
    const h = Math.floor(n / 3.6e12);
    n -= h * 3.6e12;
    const m = Math.floor(n / 6e10);
    n -= m * 6e10;
    const s = n / 1e9;
    out = (h ? `${h}h${m}m` : m ? `${m}m` : "") + `${s}s`;
  }
  return neg ? `-${out}` : out;
}

/** Messages with a JSON form of their own. */
function special(type: string, obj: Record<string, any>): { value: unknown } | undefined {
  switch (type) {
    case META + "Time":
      return { value: rfc3339(obj.seconds ?? 0, obj.nanos ?? 0, false) };
    case META + "MicroTime":
      return { value: rfc3339(obj.seconds ?? 0, obj.nanos ?? 0, true) };
    case META + "Duration":
      return { value: goDuration(obj.duration ?? 0) };
    case "k8s.io.apimachinery.pkg.api.resource.Quantity":
      return { value: obj.string ?? "0" };
    case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
      return { value: obj.type === 1 ? (obj.strVal ?? "") : (obj.intVal ?? 0) };
    case "k8s.io.apimachinery.pkg.runtime.RawExtension":
    case META + "FieldsV1": {
      const b64 = obj.raw ?? obj.Raw;
      if (!b64) return { value: undefined };
      return { value: JSON.parse(Buffer.from(b64, "base64").toString("utf8")) };
    }
  }
  if (LISTS.has(type)) return { value: obj.items ?? [] };
  return undefined;
}

function message(type: string, r: Reader): unknown {
  const spec = MESSAGES[type];
  if (!spec) throw new ProtobufError(`unknown message type ${type}`);
  const obj: Record<string, any> = {};
  while (r.pos < r.end) {
    const key = Number(r.varint());
    const num = key >>> 3;
    const wire = key & 7;
    const f: FieldSpec | undefined = spec[String(num)];
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [name, ftype, flags] = f;
    if (flags === "m") {
      const [kt, vt] = ftype.split(",") as [string, string];
      const er = new Reader(r.bytes());
      let k: unknown = "";
      let v: unknown = MESSAGES[vt] ? undefined : vt === "string" || vt === "bytes" ? "" : undefined;
      while (er.pos < er.end) {
        const ek = Number(er.varint());
        const en = ek >>> 3;
        const ew = ek & 7;
        if (en === 1) k = scalar(kt, ew, er);
        else if (en === 2) v = value(vt, ew, er);
        else er.skip(ew);
      }
      // Map keys are data: defineProperty keeps a "__proto__" key an ordinary entry.
      Object.defineProperty((obj[name] ??= {}), String(k), { value: v, writable: true, enumerable: true, configurable: true });
      continue;
    }
    if (flags === "r") {
      const list = (obj[name] ??= []) as unknown[];
      if (wire === 2 && NUMERIC.has(ftype)) {
        const pr = new Reader(r.bytes());
        while (pr.pos < pr.end) list.push(scalar(ftype, ftype === "double" ? 1 : ftype === "float" ? 5 : 0, pr));
      } else {
        list.push(value(ftype, wire, r));
      }
      continue;
    }
    const v = value(ftype, wire, r);
    if (flags === "i" && v && typeof v === "object") Object.assign(obj, v);
    // Go's JSON encoding omits empty strings, unset times and omitempty zeros ("z"); protobuf always sends
    // non-pointer fields.
    else if (flags === "z" && (v === 0 || v === false)) delete obj[name];
    else if (v !== "" && v !== undefined) obj[name] = v;
  }
  return obj;
}

function value(type: string, wire: number, r: Reader): unknown {
  if (!MESSAGES[type]) return scalar(type, wire, r);
  const obj = message(type, new Reader(r.bytes())) as Record<string, any>;
  // ObjectMeta.generation is omitempty in Go's JSON, but protobuf always carries it (0 on kinds without one).
  if (type === META + "ObjectMeta" && obj.generation === 0) delete obj.generation;
  const s = special(type, obj);
  return s ? s.value : obj;
}

function protoPackage(apiVersion: string): { pkg: string; version: string } {
  const [group, version] = apiVersion.includes("/") ? (apiVersion.split("/") as [string, string]) : ["", apiVersion];
  return { pkg: group === "" ? "core" : group.split(".")[0]!, version };
}

export function isProtobufEnvelope(buf: Uint8Array): boolean {
  return buf.length >= 4 && MAGIC.every((b, i) => buf[i] === b);
}

/** Decodes a "k8s\0" + runtime.Unknown envelope into a JSON object with apiVersion and kind set. */
export function decodeKubernetesProtobuf(buf: Uint8Array): Record<string, any> {
  if (!isProtobufEnvelope(buf)) throw new ProtobufError("missing the k8s protobuf magic prefix");
  const env = message("k8s.io.apimachinery.pkg.runtime.Unknown", new Reader(buf.subarray(4))) as Record<string, any>;
  const apiVersion: string = env.typeMeta?.apiVersion ?? "";
  const kind: string = env.typeMeta?.kind ?? "";
  if (!kind) throw new ProtobufError("the protobuf envelope does not name a kind");
  const raw = Buffer.from(env.raw ?? "", "base64");
  const { pkg, version } = protoPackage(apiVersion);
  const candidates = [`k8s.io.api.${pkg}.${version}.${kind}`, `${META}${kind}`];
  const type = candidates.find((t) => MESSAGES[t]);
  if (!type) throw new ProtobufError(`no protobuf schema for ${apiVersion}/${kind}`);
  const obj = message(type, new Reader(new Uint8Array(raw))) as Record<string, any>;
  return { apiVersion, kind, ...obj };
}
