// Encodes JSON objects as Kubernetes protobuf (application/vnd.kubernetes.protobuf): the inverse of decode.ts,
// driven by the same field table (schema.generated.json). Objects go out as upstream's protobuf serializer
// writes them: the "k8s\0" magic, then a runtime.Unknown {typeMeta, raw, contentEncoding, contentType}
// whose raw is the object's message; watch streams are 4-byte big-endian length-prefixed WatchEvent
// messages whose object (a RawExtension) holds an enveloped object.
// Fields are written in field-number order, as Go's generated marshallers do; a field absent from the JSON
// is not written (Go reads absent and zero alike). Fields the table doesn't know (newer than the .proto) are
// dropped, as they would be by a Go client's typed decoding.
import type { FieldSpec } from "./generate.ts";
import { LISTS, MAGIC, MESSAGES, META } from "./tables.ts";

const utf8 = new TextEncoder();

export class ProtobufEncodeError extends Error {}

/** Growable byte buffer with protobuf's primitive writers. */
class Writer {
  buf = new Uint8Array(256);
  len = 0;
  private ensure(n: number) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number) {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  /** Unsigned varint of a non-negative safe integer or a bigint (negative int64s as 10-byte two's complement). */
  varint(v: number | bigint) {
    let n = typeof v === "bigint" ? BigInt.asUintN(64, v) : v >= 0 && v <= 0xffffffff ? v : BigInt.asUintN(64, BigInt(Math.trunc(v)));
    this.ensure(10);
    if (typeof n === "number") {
      while (n > 0x7f) {
        this.buf[this.len++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      this.buf[this.len++] = n;
      return;
    }
    while (n > 0x7fn) {
      this.buf[this.len++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.len++] = Number(n);
  }
  tag(num: number, wire: number) {
    this.varint(num * 8 + wire);
  }
  bytes(num: number, b: Uint8Array) {
    this.tag(num, 2);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  fixed(num: number, wire: 1 | 5, v: number) {
    this.tag(num, wire);
    this.ensure(8);
    const dv = new DataView(this.buf.buffer, this.len, wire === 1 ? 8 : 4);
    if (wire === 1) dv.setFloat64(0, v, true);
    else dv.setFloat32(0, v, true);
    this.len += wire === 1 ? 8 : 4;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** RFC 3339 (with optional fraction) → [seconds, nanos]. */
function parseTime(s: unknown): [number, number] | undefined {
  if (typeof s !== "string" || s === "") return undefined;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new ProtobufEncodeError(`invalid time ${JSON.stringify(s)}`);
  const frac = /\.(\d+)/.exec(s)?.[1] ?? "";
  const nanos = frac ? Number(frac.slice(0, 9).padEnd(9, "0")) : 0;
  return [Math.floor(ms / 1000), nanos];
}

/** Go's time.ParseDuration for what metav1.Duration marshals ("1h2m3.5s", "300ms", "-5s"). */
function parseDuration(s: unknown): number {
  if (typeof s !== "string") throw new ProtobufEncodeError(`invalid duration ${JSON.stringify(s)}`);
  const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 };
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest) {
    const m = re.exec(rest);
    if (!m) throw new ProtobufEncodeError(`invalid duration ${JSON.stringify(s)}`);
    total += Number(m[1]) * UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

function writeScalar(w: Writer, num: number, type: string, v: unknown): void {
  switch (type) {
    case "string":
      if (typeof v !== "string") throw new ProtobufEncodeError(`expected a string, got ${typeof v}`);
      return w.bytes(num, utf8.encode(v));
    case "bytes":
      if (typeof v !== "string") throw new ProtobufEncodeError(`expected base64 bytes, got ${typeof v}`);
      return w.bytes(num, Buffer.from(v, "base64"));
    case "bool":
      if (typeof v !== "boolean") throw new ProtobufEncodeError(`expected a boolean, got ${typeof v}`);
      w.tag(num, 0);
      return w.varint(v ? 1 : 0);
    case "int32":
    case "int64":
    case "uint32":
    case "uint64":
      if (typeof v !== "number" || !Number.isInteger(v)) throw new ProtobufEncodeError(`expected an integer, got ${JSON.stringify(v)}`);
      w.tag(num, 0);
      return w.varint(v);
    case "double":
      if (typeof v !== "number") throw new ProtobufEncodeError(`expected a number, got ${typeof v}`);
      return w.fixed(num, 1, v);
    case "float":
      if (typeof v !== "number") throw new ProtobufEncodeError(`expected a number, got ${typeof v}`);
      return w.fixed(num, 5, v);
  }
  throw new ProtobufEncodeError(`unknown scalar ${type}`);
}

/** The message body of a value whose JSON form is not an object of its fields (decode.ts special()). */
function specialBody(type: string, v: unknown): Uint8Array | undefined {
  const w = new Writer();
  switch (type) {
    case META + "Time":
    case META + "MicroTime": {
      const t = parseTime(v);
      // Upstream marshals a zero time as an empty message; otherwise seconds and nanos, both always written.
      if (t) {
        w.tag(1, 0);
        w.varint(t[0]);
        w.tag(2, 0);
        w.varint(t[1]);
      }
      return w.finish();
    }
    case META + "Duration":
      w.tag(1, 0);
      w.varint(parseDuration(v));
      return w.finish();
    case "k8s.io.apimachinery.pkg.api.resource.Quantity":
      w.bytes(1, utf8.encode(String(v)));
      return w.finish();
    case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
      // type, intVal and strVal are all written, as Go's generated marshaller does for non-pointer fields.
      if (typeof v === "number") {
        w.tag(1, 0);
        w.varint(0);
        w.tag(2, 0);
        w.varint(v);
        w.bytes(3, new Uint8Array(0));
      } else {
        w.tag(1, 0);
        w.varint(1);
        w.tag(2, 0);
        w.varint(0);
        w.bytes(3, utf8.encode(String(v)));
      }
      return w.finish();
    case "k8s.io.apimachinery.pkg.runtime.RawExtension":
    case META + "FieldsV1":
      w.bytes(1, utf8.encode(JSON.stringify(v)));
      return w.finish();
  }
  if (LISTS.has(type)) return messageBody(type, { items: v });
  return undefined;
}

function writeValue(w: Writer, num: number, type: string, v: unknown): void {
  if (!MESSAGES[type]) return writeScalar(w, num, type, v);
  w.bytes(num, valueBody(type, v));
}

function valueBody(type: string, v: unknown): Uint8Array {
  const special = specialBody(type, v);
  if (special) return special;
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ProtobufEncodeError(`expected an object for ${type}`);
  return messageBody(type, v as Record<string, unknown>);
}

/** Field numbers of each message in ascending order (cached). */
const ORDER = new Map<string, [number, FieldSpec][]>();
function fieldsOf(type: string): [number, FieldSpec][] {
  let f = ORDER.get(type);
  if (!f) {
    f = Object.entries(MESSAGES[type]!)
      .map(([n, s]) => [Number(n), s] as [number, FieldSpec])
      .sort((a, b) => a[0] - b[0]);
    ORDER.set(type, f);
  }
  return f;
}

function messageBody(type: string, obj: Record<string, unknown>): Uint8Array {
  const w = new Writer();
  for (const [num, [name, ftype, flags]] of fieldsOf(type)) {
    if (flags === "i") {
      // Embedded Go struct: its fields sit in the parent's JSON (nothing written when none is set).
      const inner = messageBody(ftype, obj);
      if (inner.length) w.bytes(num, inner);
      continue;
    }
    if (!Object.hasOwn(obj, name)) continue;
    const v = obj[name];
    if (v === null || v === undefined) continue;
    if (flags === "m") {
      if (typeof v !== "object" || Array.isArray(v)) throw new ProtobufEncodeError(`${name}: expected a map`);
      const [kt, vt] = ftype.split(",") as [string, string];
      // Go's generated marshallers write map entries sorted by key.
      for (const k of Object.keys(v).sort()) {
        const e = new Writer();
        writeScalar(e, 1, kt, k);
        const ev = (v as Record<string, unknown>)[k];
        if (ev !== null && ev !== undefined) writeValue(e, 2, vt, ev);
        w.bytes(num, e.finish());
      }
      continue;
    }
    if (flags === "r") {
      if (!Array.isArray(v)) throw new ProtobufEncodeError(`${name}: expected a list`);
      for (const item of v) writeValue(w, num, ftype, item);
      continue;
    }
    writeValue(w, num, ftype, v);
  }
  return w.finish();
}

/** The message type of a top-level object (as decode.ts resolves it), or undefined if not in the table. */
export function protobufType(apiVersion: unknown, kind: unknown): string | undefined {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !kind) return undefined;
  const [group, version] = apiVersion.includes("/") ? (apiVersion.split("/") as [string, string]) : ["", apiVersion];
  const pkg = group === "" ? "core" : group.split(".")[0]!;
  // Only groups whose proto package is the group's first label (k8s.io/api/<pkg>/<version>).
  const candidates = group === "meta.k8s.io" || (group === "" && kind === "Status") ? [`${META}${kind}`] : [`k8s.io.api.${pkg}.${version}.${kind}`, `${META}${kind}`];
  return candidates.find((t) => MESSAGES[t]);
}

export function canEncode(obj: unknown): boolean {
  const o = obj as Record<string, unknown> | null;
  return !!o && typeof o === "object" && protobufType(o.apiVersion, o.kind) !== undefined;
}

/** The object's message without the envelope (upstream's "raw" protobuf serializer). */
export function encodeMessage(obj: Record<string, unknown>): Uint8Array {
  const type = protobufType(obj.apiVersion, obj.kind);
  if (!type) throw new ProtobufEncodeError(`no protobuf schema for ${String(obj.apiVersion)}/${String(obj.kind)}`);
  return messageBody(type, obj);
}

/** "k8s\0" + runtime.Unknown envelope around the object's message. */
export function encodeKubernetesProtobuf(obj: Record<string, unknown>): Uint8Array {
  const raw = encodeMessage(obj);
  const tm = new Writer();
  tm.bytes(1, utf8.encode(String(obj.apiVersion ?? "")));
  tm.bytes(2, utf8.encode(String(obj.kind ?? "")));
  const w = new Writer();
  for (const b of MAGIC) w.byte(b);
  w.bytes(1, tm.finish());
  w.bytes(2, raw);
  // Upstream always writes the (empty) contentEncoding and contentType.
  w.bytes(3, new Uint8Array(0));
  w.bytes(4, new Uint8Array(0));
  return w.finish();
}

/** One frame of a protobuf watch stream: 4-byte big-endian length, then the WatchEvent message. */
export function encodeWatchFrame(type: string, obj: Record<string, unknown>): Uint8Array {
  const raw = new Writer();
  raw.bytes(1, encodeKubernetesProtobuf(obj));
  const ev = new Writer();
  ev.bytes(1, utf8.encode(type));
  ev.bytes(2, raw.finish());
  const body = ev.finish();
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, 4);
  return out;
}
