// Admission end to end through /usr/bin/kubectl: errors as a kubectl user sees them on a real cluster, and the
// defaults written into a created pod.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

let c: TestCluster;
beforeAll(async () => {
  c = await startTestCluster();
  // No controller manager runs in this cluster: create the ServiceAccount it would.
  expect((await c.kubectl(["create", "serviceaccount", "default", "-n", "default"])).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await c?.stop();
});

describe("admission via kubectl", () => {
  test("a created pod gets the ServiceAccount volume, default tolerations and priority", async () => {
    const r = await c.kubectl(["run", "p", "--image=busybox", "-n", "default"]);
    expect(r.stderr).toBe("");
    const pod = JSON.parse((await c.kubectl(["get", "pod", "p", "-n", "default", "-o", "json"])).stdout);
    expect(pod.spec.serviceAccountName).toBe("default");
    const vol = pod.spec.volumes.find((v: any) => v.name.startsWith("kube-api-access-"));
    expect(vol.projected.sources.map((s: any) => Object.keys(s)[0])).toEqual(["serviceAccountToken", "configMap", "downwardAPI"]);
    expect(pod.spec.containers[0].volumeMounts).toEqual([{ name: vol.name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }]);
    expect(pod.spec.tolerations).toEqual([
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ]);
    expect(pod.spec.priority).toBe(0);
    expect(pod.spec.preemptionPolicy).toBe("PreemptLowerPriority");
  });

  test("system namespaces can't be deleted", async () => {
    for (const ns of ["default", "kube-system", "kube-public"]) {
      const r = await c.kubectl(["delete", "namespace", ns]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted`);
    }
  });

  test("missing namespace → NotFound; terminating namespace → Forbidden", async () => {
    const missing = await c.kubectl(["run", "q", "--image=busybox", "-n", "nope"]);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): namespaces "nope" not found');
    expect((await c.kubectl(["create", "namespace", "dying"])).code).toBe(0);
    expect((await c.kubectl(["delete", "namespace", "dying", "--wait=false"])).code).toBe(0);
    // without a namespace controller the namespace stays Terminating
    const r = await c.kubectl(["create", "configmap", "x", "-n", "dying"]);
    expect(r.stderr.trim()).toBe(
      'error: failed to create configmap: configmaps "x" is forbidden: unable to create new content in namespace dying because it is being terminated',
    );
  });

  test("unknown PriorityClass and missing ServiceAccount are refused with upstream's messages", async () => {
    const pc = await c.kubectl(["run", "hi", "--image=busybox", "--overrides", JSON.stringify({ spec: { priorityClassName: "nope" } })]);
    expect(pc.stderr.trim()).toBe('Error from server (Forbidden): pods "hi" is forbidden: no PriorityClass with name nope was found');
    const sa = await c.kubectl(["run", "ghost", "--image=busybox", "--overrides", JSON.stringify({ spec: { serviceAccountName: "ghost" } })]);
    expect(sa.stderr.trim()).toBe(
      'Error from server (Forbidden): pods "ghost" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found',
    );
    const crit = await c.kubectl(["run", "crit", "--image=busybox", "--overrides", JSON.stringify({ spec: { priorityClassName: "system-node-critical" } })]);
    expect(crit.code).toBe(0);
    expect((await c.kubectl(["get", "pod", "crit", "-o", "jsonpath={.spec.priority}"])).stdout).toBe("2000001000");
  });
});

describe("system PriorityClasses", () => {
  test("exist from the start, as upstream", async () => {
    const r = await c.kubectl(["get", "priorityclasses", "-o", "jsonpath={range .items[*]}{.metadata.name}={.value}{\"\\n\"}{end}"]);
    expect(r.stdout.trim().split("\n").sort()).toEqual(["system-cluster-critical=2000000000", "system-node-critical=2000001000"]);
  });
});
