// Environment and volumes from the API: env from ConfigMap/Secret/fieldRef/resourceFieldRef, envFrom, and each
// volume type (emptyDir, emptyDir Memory, configMap, secret, hostPath, downwardAPI, projected ServiceAccount token).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { refs } from "../../internal/client/refs.ts";
import { run } from "../../internal/runtime/run.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "./setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-c"]);
  await env.client.resource(refs.configmaps, "default").create({ metadata: { name: "app-config" }, data: { greeting: "hello", "app.conf": "mode=fast\n" } });
  await env.client.resource(refs.secrets, "default").create({ metadata: { name: "app-secret" }, data: { password: Buffer.from("s3cret").toString("base64") } });
}, 120_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const pods = () => env.client.resource(refs.pods, "default");
const logs = async (name: string) => (await env.cluster.kubectl(["logs", name])).stdout;

test("env from values, ConfigMap, Secret, fieldRef, resourceFieldRef and envFrom, with $(VAR) expansion", async () => {
  await pods().create(
    busyboxPod("env-pod", "node-c", "env | sort; echo args: $0", { restartPolicy: "Never" }, {
      env: [
        { name: "PLAIN", value: "v1" },
        { name: "EXPANDED", value: "$(PLAIN)-x" },
        { name: "GREETING", valueFrom: { configMapKeyRef: { name: "app-config", key: "greeting" } } },
        { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "app-secret", key: "password" } } },
        { name: "MY_POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "MY_NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "MY_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "MEM_LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
        { name: "MISSING_OK", valueFrom: { configMapKeyRef: { name: "nope", key: "x", optional: true } } },
      ],
      envFrom: [{ configMapRef: { name: "app-config" }, prefix: "CM_" }],
      resources: { limits: { memory: "64Mi" } },
    }),
  );
  await waitPod(env, "env-pod", (p) => p.status?.phase === "Succeeded", "Succeeded");
  const out = await logs("env-pod");
  expect(out).toContain("PLAIN=v1\n");
  expect(out).toContain("EXPANDED=v1-x\n");
  expect(out).toContain("GREETING=hello\n");
  expect(out).toContain("PASSWORD=s3cret\n");
  expect(out).toContain("MY_POD=env-pod\n");
  expect(out).toContain("MY_NODE=node-c\n");
  expect(out).toMatch(/MY_IP=10\.42\.\d+\.\d+\n/);
  expect(out).toContain("MEM_LIMIT=64\n");
  expect(out).toContain("CM_greeting=hello\n");
  expect(out).toContain("KUBERNETES_SERVICE_HOST=10.43.0.1\n");
  expect(out).not.toContain("MISSING_OK");
}, 60_000);

test("a missing ConfigMap key keeps the container waiting with CreateContainerConfigError", async () => {
  await pods().create(
    busyboxPod("bad-env", "node-c", "true", {}, { env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "app-config", key: "nope" } } }] }),
  );
  const p = await waitPod(env, "bad-env", (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError", "CreateContainerConfigError");
  expect(p.status!.containerStatuses![0]!.state!.waiting!.message).toContain("couldn't find key nope in ConfigMap default/app-config");
  expect(p.status!.phase).toBe("Pending");
}, 60_000);

test("volumes: emptyDir (disk and Memory), configMap, secret, hostPath, downwardAPI, projected SA token", async () => {
  const hostDir = `${env.world.dir}/host-data`;
  await Bun.write(`${hostDir}/from-host`, "host file\n");
  const script = [
    "echo scratch > /scratch/f && cat /scratch/f",
    "grep ' /mem ' /proc/mounts | cut -d' ' -f3",
    "cat /cfg/greeting; echo",
    "cat /cfg/app.conf",
    "cat /sec/password; echo",
    "cat /host/from-host",
    "cat /info/name; echo; cat /info/labels; echo",
    "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo",
    "head -c 3 /var/run/secrets/kubernetes.io/serviceaccount/token; echo",
    "grep -c 'BEGIN CERTIFICATE' /var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
    "(echo ro-test > /cfg/x) 2>/dev/null || echo cfg-readonly",
  ].join("; ");
  const pod = busyboxPod("vols", "node-c", script, {
    restartPolicy: "Never",
    automountServiceAccountToken: true,
    volumes: [
      { name: "scratch", emptyDir: {} },
      { name: "mem", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
      { name: "cfg", configMap: { name: "app-config" } },
      { name: "sec", secret: { secretName: "app-secret", defaultMode: 0o400 } },
      { name: "host", hostPath: { path: hostDir, type: "Directory" } },
      { name: "info", downwardAPI: { items: [{ path: "name", fieldRef: { fieldPath: "metadata.name" } }, { path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
    ],
  } as any, {
    volumeMounts: [
      { name: "scratch", mountPath: "/scratch" },
      { name: "mem", mountPath: "/mem" },
      { name: "cfg", mountPath: "/cfg", readOnly: true },
      { name: "sec", mountPath: "/sec", readOnly: true },
      { name: "host", mountPath: "/host" },
      { name: "info", mountPath: "/info" },
    ],
  });
  pod.metadata!.labels = { app: "vols" };
  await pods().create(pod);
  const p = await waitPod(env, "vols", (p) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed", "finished");
  const out = await logs("vols");
  expect(p.status!.phase).toBe("Succeeded");
  expect(out.split("\n")).toEqual([
    "scratch",
    "tmpfs",
    "hello",
    "mode=fast",
    "s3cret",
    "host file",
    "vols",
    'app="vols"',
    "default",
    "eyJ",
    "1",
    "cfg-readonly",
    "",
  ]);
}, 60_000);

test("a downwardAPI volume with the pod's IP gets the address the pod was given (volumes without it are made alongside the network)", async () => {
  const pod = busyboxPod("ip-vol", "node-c", "cat /info/ip; echo; cat /proj/ip; echo; cat /plain/name; echo", {
    restartPolicy: "Never",
    volumes: [
      { name: "info", downwardAPI: { items: [{ path: "ip", fieldRef: { fieldPath: "status.podIP" } }] } },
      { name: "proj", projected: { sources: [{ downwardAPI: { items: [{ path: "ip", fieldRef: { fieldPath: "status.podIPs" } }] } }] } },
      { name: "plain", downwardAPI: { items: [{ path: "name", fieldRef: { fieldPath: "metadata.name" } }] } },
    ],
  } as any, {
    volumeMounts: [
      { name: "info", mountPath: "/info" },
      { name: "proj", mountPath: "/proj" },
      { name: "plain", mountPath: "/plain" },
    ],
  });
  await pods().create(pod);
  const p = await waitPod(env, "ip-vol", (p) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed", "finished");
  expect(p.status!.phase).toBe("Succeeded");
  expect(p.status!.podIP).toMatch(/^10\.42\.\d+\.\d+$/);
  const ip = p.status!.podIP!;
  expect((await logs("ip-vol")).split("\n")).toEqual([ip, ip, "ip-vol", ""]);
}, 60_000);

test("image pull failures: ErrImagePull then ImagePullBackOff; pull policy Never with a missing image → ErrImageNeverPull", async () => {
  // Port 1 on loopback refuses at once: no traffic leaves the machine.
  await pods().create(busyboxPod("no-image", "node-c", "true", {}, { image: "localhost:1/missing/image:v1", imagePullPolicy: "IfNotPresent" }));
  await pods().create(busyboxPod("never-pull", "node-c", "true", {}, { image: "example.invalid/none:v1", imagePullPolicy: "Never" }));
  const seen = new Set<string>();
  await waitPod(env, "no-image", (p) => {
    const r = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
    if (r) seen.add(r);
    return seen.has("ErrImagePull") && seen.has("ImagePullBackOff");
  }, "ErrImagePull then ImagePullBackOff", 60_000);
  const p = await pods().get("no-image");
  expect(p.status.containerStatuses[0].state.waiting.message).toContain("localhost:1/missing/image:v1");
  const n = await waitPod(env, "never-pull", (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImageNeverPull", "ErrImageNeverPull");
  expect(n.status!.containerStatuses![0]!.state!.waiting!.message).toBe('Container image "example.invalid/none:v1" is not present with pull policy of Never');
}, 90_000);

test("the Node: labels, capacity/allocatable, addresses, nodeInfo, kubelet endpoint, conditions; Lease in kube-node-lease", async () => {
  const node: any = await env.client.resource(refs.nodes).get("node-c");
  expect(node.metadata.labels["kubernetes.io/hostname"]).toBe("node-c");
  expect(node.metadata.labels["kubernetes.io/os"]).toBe("linux");
  expect(node.metadata.labels["kubernetes.io/arch"]).toBeTruthy();
  expect(Number(node.status.capacity.cpu)).toBeGreaterThan(0);
  expect(node.status.capacity.pods).toBe("110");
  expect(node.status.capacity.memory).toMatch(/^\d+Ki$/);
  expect(node.status.allocatable["ephemeral-storage"]).toMatch(/^\d+Ki$/);
  expect(node.status.addresses).toEqual([
    { type: "InternalIP", address: env.nodes[0]!.ip },
    { type: "Hostname", address: "node-c" },
  ]);
  expect(node.status.nodeInfo.kubeletVersion).toBe("v1.32.0+kubun");
  expect(node.status.nodeInfo.containerRuntimeVersion).toStartWith("containerd://1.");
  expect(node.status.nodeInfo.operatingSystem).toBe("linux");
  expect(node.status.daemonEndpoints.kubeletEndpoint.Port).toBeGreaterThan(0);
  expect(node.status.conditions.map((c: any) => `${c.type}=${c.status}`).sort()).toEqual(["DiskPressure=False", "MemoryPressure=False", "PIDPressure=False", "Ready=True"]);
  const lease: any = await env.client.resource(refs.leases, "kube-node-lease").get("node-c");
  expect(lease.spec.holderIdentity).toBe("node-c");
  expect(lease.spec.leaseDurationSeconds).toBe(40);
  const t0 = lease.spec.renewTime;
  const renewed: any = await waitFor("lease renewal", async () => {
    const l: any = await env.client.resource(refs.leases, "kube-node-lease").get("node-c");
    return l.spec.renewTime !== t0 ? l : undefined;
  }, 25_000);
  expect(new Date(renewed.spec.renewTime).getTime()).toBeGreaterThan(new Date(t0).getTime());
}, 60_000);

test("securityContext (runAsUser/Group, readOnlyRootFilesystem, capabilities, privileged) and cgroup limits", async () => {
  await pods().create(
    busyboxPod("secure", "node-c", "id -u; id -g; (touch /rootfs-write) 2>/dev/null || echo read-only; grep CapEff /proc/self/status; exec sleep 3600", {}, {
      securityContext: { runAsUser: 1234, runAsGroup: 5678, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
      resources: { limits: { cpu: "250m", memory: "48Mi" }, requests: { cpu: "100m" } },
    }),
  );
  await pods().create(
    busyboxPod("priv", "node-c", "grep CapEff /proc/self/status; ip link set lo mtu 60000 && echo net-admin-ok", { restartPolicy: "Never" }, {
      securityContext: { privileged: true },
    }),
  );
  await pods().create(
    busyboxPod("netadmin", "node-c", "ip link set lo mtu 60000 && echo net-admin-ok", { restartPolicy: "Never" }, {
      securityContext: { capabilities: { add: ["NET_ADMIN"] } },
    }),
  );
  const p = await waitPod(env, "secure", (p) => p.status?.phase === "Running", "Running");
  await Bun.sleep(500);
  expect((await logs("secure")).split("\n")).toEqual(["1234", "5678", "read-only", "CapEff:\t0000000000000000", ""]);
  await waitPod(env, "priv", (p) => p.status?.phase === "Succeeded", "Succeeded");
  const priv = await logs("priv");
  expect(priv).toContain("net-admin-ok");
  expect(priv).not.toContain("CapEff:\t0000000000000000");
  await waitPod(env, "netadmin", (p) => p.status?.phase === "Succeeded", "Succeeded");
  expect(await logs("netadmin")).toBe("net-admin-ok\n");
  // The limits are in the container's cgroup (cgroup v1 layout on this host, v2 elsewhere).
  const id = p.status!.containerStatuses![0]!.containerID!.replace("containerd://", "");
  const cg = `/${env.nodes[0]!.namespace}/pod${p.metadata!.uid}/${id}`;
  const read = async (...paths: string[]) => {
    const { readFileSync } = await import("node:fs");
    for (const x of paths) {
      try {
        return readFileSync(x, "utf8").trim();
      } catch {}
    }
    return "";
  };
  const quota = await read(`/sys/fs/cgroup/cpu${cg}/cpu.cfs_quota_us`, `/sys/fs/cgroup/cpu,cpuacct${cg}/cpu.cfs_quota_us`, `/sys/fs/cgroup${cg}/cpu.max`);
  expect(quota.split(" ")[0]).toBe("25000");
  const mem = await read(`/sys/fs/cgroup/memory${cg}/memory.limit_in_bytes`, `/sys/fs/cgroup${cg}/memory.max`);
  expect(mem).toBe(String(48 * 1024 * 1024));
}, 60_000);
