// The decode-time type walk (validation/types.ts) caches what it resolves from each schema $ref; these pin down
// its results so that the cache changes nothing.
import { describe, expect, test } from "bun:test";
import { typeMismatches } from "../../internal/apiserver/validation/index.ts";

const pod = { group: "", version: "v1", kind: "Pod" };

describe("typeMismatches", () => {
  test("finds wrong types in document order, with list indices and map keys in the field path", () => {
    const obj = JSON.parse(
      '{"metadata":{"labels":{"ok":"x","__proto__":3}},"spec":{"containers":[{"name":"a"},{"name":"b","ports":[{"containerPort":"80"}]}],' +
        '"overhead":{"cpu":1},"terminationGracePeriodSeconds":1.5}}',
    );
    for (let round = 0; round < 2; round++) {
      const out = typeMismatches(pod, obj);
      expect(out.map((m) => m.field)).toEqual([
        "metadata.labels[__proto__]",
        "spec.containers[1].ports[0].containerPort",
        "spec.terminationGracePeriodSeconds",
      ]);
      expect(out[0]!.goError).toBe("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string");
      expect(out[1]!.goError).toBe(
        "json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32",
      );
      expect(out[2]!.goError).toBe(
        "json: cannot unmarshal number 1.5 into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64",
      );
    }
  });

  test("IntOrString and Quantity take a number or a string, and are not walked into", () => {
    const obj = { spec: { containers: [{ name: "a", resources: { limits: { cpu: 1, memory: "1Gi" } }, readinessProbe: { httpGet: { port: "http" } } }] } };
    expect(typeMismatches(pod, obj)).toEqual([]);
    const bad = { spec: { containers: [{ name: "a", resources: { limits: { cpu: true } } }] } };
    expect(typeMismatches(pod, bad).map((m) => [m.field, m.expected])).toEqual([["spec.containers[0].resources.limits[cpu]", "string"]]);
  });

  test("a value of the wrong kind at an object or list position", () => {
    const out = typeMismatches(pod, { metadata: [], spec: { containers: { name: "a" } } });
    expect(out.map((m) => [m.field, m.found, m.expected])).toEqual([
      ["metadata", "array", "object"],
      ["spec.containers", "object", "array"],
    ]);
  });
});
