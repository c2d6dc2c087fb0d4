// Issue #10 item 9 (controllers): DaemonSet and StatefulSet ControllerRevisions carry the owner's annotations
// so `kubectl rollout history` shows the change-cause; the CronJob controller reports a schedule that never
// fires (and an unknown time zone) with upstream's events.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Event } from "kubernetes-types/core/v1";
import { refs } from "../../internal/client/refs.ts";
import { kubectlOK } from "../helpers/cluster.ts";
import { startEnv, waitFor, type Env } from "./env.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ nodes: 1 });
});
afterAll(async () => {
  await env?.stop();
});

function kubectl(args: string[], stdin?: string): Promise<string> {
  return kubectlOK(env.cluster, args, stdin);
}

function manifest(kind: "DaemonSet" | "StatefulSet", name: string, image: string, cause: string): string {
  const sts = kind === "StatefulSet" ? `  serviceName: ${name}\n  replicas: 1\n` : "";
  return `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: ${name}
  namespace: default
  annotations: {kubernetes.io/change-cause: "${cause}"}
spec:
${sts}  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {automountServiceAccountToken: false, containers: [{name: c, image: ${image}}]}
`;
}

describe("rollout history shows the change-cause", () => {
  for (const [kind, short] of [["DaemonSet", "ds"], ["StatefulSet", "sts"]] as const) {
    test(`${kind}`, async () => {
      const name = `hist-${short}`;
      await kubectl(["apply", "-f", "-"], manifest(kind, name, "pause:1", "first image"));
      await waitFor(`${kind} revision 1`, async () => (await kubectl(["rollout", "history", `${short}/${name}`])).includes("first image"));
      await kubectl(["apply", "-f", "-"], manifest(kind, name, "pause:2", "second image"));
      const history = await waitFor(`${kind} revision 2`, async () => {
        const out = await kubectl(["rollout", "history", `${short}/${name}`]);
        return out.includes("second image") && out;
      });
      expect(history).toMatch(/^1\s+first image$/m);
      expect(history).toMatch(/^2\s+second image$/m);
      // The revision itself carries the owner's annotations, as upstream's.
      const revs = JSON.parse(await kubectl(["get", "controllerrevisions", "-l", `app=${name}`, "-o", "json"])).items;
      expect(revs.map((r: any) => r.metadata.annotations?.["kubernetes.io/change-cause"]).sort()).toEqual(["first image", "second image"]);
    });
  }
});

describe("cronjob schedule events", () => {
  const eventsFor = async (name: string) =>
    (await env.client.resource<Event>(refs.events, "default").list()).items.filter((e) => e.involvedObject?.name === name && e.involvedObject?.kind === "CronJob");

  test("a schedule that never fires is Warning InvalidSchedule with upstream's message", async () => {
    await kubectl(["create", "cronjob", "feb30", "--image=busybox", "--schedule=0 0 30 2 *"]);
    const ev = await waitFor("InvalidSchedule event", async () => (await eventsFor("feb30")).find((e) => e.reason === "InvalidSchedule"));
    expect(ev.type).toBe("Warning");
    expect(ev.message).toBe("invalid schedule: 0 0 30 2 * : time difference between two schedules is less than 1 second");
    expect(ev.source?.component).toBe("cronjob-controller");
    const described = await kubectl(["describe", "cronjob", "feb30"]);
    expect(described).toMatch(/Warning\s+InvalidSchedule\s+.*invalid schedule: 0 0 30 2 \* : time difference between two schedules is less than 1 second/);
    expect(JSON.parse(await kubectl(["get", "jobs", "-o", "json"])).items.filter((j: any) => j.metadata.name.startsWith("feb30"))).toEqual([]);
  });
});
