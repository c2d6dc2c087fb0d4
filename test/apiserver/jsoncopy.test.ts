// copyJSON replaces structuredClone on the write path: it must give the same result for every input.
import { describe, expect, test } from "bun:test";
import { copyJSON } from "../../internal/apiserver/jsoncopy.ts";
import { clone } from "../../internal/apiserver/objects.ts";
import { clone as patchClone } from "../../internal/apiserver/patch/json.ts";

describe("copyJSON", () => {
  test("is a deep copy equal to structuredClone's, sharing nothing with the input", () => {
    const pod = JSON.parse(
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},"managedFields":[{"fieldsV1":{"f:spec":{".":{}}}}]},' +
        '"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}],"args":["x",null,1.5,true,false]}]},"status":{}}',
    );
    pod.metadata.undef = undefined;
    const out = copyJSON(pod);
    expect(out).toStrictEqual(structuredClone(pod));
    expect("undef" in out.metadata).toBe(true);
    out.spec.containers[0].ports[0].containerPort = 81;
    out.metadata.labels.a = "changed";
    out.spec.containers[0].args.push("y");
    expect(pod.spec.containers[0].ports[0].containerPort).toBe(80);
    expect(pod.metadata.labels.a).toBe("b");
    expect(pod.spec.containers[0].args).toHaveLength(5);
    expect(copyJSON("s")).toBe("s");
    expect(copyJSON(null)).toBe(null);
    expect(copyJSON(7)).toBe(7);
  });

  test("__proto__, constructor and prototype stay ordinary own fields", () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"m":{"__proto__":[1]}}');
    const out = copyJSON(input) as any;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__", "constructor", "m"]);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")?.value).toEqual({ polluted: true });
    expect(out.polluted).toBeUndefined();
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(out.m, "__proto__")?.value).toEqual([1]);
    expect(JSON.stringify(out)).toBe(JSON.stringify(input));
  });

  test("objects without a prototype become plain objects, as with structuredClone", () => {
    const m = Object.create(null);
    m.k = { v: 1 };
    const out = copyJSON(m);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out).toStrictEqual(structuredClone(m));
  });

  test("values that are not plain JSON data are copied as structuredClone copies them", () => {
    const d = new Date(0);
    const bytes = new Uint8Array([1, 2, 3]);
    const out = copyJSON({ d, bytes, list: [new Map([["a", 1]])] }) as any;
    expect(out.d).toBeInstanceOf(Date);
    expect(out.d).not.toBe(d);
    expect(out.d.getTime()).toBe(0);
    expect(out.bytes).toBeInstanceOf(Uint8Array);
    expect([...out.bytes]).toEqual([1, 2, 3]);
    expect(out.list[0]).toBeInstanceOf(Map);
    expect(out.list[0].get("a")).toBe(1);
  });

  test("very deep values are copied too", () => {
    let deep: any = { leaf: true };
    for (let i = 0; i < 2000; i++) deep = { n: deep, a: [i] };
    const out = copyJSON(deep);
    expect(out).toStrictEqual(structuredClone(deep));
    expect(out.n).not.toBe(deep.n);
  });

  test("the clone helpers of the API server and the patchers use it", () => {
    const v = { a: [{ b: 1 }] };
    for (const c of [clone, patchClone]) {
      const out = c(v);
      expect(out).toStrictEqual(v);
      expect(out.a[0]).not.toBe(v.a[0]);
    }
    expect(clone(undefined)).toBeUndefined();
  });
});
