// Encodes the Swagger 2.0 document as gnostic's openapi_v2.Document protobuf, the only form in which
// client-go fetches /openapi/v2 (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf;
// it proto.Unmarshals the body, no JSON fallback). Hand-written on purpose: we only ever encode, a dozen
// message types, so a protobuf library plus a .proto compile step would be more code than this.
// Field numbers are those of github.com/google/gnostic-models openapiv2/OpenAPIv2.proto.
import type { Schema } from "./definitions.ts";

class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(1024);
  private pos = 0;

  private ensure(n: number) {
    if (this.pos + n <= this.buf.length) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(Math.max(1024, n));
    this.pos = 0;
  }
  varint(v: number) {
    this.ensure(10);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  finish(): Uint8Array {
    this.chunks.push(this.buf.subarray(0, this.pos));
    const len = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(len);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

const enc = new TextEncoder();
type Msg = (w: Writer) => void;

function tag(w: Writer, field: number, wire: number) {
  w.varint((field << 3) | wire);
}
function str(w: Writer, field: number, v: unknown) {
  if (typeof v !== "string" || v === "") return;
  const b = enc.encode(v);
  tag(w, field, 2);
  w.varint(b.length);
  w.bytes(b);
}
function bool(w: Writer, field: number, v: unknown) {
  if (v !== true) return;
  tag(w, field, 0);
  w.varint(1);
}
function int(w: Writer, field: number, v: unknown) {
  if (typeof v !== "number" || v === 0) return;
  tag(w, field, 0);
  w.varint(v);
}
function msg(w: Writer, field: number, body: Msg) {
  const inner = new Writer();
  body(inner);
  const b = inner.finish();
  tag(w, field, 2);
  w.varint(b.length);
  w.bytes(b);
}

/** gnostic Any: the value as YAML text (JSON is valid YAML). */
function any(value: unknown): Msg {
  return (w) => str(w, 2, JSON.stringify(value));
}

/** repeated NamedAny vendor_extension for every x-* key. */
function extensions(w: Writer, field: number, obj: Schema) {
  for (const [k, v] of Object.entries(obj)) {
    if (!k.startsWith("x-")) continue;
    msg(w, field, (n) => {
      str(n, 1, k);
      msg(n, 2, any(v));
    });
  }
}

function schema(s: Schema): Msg {
  return (w) => {
    str(w, 1, s.$ref);
    str(w, 2, s.format);
    str(w, 3, s.title);
    str(w, 4, s.description);
    if (s.default !== undefined) msg(w, 5, any(s.default));
    for (const r of s.required ?? []) str(w, 19, r);
    for (const e of s.enum ?? []) msg(w, 20, any(e));
    if (s.additionalProperties !== undefined) {
      const ap = s.additionalProperties;
      msg(w, 21, (n) => (typeof ap === "boolean" ? bool(n, 2, ap) : msg(n, 1, schema(ap))));
    }
    if (s.type) msg(w, 22, (n) => str(n, 1, s.type));
    if (s.items) msg(w, 23, (n) => msg(n, 1, schema(s.items)));
    for (const a of s.allOf ?? []) msg(w, 24, schema(a));
    if (s.properties) {
      msg(w, 25, (n) => {
        for (const [name, p] of Object.entries(s.properties as Schema)) {
          msg(n, 1, (e) => {
            str(e, 1, name);
            msg(e, 2, schema(p));
          });
        }
      });
    }
    bool(w, 27, s.readOnly);
    extensions(w, 31, s);
  };
}

function parameter(p: Schema): Msg {
  // ParametersItem{parameter: Parameter{body_parameter | non_body_parameter{query|path sub-schema}}}
  return (w) =>
    msg(w, 1, (param) => {
      if (p.in === "body") {
        msg(param, 1, (b) => {
          str(b, 1, p.description);
          str(b, 2, p.name);
          str(b, 3, p.in);
          bool(b, 4, p.required);
          msg(b, 5, schema(p.schema));
        });
        return;
      }
      const sub = p.in === "path" ? 4 : p.in === "header" ? 1 : 3;
      msg(param, 2, (nb) =>
        msg(nb, sub, (q) => {
          // Query and path sub-schemas share the first fields; they differ from `type` on (allow_empty_value).
          bool(q, 1, p.required);
          str(q, 2, p.in);
          str(q, 3, p.description);
          str(q, 4, p.name);
          const off = sub === 3 ? 1 : 0;
          str(q, 5 + off, p.type);
          str(q, 6 + off, p.format);
          bool(q, 19 + off, p.uniqueItems);
        }),
      );
    });
}

function operation(o: Schema): Msg {
  return (w) => {
    for (const t of o.tags ?? []) str(w, 1, t);
    str(w, 2, o.summary);
    str(w, 3, o.description);
    str(w, 5, o.operationId);
    for (const t of o.produces ?? []) str(w, 6, t);
    for (const t of o.consumes ?? []) str(w, 7, t);
    for (const p of o.parameters ?? []) msg(w, 8, parameter(p));
    msg(w, 9, (rs) => {
      for (const [code, r] of Object.entries((o.responses ?? {}) as Schema)) {
        msg(rs, 1, (nr) => {
          str(nr, 1, code);
          msg(nr, 2, (rv) =>
            msg(rv, 1, (resp) => {
              str(resp, 1, r.description);
              if (r.schema) msg(resp, 2, (si) => msg(si, 1, schema(r.schema)));
            }),
          );
        });
      }
    });
    for (const s of o.schemes ?? []) str(w, 10, s);
    extensions(w, 13, o);
  };
}

const METHODS: [string, number][] = [["get", 2], ["put", 3], ["post", 4], ["delete", 5], ["options", 6], ["head", 7], ["patch", 8]];

/** The whole Swagger 2.0 document as an openapi_v2.Document message. */
export function encodeOpenAPIV2(doc: Schema): Uint8Array {
  const w = new Writer();
  str(w, 1, doc.swagger);
  msg(w, 2, (info) => {
    str(info, 1, doc.info?.title);
    str(info, 2, doc.info?.version);
  });
  msg(w, 8, (paths) => {
    for (const [path, item] of Object.entries((doc.paths ?? {}) as Schema)) {
      msg(paths, 2, (np) => {
        str(np, 1, path);
        msg(np, 2, (pi) => {
          for (const [method, field] of METHODS) if (item[method]) msg(pi, field, operation(item[method]));
          for (const p of item.parameters ?? []) msg(pi, 9, parameter(p));
        });
      });
    }
  });
  msg(w, 9, (defs) => {
    for (const [name, s] of Object.entries((doc.definitions ?? {}) as Schema)) {
      msg(defs, 1, (ns) => {
        str(ns, 1, name);
        msg(ns, 2, schema(s));
      });
    }
  });
  return w.finish();
}
