// Label and field selector parsing and matching, as upstream's labels.Parse / fields.ParseSelector.
import { describe, expect, test } from "bun:test";
import { findResource } from "../../internal/api/resources.ts";
import { matchFields, parseFieldSelector } from "../../internal/api/selectors/fields.ts";
import { formatLabelSelector, fromLabelSelectorObject, matchLabels, parseLabelSelector } from "../../internal/api/selectors/labels.ts";
import { StatusError } from "../../internal/api/status.ts";

const m = (sel: string, labels: Record<string, string>) => matchLabels(parseLabelSelector(sel), labels);

describe("label selectors", () => {
  test("equality, inequality, sets, existence", () => {
    expect(m("app=web", { app: "web" })).toBe(true);
    expect(m("app==web", { app: "db" })).toBe(false);
    expect(m("app!=web", {})).toBe(true);
    expect(m("app!=web", { app: "web" })).toBe(false);
    expect(m("env in (prod, staging)", { env: "staging" })).toBe(true);
    expect(m("env in (prod)", {})).toBe(false);
    expect(m("env notin (prod)", {})).toBe(true);
    expect(m("env notin (prod)", { env: "prod" })).toBe(false);
    expect(m("tier", { tier: "" })).toBe(true);
    expect(m("!tier", { tier: "x" })).toBe(false);
    expect(m("a=1,b in (2,3),!c", { a: "1", b: "3" })).toBe(true);
    expect(m("example.com/role=x", { "example.com/role": "x" })).toBe(true);
    expect(m("", { anything: "x" })).toBe(true);
    expect(m("n>3", { n: "5" })).toBe(true);
    expect(m("n<3", { n: "5" })).toBe(false);
  });

  test("bad syntax is a 400 BadRequest", () => {
    for (const bad of ["a b", "=x", "app=(x", "Bad Key=1", "a,,b", "x=" + "v".repeat(64)]) {
      let err: unknown;
      try {
        parseLabelSelector(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe(400);
    }
  });

  test("metav1.LabelSelector objects and their string form", () => {
    const sel = fromLabelSelectorObject({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }, { key: "x", operator: "DoesNotExist" }] });
    expect(formatLabelSelector(sel)).toBe("app=web,tier in (a,b),!x");
    expect(matchLabels(sel, { app: "web", tier: "a" })).toBe(true);
    expect(matchLabels(sel, { app: "web", tier: "a", x: "1" })).toBe(false);
  });
});

describe("field selectors", () => {
  const pods = findResource("", "v1", "pods")!;
  const pod = { metadata: { name: "p", namespace: "ns" }, spec: { nodeName: "n1", restartPolicy: "Always" }, status: { phase: "Running", podIP: "10.42.0.5" } };
  const f = (sel: string, obj: any, ri = pods) => matchFields(parseFieldSelector(sel, ri), ri, obj);

  test("pods fields", () => {
    expect(f("spec.nodeName=n1", pod)).toBe(true);
    expect(f("spec.nodeName=", pod)).toBe(false);
    expect(f("spec.nodeName!=,status.phase!=Succeeded", pod)).toBe(true);
    expect(f("status.podIP==10.42.0.5,metadata.namespace=ns", pod)).toBe(true);
    expect(f("spec.schedulerName=default-scheduler", pod)).toBe(false);
  });

  test("per-kind fields", () => {
    expect(f("type=kubernetes.io/tls", { metadata: {}, type: "kubernetes.io/tls" }, findResource("", "v1", "secrets")!)).toBe(true);
    expect(f("spec.unschedulable=false", { metadata: {}, spec: {} }, findResource("", "v1", "nodes")!)).toBe(true);
    expect(f("involvedObject.name=web,reason=Started", { metadata: {}, involvedObject: { name: "web" }, reason: "Started" }, findResource("", "v1", "events")!)).toBe(true);
    const ev = { metadata: {}, involvedObject: { name: "web", kind: "Pod" }, reportingComponent: "kubelet" };
    expect(f("regarding.name=web,regarding.kind=Pod,reportingController=kubelet", ev, findResource("events.k8s.io", "v1", "events")!)).toBe(true);
    expect(() => parseFieldSelector("involvedObject.name=web", findResource("events.k8s.io", "v1", "events")!)).toThrow("field label not supported");
    expect(f("status.successful=2", { metadata: {}, status: { succeeded: 2 } }, findResource("batch", "v1", "jobs")!)).toBe(true);
    expect(f("status.phase=Active", { metadata: {}, status: { phase: "Active" } }, findResource("", "v1", "namespaces")!)).toBe(true);
  });

  test("unsupported fields are rejected like upstream", () => {
    expect(() => parseFieldSelector("spec.nodeName=x", findResource("", "v1", "configmaps")!)).toThrow("field label not supported: spec.nodeName");
    expect(() => parseFieldSelector("nonsense", pods)).toThrow();
  });
});
