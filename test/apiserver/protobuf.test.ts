// The Kubernetes protobuf request decoder, on bodies built here with a minimal wire encoder
// (the kubectl tests cover what real kubectl sends).
import { describe, expect, test } from "bun:test";
import { decodeKubernetesProtobuf, isProtobufEnvelope } from "../../internal/apiserver/protobuf/decode.ts";

const enc = new TextEncoder();
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const field = (num: number, wire: number) => varint((num << 3) | wire);
const str = (num: number, s: string) => bytes(num, enc.encode(s));
const bytes = (num: number, b: Uint8Array | number[]) => [...field(num, 2), ...varint(b.length), ...b];
const int = (num: number, n: number) => [...field(num, 0), ...varint(n)];
const msg = (num: number, body: number[]) => bytes(num, body);

function envelope(apiVersion: string, kind: string, raw: number[]): Uint8Array {
  const typeMeta = [...str(1, apiVersion), ...str(2, kind)];
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...msg(1, typeMeta), ...bytes(2, raw)]);
}

describe("protobuf decoding", () => {
  test("Secret: ObjectMeta, map<string,bytes>, creationTimestamp, empty strings omitted", () => {
    const meta = [
      ...str(1, "creds"),
      ...str(3, "default"),
      ...str(5, ""), // uid: empty, as Go always sends it
      ...msg(8, [...int(1, 1700000000), ...int(2, 0)]), // creationTimestamp
      ...msg(11, [...str(1, "app"), ...str(2, "")]), // labels: app=""
    ];
    const raw = [...msg(1, meta), ...msg(2, [...str(1, "password"), ...bytes(2, enc.encode("s3cr3t"))]), ...str(3, "Opaque")];
    const buf = envelope("v1", "Secret", raw);
    expect(isProtobufEnvelope(buf)).toBe(true);
    expect(decodeKubernetesProtobuf(buf)).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: "default", creationTimestamp: "2023-11-14T22:13:20Z", labels: { app: "" } },
      data: { password: Buffer.from("s3cr3t").toString("base64") },
      type: "Opaque",
    });
  });

  test("Deployment: pointers to zero, IntOrString, Quantity, inlined VolumeSource, negative int", () => {
    const container = [
      ...str(1, "app"),
      ...str(2, "nginx"),
      ...msg(6, [...int(3, 80)]), // ports[0].containerPort
      ...msg(8, [...msg(2, [...str(1, "cpu"), ...msg(2, [...str(1, "100m")])])]), // resources.requests.cpu
    ];
    const volume = [...str(1, "data"), ...msg(2, [...msg(2, [...str(1, "Memory")])])]; // emptyDir.medium via inlined VolumeSource
    const podSpec = [...msg(1, volume), ...msg(2, container), ...int(4, -1)];
    const template = [...msg(1, [...msg(11, [...str(1, "app"), ...str(2, "web")])]), ...msg(2, podSpec)];
    const strategy = [...str(1, "RollingUpdate"), ...msg(2, [...msg(1, [...int(1, 1), ...str(3, "25%")]), ...msg(2, [...int(1, 0), ...int(2, 1)])])];
    const spec = [...int(1, 0), ...msg(2, [...msg(1, [...str(1, "app"), ...str(2, "web")])]), ...msg(3, template), ...msg(4, strategy)];
    const obj = decodeKubernetesProtobuf(envelope("apps/v1", "Deployment", [...msg(1, str(1, "web")), ...msg(2, spec)]));
    expect(obj.spec.replicas).toBe(0);
    expect(obj.spec.selector).toEqual({ matchLabels: { app: "web" } });
    expect(obj.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: 1 } });
    const ps = obj.spec.template.spec;
    expect(ps.terminationGracePeriodSeconds).toBe(-1);
    expect(ps.volumes).toEqual([{ name: "data", emptyDir: { medium: "Memory" } }]);
    expect(ps.containers[0]).toEqual({ name: "app", image: "nginx", ports: [{ containerPort: 80 }], resources: { requests: { cpu: "100m" } } });
  });

  test("garbage is rejected", () => {
    expect(() => decodeKubernetesProtobuf(new Uint8Array([1, 2, 3]))).toThrow();
    expect(() => decodeKubernetesProtobuf(envelope("v1", "NoSuchKind", []))).toThrow("no protobuf schema");
    expect(() => decodeKubernetesProtobuf(new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff]))).toThrow();
  });
});
