// Issue #10 item 8: protobuf responses (Accept: application/vnd.kubernetes.protobuf) for objects, lists,
// watch streams and Status, checked byte for byte on a small object, by round trips through the request
// decoder, over HTTP, and with real kubectl (its typed commands read protobuf answers).
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { decodeKubernetesProtobuf } from "../../internal/apiserver/protobuf/decode.ts";
import { encodeKubernetesProtobuf, encodeMessage, encodeWatchFrame, protobufType } from "../../internal/apiserver/protobuf/encode.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { RESOURCES, groupVersion } from "../../internal/api/resources.ts";

setDefaultTimeout(60_000);
const PB = "application/vnd.kubernetes.protobuf";
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Reads one length-delimited field set: [fieldNumber, wireType, value bytes or number][] (test-side decoder). */
function fields(buf: Uint8Array): [number, number, Uint8Array | number][] {
  const out: [number, number, Uint8Array | number][] = [];
  let i = 0;
  const varint = () => {
    let v = 0;
    let s = 0;
    for (;;) {
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** s;
      if (!(b & 0x80)) return v;
      s += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) out.push([key >>> 3, 0, varint()]);
    else if (wire === 2) {
      const n = varint();
      out.push([key >>> 3, 2, buf.subarray(i, i + n)]);
      i += n;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

/** A protobuf watch stream → [type, object] events (frames: 4-byte big-endian length + WatchEvent). */
function watchEvents(buf: Uint8Array): [string, any][] {
  const out: [string, any][] = [];
  let i = 0;
  while (i + 4 <= buf.length) {
    const n = new DataView(buf.buffer, buf.byteOffset + i, 4).getUint32(0, false);
    if (i + 4 + n > buf.length) break;
    const ev = fields(buf.subarray(i + 4, i + 4 + n));
    const type = new TextDecoder().decode(ev.find((f) => f[0] === 1)![2] as Uint8Array);
    const rawExt = fields(ev.find((f) => f[0] === 2)![2] as Uint8Array);
    out.push([type, decodeKubernetesProtobuf(rawExt.find((f) => f[0] === 1)![2] as Uint8Array)]);
    i += 4 + n;
  }
  return out;
}

describe("encoder", () => {
  test("bytes of a small ConfigMap, derived by hand from the .proto field numbers", () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: { k: "v" } };
    // ConfigMap: metadata = 1 (ObjectMeta: name = 1), data = 2 (map entries: key = 1, value = 2).
    //   0a 03 [0a 01 'a']             metadata { name: "a" }
    //   12 06 [0a 01 'k' 12 01 'v']   data { key: "k", value: "v" }
    const raw = "0a030a0161" + "12060a016b120176";
    expect(hex(encodeMessage(cm))).toBe(raw);
    // Envelope: "k8s\0", runtime.Unknown { typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2,
    // contentEncoding = 3 (""), contentType = 4 ("") } — upstream writes the two empty strings too.
    const typeMeta = "0a02" + hex(Buffer.from("v1")) + "1209" + hex(Buffer.from("ConfigMap"));
    expect(hex(encodeKubernetesProtobuf(cm))).toBe("6b387300" + "0a0f" + typeMeta + "120d" + raw + "1a00" + "2200");
  });

  test("scalars: int32 -1 is ten bytes, bool, IntOrString both ways, Quantity, Time as seconds+nanos", () => {
    const b = encodeMessage({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { creationTimestamp: "1970-01-01T00:00:10Z" },
      spec: { priority: -1, hostNetwork: true },
    });
    // metadata(1){creationTimestamp(8){seconds(1)=10, nanos(2)=0}}, spec(2){hostNetwork(11)=1, priority(25)=-1}
    expect(hex(b)).toBe("0a06" + "4204" + "080a1000" + "120e" + "5801" + "c801" + "ffffffffffffffffff01");
    const svcPort = encodeMessage({ apiVersion: "v1", kind: "Service", spec: { ports: [{ port: 80, targetPort: "http" }, { port: 81, targetPort: 8081 }] } });
    // ServicePort: port = 3, targetPort = 4 (IntOrString: type = 1, intVal = 2, strVal = 3, all written;
    // 8081 = 0x1f91 → varint 91 3f)
    expect(hex(svcPort)).toContain("1850" + "220a" + "0801" + "1000" + "1a04" + hex(Buffer.from("http")));
    expect(hex(svcPort)).toContain("1851" + "2207" + "0800" + "10" + "913f" + "1a00");
  });

  test("round trips through the request decoder: Pod, PodList, Status, WatchEvent", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "p",
        namespace: "default",
        uid: "0b1c",
        labels: { b: "2", a: "1", ["__proto__"]: "x" } as Record<string, string>,
        creationTimestamp: "2024-01-02T03:04:05Z",
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u", controller: true, blockOwnerDeletion: true }],
        managedFields: [{ manager: "kubectl", operation: "Apply", apiVersion: "v1", time: "2024-01-02T03:04:05Z", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:containers": {} } } }],
      },
      spec: {
        containers: [{
          name: "c",
          image: "busybox",
          command: ["sh", "-c"],
          resources: { limits: { cpu: "100m", memory: "64Mi" } },
          ports: [{ containerPort: 80, protocol: "TCP" }],
          livenessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 5 },
          env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "cm", key: "k" } } }],
        }],
        volumes: [{ name: "v", emptyDir: { sizeLimit: "1Gi" } }, { name: "s", secret: { secretName: "x", defaultMode: 420 } }],
        terminationGracePeriodSeconds: 30,
        enableServiceLinks: false,
        tolerations: [{ key: "k", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
      },
      status: { phase: "Running", podIP: "10.42.0.5", startTime: "2024-01-02T03:04:06Z", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2024-01-02T03:04:07Z" }] },
    };
    expect(decodeKubernetesProtobuf(encodeKubernetesProtobuf(pod))).toEqual(pod);

    const list = { apiVersion: "v1", kind: "PodList", metadata: { resourceVersion: "42", continue: "abc", remainingItemCount: 3 }, items: [pod, { ...pod, metadata: { ...pod.metadata, name: "q" } }] };
    const back = decodeKubernetesProtobuf(encodeKubernetesProtobuf(list));
    // As upstream, list items carry no apiVersion/kind of their own in protobuf.
    const bare = list.items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    expect(back).toEqual({ apiVersion: "v1", kind: "PodList", metadata: list.metadata, items: bare } as any);
    expect(Object.hasOwn(back.items[0].metadata.labels, "__proto__")).toBe(true);

    const status = {
      apiVersion: "v1",
      kind: "Status",
      metadata: {},
      status: "Failure",
      message: 'pods "x" not found',
      reason: "NotFound",
      details: { name: "x", kind: "pods", causes: [{ reason: "FieldValueInvalid", message: "bad", field: "spec" }] },
      code: 404,
    };
    expect(decodeKubernetesProtobuf(encodeKubernetesProtobuf(status))).toEqual(status);

    const frames = new Uint8Array([...encodeWatchFrame("ADDED", pod), ...encodeWatchFrame("ERROR", status)]);
    expect(watchEvents(frames)).toEqual([["ADDED", pod], ["ERROR", status]]);
  });
});

describe("over HTTP", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.stop();
  });

  const get = (path: string, accept: string, init: RequestInit = {}) => c.api(path, { ...init, headers: { Accept: accept, ...(init.headers ?? {}) } });

  test("object, list and Status in protobuf for client-go's Accept; JSON for JSON clients", async () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "pb" }, data: { a: "1" } };
    const created = await c.api("/api/v1/namespaces/default/configmaps", { method: "POST", body: JSON.stringify(cm), headers: { "Content-Type": "application/json", Accept: `${PB}, */*` } });
    expect(created.status).toBe(201);
    expect(created.headers.get("content-type")).toBe(PB);
    const obj = decodeKubernetesProtobuf(new Uint8Array(await created.arrayBuffer()));
    expect(obj).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "pb", namespace: "default" }, data: { a: "1" } });

    const one = await get("/api/v1/namespaces/default/configmaps/pb", `${PB}, */*`);
    expect(decodeKubernetesProtobuf(new Uint8Array(await one.arrayBuffer()))).toEqual(obj);

    const list = await get("/api/v1/namespaces/default/configmaps", `${PB}, */*`);
    expect(list.headers.get("content-type")).toBe(PB);
    const l = decodeKubernetesProtobuf(new Uint8Array(await list.arrayBuffer()));
    expect(l.kind).toBe("ConfigMapList");
    expect(Number(l.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(l.items.map((i: any) => i.metadata.name)).toContain("pb");

    const missing = await get("/api/v1/namespaces/default/configmaps/nope", `${PB}, */*`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe(PB);
    expect(decodeKubernetesProtobuf(new Uint8Array(await missing.arrayBuffer()))).toMatchObject({ kind: "Status", code: 404, reason: "NotFound", message: 'configmaps "nope" not found' });

    const asJSON = await get("/api/v1/namespaces/default/configmaps/pb", "application/json");
    expect(asJSON.headers.get("content-type")).toBe("application/json");
    // q-values: JSON preferred over protobuf.
    const weighted = await get("/api/v1/namespaces/default/configmaps/pb", `${PB};q=0.5, application/json`);
    expect(weighted.headers.get("content-type")).toBe("application/json");
  });

  test("kinds without a protobuf form: JSON when also accepted, else 406 as upstream", async () => {
    const both = await get("/apis/apiregistration.k8s.io/v1/apiservices", `${PB}, */*`);
    expect(both.status).toBe(200);
    expect(both.headers.get("content-type")).toBe("application/json");
    const only = await get("/apis/apiregistration.k8s.io/v1/apiservices", PB);
    expect(only.status).toBe(406);
    const table = await get("/api/v1/namespaces/default/configmaps", `${PB};as=Table;v=v1;g=meta.k8s.io, application/json`);
    expect(table.headers.get("content-type")).toBe("application/json");
    expect(((await table.json()) as any).kind).toBe("Table");
    const nothing = await get("/api/v1/namespaces/default/configmaps", "text/html");
    expect(nothing.status).toBe(406);
  });

  test("watch: length-prefixed WatchEvent frames with enveloped objects", async () => {
    const ac = new AbortController();
    const res = await get("/api/v1/namespaces/default/configmaps?watch=true&labelSelector=w%3D1", `${PB}, */*`, { signal: ac.signal });
    expect(res.headers.get("content-type")).toBe(`${PB};stream=watch`);
    const reader = res.body!.getReader();
    let buf = new Uint8Array(0);
    const events: [string, any][] = [];
    const create = c.api("/api/v1/namespaces/default/configmaps", { method: "POST", body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "watched", labels: { w: "1" } } }), headers: { "Content-Type": "application/json" } });
    await create;
    while (!events.some(([t]) => t === "ADDED")) {
      const { value, done } = await reader.read();
      if (done) break;
      buf = new Uint8Array([...buf, ...value!]);
      events.splice(0, events.length, ...watchEvents(buf));
    }
    ac.abort();
    // The stream opens with a BOOKMARK (nothing to list), then the new object.
    expect(events[0]![0]).toBe("BOOKMARK");
    const added = events.find(([t]) => t === "ADDED")!;
    expect(added[1]).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "watched", labels: { w: "1" } } });
  });

  test("every object of a fresh cluster round-trips through protobuf (kinds of k8s.io/api), others answer in JSON", async () => {
    await c.kubectl(["create", "deployment", "rt", "--image=nginx", "--replicas=2"]);
    await c.kubectl(["create", "cronjob", "rt", "--image=busybox", "--schedule=* * * * *"]);
    await c.kubectl(["create", "poddisruptionbudget", "rt", "--selector=app=rt", "--min-available=50%"]);
    // Go omits empty strings and nulls in JSON; protobuf can't tell them from absent.
    const norm = (v: any): any =>
      Array.isArray(v) ? v.map(norm) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== "" && x !== null).map(([k, x]) => [k, norm(x)])) : v;
    const kinds = new Set<string>();
    for (const ri of RESOURCES) {
      if (ri.virtual || ri.computed || !ri.verbs.includes("list")) continue;
      const res = await c.api(`${ri.group ? `/apis/${groupVersion(ri)}` : "/api/v1"}/${ri.resource}`, { headers: { Accept: `${PB}, */*` } });
      expect(res.status).toBe(200);
      if (!protobufType(groupVersion(ri), ri.kind)) {
        // Kinds outside k8s.io/api's protobuf packages (e.g. CRDs): JSON, which the client also accepts.
        expect(res.headers.get("content-type")).toBe("application/json");
        continue;
      }
      expect(`${ri.kind} ${res.headers.get("content-type")}`).toBe(`${ri.kind} ${PB}`);
      const list = decodeKubernetesProtobuf(new Uint8Array(await res.arrayBuffer()));
      const asJSON: any = await (await c.api(`${ri.group ? `/apis/${groupVersion(ri)}` : "/api/v1"}/${ri.resource}`)).json();
      // Protobuf list items carry no apiVersion/kind (upstream's JSON lists don't either).
      expect(norm(list.items ?? [])).toEqual(norm(asJSON.items.map(({ apiVersion: _a, kind: _k, ...rest }: any) => rest)));
      if (list.items?.length) kinds.add(ri.kind);
    }
    expect([...kinds]).toEqual(expect.arrayContaining(["Namespace", "ClusterRole", "Deployment", "CronJob", "PodDisruptionBudget", "PriorityClass", "FlowSchema", "RoleBinding"]));
  });

  test("real kubectl reads protobuf answers (typed commands: create secret, describe pod, auth can-i, AlreadyExists Status)", async () => {
    const s = await c.kubectl(["create", "secret", "generic", "pbs", "--from-literal=a=b", "-v=8"]);
    expect(s.stdout).toContain("secret/pbs created");
    expect(s.stderr).toMatch(/Response Headers:[\s\S]*Content-Type: application\/vnd\.kubernetes\.protobuf/);
    // describe reads through the typed clientset: Go's protobuf decoder on a pod with probes, quantities,
    // int-or-string ports, times, volumes and tolerations.
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "rich", labels: { app: "rich" }, annotations: { note: "x" } },
      spec: {
        nodeName: "n1",
        containers: [{
          name: "web",
          image: "nginx:1.25",
          ports: [{ name: "http", containerPort: 80 }],
          resources: { requests: { cpu: "250m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } },
          livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 7 },
          readinessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 3 },
          env: [{ name: "MODE", value: "fast" }],
          volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
        }],
        volumes: [{ name: "scratch", emptyDir: { sizeLimit: "1Gi" } }],
        tolerations: [{ key: "dedicated", operator: "Equal", value: "web", effect: "NoSchedule" }],
        automountServiceAccountToken: false,
      },
    };
    await c.kubectl(["create", "serviceaccount", "default"]);
    const made = await c.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(pod) });
    expect(made.stderr).toBe("");
    const d = await c.kubectl(["describe", "pod", "rich", "-v=8"]);
    expect(d.stderr).toMatch(/Content-Type: application\/vnd\.kubernetes\.protobuf/);
    for (const line of [/Liveness:\s+http-get http:\/\/:http\/healthz delay=0s timeout=1s period=7s/, /Readiness:\s+tcp-socket :80 delay=3s/, /cpu:\s+250m/, /memory:\s+128Mi/, /MODE:\s+fast/, /SizeLimit:\s+1Gi/, /dedicated=web:NoSchedule/, /Port:\s+80\/TCP/, /note: x|note=x/]) {
      expect(d.stdout).toMatch(line);
    }
    const can = await c.kubectl(["auth", "can-i", "create", "pods"]);
    expect(can.stdout.trim()).toBe("yes");
    const gone = await c.kubectl(["create", "secret", "generic", "pbs", "--from-literal=a=b"]);
    // The AlreadyExists Status arrives in protobuf and kubectl prints it as usual.
    expect(gone.stderr.trim()).toBe('error: failed to create secret secrets "pbs" already exists');
  });
});
