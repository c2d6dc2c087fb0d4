// Defaulting and validation: upstream's defaults per kind and the exact field errors (reason, field,
// message) the API returns in a 422 Status.
import { describe, expect, test } from "bun:test";
import { findKind, type ResourceInfo } from "../../internal/api/resources.ts";
import { decodeErrorMessage, defaultObject, duplicateFields, invalidMessage, typeErrors, unknownFields, validateObject, type Cause } from "../../internal/apiserver/validation/index.ts";

const ri = (group: string, kind: string): ResourceInfo => findKind(group, kind)!;
const POD = ri("", "Pod");
const SVC = ri("", "Service");
const DEPLOY = ri("apps", "Deployment");

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

function pod(spec: any = {}, meta: any = {}): any {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", ...meta }, spec: { containers: [{ name: "c", image: "nginx" }], ...spec } };
}

function deployment(over: (d: any) => void = () => {}): any {
  const d: any = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] } },
    },
  };
  over(d);
  return d;
}

/** Defaults then validates, like the API server does on create. */
function createErrors(r: ResourceInfo, obj: any): Cause[] {
  defaultObject(r, obj);
  return validateObject(r, obj);
}

const fields = (causes: Cause[]) => causes.map((c) => `${c.field}: ${c.message}`);

describe("defaulting", () => {
  test("pod and container defaults", () => {
    const p = pod({
      containers: [
        { name: "a", image: "nginx", ports: [{ containerPort: 80 }], livenessProbe: { httpGet: { port: 80 } } },
        { name: "b", image: "nginx:1.25" },
        { name: "c", image: "registry:5000/app:latest" },
        { name: "d", image: "registry:5000/app" },
        { name: "e", image: "app@sha256:abc" },
      ],
    });
    defaultObject(POD, p);
    expect(p.spec).toMatchObject({
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      terminationGracePeriodSeconds: 30,
      schedulerName: "default-scheduler",
      securityContext: {},
      enableServiceLinks: true,
    });
    // The "default" ServiceAccount is ServiceAccount admission's to set (mirror pods must not get one).
    expect(p.spec.serviceAccountName).toBeUndefined();
    expect(p.spec.containers.map((c: any) => c.imagePullPolicy)).toEqual(["Always", "IfNotPresent", "Always", "Always", "IfNotPresent"]);
    const a = p.spec.containers[0];
    expect(a.terminationMessagePath).toBe("/dev/termination-log");
    expect(a.terminationMessagePolicy).toBe("File");
    expect(a.ports[0].protocol).toBe("TCP");
    expect(a.resources).toEqual({});
    // Priority and tolerations belong to admission plugins, not defaulting.
    expect(p.spec.priority).toBeUndefined();
    expect(p.spec.tolerations).toBeUndefined();
    expect(a.livenessProbe).toMatchObject({ timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { path: "/", scheme: "HTTP" } });
    expect(p.status).toMatchObject({ phase: "Pending", qosClass: "BestEffort" });
  });

  test("explicit values are kept", () => {
    const p = pod({ restartPolicy: "Never", terminationGracePeriodSeconds: 0, containers: [{ name: "a", image: "x", imagePullPolicy: "Never" }] });
    defaultObject(POD, p);
    expect(p.spec.restartPolicy).toBe("Never");
    expect(p.spec.terminationGracePeriodSeconds).toBe(0);
    expect(p.spec.containers[0].imagePullPolicy).toBe("Never");
  });

  test("empty strings and zero probe timings count as unset (protobuf clients send them)", () => {
    const d = deployment((x) => {
      x.spec.strategy = { type: "" };
      x.spec.template.spec.restartPolicy = "";
      x.spec.template.spec.dnsPolicy = "";
      x.spec.template.spec.containers[0].imagePullPolicy = "";
      x.spec.template.spec.containers[0].terminationMessagePath = "";
      x.spec.template.spec.containers[0].ports = [{ containerPort: 80, protocol: "" }];
      x.spec.template.spec.containers[0].readinessProbe = { tcpSocket: { port: 80 }, timeoutSeconds: 0, periodSeconds: 0, successThreshold: 0, failureThreshold: 0 };
      x.spec.template.spec.tolerations = [{ key: "k", operator: "", value: "v" }];
    });
    expect(createErrors(DEPLOY, d)).toEqual([]);
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } });
    const c = d.spec.template.spec.containers[0];
    expect([d.spec.template.spec.restartPolicy, d.spec.template.spec.dnsPolicy, c.imagePullPolicy, c.terminationMessagePath, c.ports[0].protocol]).toEqual(["Always", "ClusterFirst", "IfNotPresent", "/dev/termination-log", "TCP"]);
    expect(c.readinessProbe).toMatchObject({ timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    const svc: any = { metadata: { name: "s", namespace: "default" }, spec: { type: "", sessionAffinity: "", externalTrafficPolicy: "", ipFamilies: [], ports: [{ port: 80, targetPort: 0, protocol: "" }] } };
    expect(createErrors(SVC, svc)).toEqual([]);
    expect(svc.spec).toMatchObject({ type: "ClusterIP", sessionAffinity: "None", ipFamilies: ["IPv4"], ports: [{ port: 80, targetPort: 80, protocol: "TCP" }] });
  });

  test("service defaults", () => {
    const s: any = { metadata: { name: "s", namespace: "default" }, spec: { selector: { app: "x" }, ports: [{ port: 80 }, { port: 53, protocol: "UDP", targetPort: "dns" }] } };
    defaultObject(SVC, s);
    expect(s.spec).toMatchObject({ type: "ClusterIP", sessionAffinity: "None", ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack", internalTrafficPolicy: "Cluster" });
    expect(s.spec.ports).toEqual([
      { port: 80, protocol: "TCP", targetPort: 80 },
      { port: 53, protocol: "UDP", targetPort: "dns" },
    ]);
  });

  test("deployment defaults include the pod template", () => {
    const d = deployment();
    defaultObject(DEPLOY, d);
    expect(d.spec).toMatchObject({
      replicas: 1,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(d.spec.template.spec).toMatchObject({ restartPolicy: "Always", dnsPolicy: "ClusterFirst", schedulerName: "default-scheduler" });
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
    // Templates don't get the pod-only serviceAccountName default.
    expect(d.spec.template.spec.serviceAccountName).toBeUndefined();
  });

  test("statefulset, daemonset, job, cronjob, namespace, secret", () => {
    const sts: any = { metadata: { name: "s" }, spec: { template: { spec: { containers: [] } } } };
    defaultObject(ri("apps", "StatefulSet"), sts);
    expect(sts.spec).toMatchObject({ replicas: 1, podManagementPolicy: "OrderedReady", updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } }, revisionHistoryLimit: 10 });

    const ds: any = { metadata: { name: "d" }, spec: {} };
    defaultObject(ri("apps", "DaemonSet"), ds);
    expect(ds.spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });

    const job: any = { metadata: { name: "j" }, spec: { template: { spec: { containers: [] } } } };
    defaultObject(ri("batch", "Job"), job);
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false });

    const par: any = { metadata: { name: "j" }, spec: { parallelism: 3, template: {} } };
    defaultObject(ri("batch", "Job"), par);
    expect(par.spec.completions).toBeUndefined();
    expect(par.spec.parallelism).toBe(3);

    const cj: any = { metadata: { name: "c" }, spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { spec: { containers: [] } } } } } };
    defaultObject(ri("batch", "CronJob"), cj);
    expect(cj.spec).toMatchObject({ concurrencyPolicy: "Allow", suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(cj.spec.jobTemplate.spec.backoffLimit).toBeUndefined();
    expect(cj.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("Always");

    const ns: any = { metadata: { name: "team-a" } };
    defaultObject(ri("", "Namespace"), ns);
    expect(ns.spec).toEqual({ finalizers: ["kubernetes"] });
    expect(ns.status).toEqual({ phase: "Active" });
    expect(ns.metadata.labels["kubernetes.io/metadata.name"]).toBe("team-a");

    const sec: any = { metadata: { name: "s" }, data: { a: "eA==", b: "eQ==" }, stringData: { b: "héllo", c: "" } };
    defaultObject(ri("", "Secret"), sec);
    expect(sec.type).toBe("Opaque");
    // stringData is merged into data and dropped, as upstream's conversion does.
    expect(sec.data).toEqual({ a: "eA==", b: Buffer.from("héllo").toString("base64"), c: "" });
    expect(sec.stringData).toBeUndefined();
  });
});

describe("validation messages", () => {
  test("a valid deployment has no errors", () => {
    expect(createErrors(DEPLOY, deployment())).toEqual([]);
  });

  test("DNS-1123 subdomain names", () => {
    const causes = createErrors(DEPLOY, deployment((d) => (d.metadata.name = "Foo_bar")));
    expect(causes).toEqual([{ reason: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: "Foo_bar": ${SUBDOMAIN_MSG}` }]);
  });

  test("namespaces use DNS-1123 labels and services DNS-1035 labels", () => {
    expect(createErrors(ri("", "Namespace"), { metadata: { name: "a.b" } })).toEqual([
      { reason: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: "a.b": ${LABEL_MSG}` },
    ]);
    const svc = { metadata: { name: "1abc", namespace: "default" }, spec: { ports: [{ port: 80 }] } };
    expect(fields(createErrors(SVC, svc))).toEqual([
      `metadata.name: Invalid value: "1abc": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    ]);
  });

  test("name or generateName is required; namespace required for namespaced kinds", () => {
    const p = pod();
    delete p.metadata.name;
    delete p.metadata.namespace;
    expect(createErrors(POD, p)).toEqual([
      { reason: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" },
      { reason: "FieldValueRequired", field: "metadata.namespace", message: "Required value" },
    ]);
  });

  test("selector must match template labels", () => {
    const causes = createErrors(DEPLOY, deployment((d) => (d.spec.template.metadata.labels = { app: "other" })));
    expect(causes).toEqual([
      { reason: "FieldValueInvalid", field: "spec.template.metadata.labels", message: 'Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`' },
    ]);
    expect(invalidMessage(DEPLOY, "web", causes)).toBe(
      'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
    );
  });

  test("required selector, containers, container name and image", () => {
    expect(fields(createErrors(DEPLOY, deployment((d) => delete d.spec.selector)))).toEqual(["spec.selector: Required value"]);
    expect(fields(createErrors(POD, pod({ containers: [] })))).toEqual(["spec.containers: Required value"]);
    expect(fields(createErrors(POD, pod({ containers: [{}] })))).toEqual(["spec.containers[0].name: Required value", "spec.containers[0].image: Required value"]);
  });

  test("duplicate container names and ports, port ranges, protocols", () => {
    const p = pod({
      initContainers: [{ name: "a", image: "x" }],
      containers: [
        { name: "a", image: "x", ports: [{ containerPort: 70000 }, { containerPort: 80, name: "http" }, { containerPort: 81, name: "http", protocol: "XTP" }] },
      ],
    });
    expect(createErrors(POD, p)).toEqual([
      { reason: "FieldValueInvalid", field: "spec.containers[0].ports[0].containerPort", message: "Invalid value: 70000: must be between 1 and 65535, inclusive" },
      { reason: "FieldValueDuplicate", field: "spec.containers[0].ports[2].name", message: 'Duplicate value: "http"' },
      { reason: "FieldValueNotSupported", field: "spec.containers[0].ports[2].protocol", message: 'Unsupported value: "XTP": supported values: "SCTP", "TCP", "UDP"' },
      { reason: "FieldValueDuplicate", field: "spec.containers[0].name", message: 'Duplicate value: "a"' },
    ]);
  });

  test("restart policy of templates", () => {
    const d = deployment((x) => (x.spec.template.spec.restartPolicy = "Never"));
    expect(fields(createErrors(DEPLOY, d))).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
    const job: any = { metadata: { name: "j", namespace: "default", uid: "u1" }, spec: { template: { spec: { containers: [{ name: "c", image: "x" }] } } } };
    expect(fields(createErrors(ri("batch", "Job"), job))).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
  });

  test("jobs get a generated selector from their uid", () => {
    const job: any = { metadata: { name: "pi", namespace: "default", uid: "1234" }, spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } } } };
    expect(createErrors(ri("batch", "Job"), job)).toEqual([]);
    expect(job.spec.selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": "1234" } });
    expect(job.spec.template.metadata.labels).toMatchObject({ "job-name": "pi", "controller-uid": "1234", "batch.kubernetes.io/job-name": "pi" });
  });

  test("resource quantities: syntax and requests <= limits", () => {
    const p = pod({
      containers: [{ name: "a", image: "x", resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "1", memory: "abc" } } }],
    });
    expect(fields(createErrors(POD, p))).toEqual([
      "spec.containers[0].resources.requests[memory]: Invalid value: \"abc\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      'spec.containers[0].resources.requests[cpu]: Invalid value: "1": must be less than or equal to cpu limit of 500m',
    ]);
  });

  test("labels and annotations", () => {
    const p = pod({}, { labels: { "bad key!": "x", ok: "bad value!" }, annotations: { "a/b/c": "x" } });
    expect(fields(createErrors(POD, p))).toEqual([
      `metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      `metadata.labels: Invalid value: "bad value!": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-_A-Za-z0-9.]*)?[A-Za-z0-9])?')`,
      `metadata.annotations: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ]);
    const long = pod({}, { labels: { app: "x".repeat(64) } });
    expect(fields(createErrors(POD, long))[0]).toBe(`metadata.labels: Invalid value: "${"x".repeat(64)}": must be no more than 63 characters`);
  });

  test("service ports and type", () => {
    const s: any = { metadata: { name: "s", namespace: "default" }, spec: { type: "Weird", ports: [{ port: 0 }, { port: 80, name: "a" }] } };
    expect(fields(createErrors(SVC, s))).toEqual([
      'spec.type: Unsupported value: "Weird": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      "spec.ports[0].name: Required value",
      "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
      // targetPort defaults to port, so upstream reports it as well.
      "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
    ]);
    expect(fields(createErrors(SVC, { metadata: { name: "s", namespace: "default" }, spec: {} }))).toEqual(["spec.ports: Required value"]);
  });

  test("deployment replicas and rolling update", () => {
    const d = deployment((x) => {
      x.spec.replicas = -1;
      x.spec.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } };
    });
    expect(fields(createErrors(DEPLOY, d))).toEqual([
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
    ]);
  });

  test("configmap keys, cronjob schedule and name length", () => {
    const cm = { metadata: { name: "c", namespace: "default" }, data: { "bad key": "v" } };
    expect(fields(createErrors(ri("", "ConfigMap"), cm))).toEqual([
      `data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    ]);
    const cj: any = {
      metadata: { name: "x".repeat(53), namespace: "default" },
      spec: { schedule: "61 * * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } } } } },
    };
    expect(fields(createErrors(ri("batch", "CronJob"), cj))).toEqual([
      `metadata.name: Invalid value: "${"x".repeat(53)}": must be no more than 52 characters`,
      'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    ]);
  });

  test("node taints and secret types", () => {
    const node = { metadata: { name: "n1" }, spec: { taints: [{ key: "a", effect: "NoSchedule" }, { key: "a", effect: "NoSchedule" }, { key: "b", effect: "Sometimes" }] } };
    expect(fields(createErrors(ri("", "Node"), node))).toEqual([
      'spec.taints[1]: Duplicate value: "a:NoSchedule"',
      'spec.taints[2].effect: Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
    ]);
    const tls = { metadata: { name: "t", namespace: "default" }, type: "kubernetes.io/tls", data: { "tls.crt": "eA==" } };
    expect(fields(createErrors(ri("", "Secret"), tls))).toEqual(["data[tls.key]: Required value"]);
    const both = { metadata: { name: "s", namespace: "default" }, data: { a: "eA==" }, stringData: { a: "y" } };
    expect(createErrors(ri("", "Secret"), both)).toEqual([]);
  });

  test("pod disruption budgets", () => {
    const pdb = { metadata: { name: "p", namespace: "default" }, spec: { minAvailable: 1, maxUnavailable: "150%", selector: { matchLabels: { app: "x" } } } };
    expect(fields(createErrors(ri("policy", "PodDisruptionBudget"), pdb))).toEqual([
      'spec: Invalid value: "": minAvailable and maxUnavailable cannot be both set',
      'spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ]);
  });

  test("rbac rules and bindings", () => {
    const role = { metadata: { name: "r", namespace: "default" }, rules: [{ resources: ["pods"] }] };
    expect(fields(createErrors(ri("rbac.authorization.k8s.io", "Role"), role))).toEqual([
      "rules[0].verbs: Required value: verbs must contain at least one value",
      "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
    ]);
  });
});

describe("update validation (immutable fields)", () => {
  test("pod spec may only change images, activeDeadlineSeconds and add tolerations", () => {
    const old = pod();
    defaultObject(POD, old);
    const imageOnly = structuredClone(old);
    imageOnly.spec.containers[0].image = "nginx:2";
    imageOnly.spec.tolerations = [{ key: "k", operator: "Exists", effect: "NoSchedule" }];
    expect(validateObject(POD, imageOnly, old)).toEqual([]);

    const changed = structuredClone(old);
    changed.spec.restartPolicy = "Never";
    const causes = validateObject(POD, changed, old);
    expect(causes).toHaveLength(1);
    expect(causes[0]!.reason).toBe("FieldValueForbidden");
    expect(causes[0]!.field).toBe("spec");
    expect(causes[0]!.message).toStartWith("Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)");
  });

  test("pod binding and status writes", () => {
    const old = pod();
    defaultObject(POD, old);
    const bound = structuredClone(old);
    bound.spec.nodeName = "node-1";
    // Through pods/binding (or when the caller can't tell) the first assignment is allowed ...
    expect(validateObject(POD, bound, old, { subresource: "binding" })).toEqual([]);
    expect(validateObject(POD, bound, old)).toEqual([]);
    // ... but a plain update of the pod may not set it.
    expect(validateObject(POD, bound, old, { subresource: "" }).map((c) => c.field)).toEqual(["spec"]);
    const moved = structuredClone(bound);
    moved.spec.nodeName = "node-2";
    expect(fields(validateObject(POD, moved, bound, { subresource: "status" }))).toEqual(['spec.nodeName: Invalid value: "node-2": field is immutable']);
    const status = structuredClone(bound);
    status.status = { phase: "Running", podIP: "10.42.0.3" };
    expect(validateObject(POD, status, bound, { subresource: "status" })).toEqual([]);
  });

  test("deployment selector, name and secret data when immutable", () => {
    const old = deployment();
    defaultObject(DEPLOY, old);
    const next = structuredClone(old);
    next.spec.selector = { matchLabels: { app: "web", v: "2" } };
    next.spec.template.metadata.labels.v = "2";
    expect(fields(validateObject(DEPLOY, next, old))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
    const renamed = structuredClone(old);
    renamed.metadata.name = "other";
    expect(fields(validateObject(DEPLOY, renamed, old))).toEqual(['metadata.name: Invalid value: "other": field is immutable']);

    const SECRET = ri("", "Secret");
    const s: any = { metadata: { name: "s", namespace: "default" }, type: "Opaque", immutable: true, data: { a: "YQ==" } };
    const s2 = { ...structuredClone(s), data: { a: "Yg==" } };
    expect(validateObject(SECRET, s2, s)).toEqual([{ reason: "FieldValueForbidden", field: "data", message: "Forbidden: field is immutable when `immutable` is set" }]);
  });

  test("service clusterIP and job template", () => {
    const old: any = { metadata: { name: "s", namespace: "default" }, spec: { clusterIP: "10.43.0.5", clusterIPs: ["10.43.0.5"], ports: [{ port: 80 }] } };
    defaultObject(SVC, old);
    const next = structuredClone(old);
    next.spec.clusterIP = "10.43.0.6";
    next.spec.clusterIPs = ["10.43.0.6"];
    expect(fields(validateObject(SVC, next, old))).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"10.43.0.6"}: may not change once set']);

    const JOB = ri("batch", "Job");
    const job: any = { metadata: { name: "j", namespace: "default", uid: "u" }, spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } } } };
    defaultObject(JOB, job);
    validateObject(JOB, job);
    const j2 = structuredClone(job);
    j2.spec.template.spec.containers[0].image = "y";
    expect(fields(validateObject(JOB, j2, job))).toEqual(['spec.template: Invalid value: "core.PodTemplateSpec{...}": field is immutable']);
  });
});

describe("unknown fields", () => {
  test("reports paths of undeclared fields using the OpenAPI schema", () => {
    const d = deployment((x) => {
      x.spec.foo = 1;
      x.spec.template.spec.containers[0].imagePullPolice = "Always";
      x.metadata.labels = { anything: "goes" };
      x.metadata.managedFields = [{ manager: "m", fieldsV1: { "f:spec": {} } }];
    });
    expect(unknownFields(DEPLOY, d).sort()).toEqual(["spec.foo", "spec.template.spec.containers[0].imagePullPolice"]);
  });

  test("a clean object has none", () => {
    const p = pod();
    defaultObject(POD, p);
    expect(unknownFields(POD, p)).toEqual([]);
  });
});

describe("nulls", () => {
  test("decode as absent, like Go's zero values", () => {
    const d = deployment((x) => {
      x.metadata.creationTimestamp = null;
      x.spec.replicas = null;
      x.spec.template.spec.containers[0].env = [null, { name: "A", value: "1" }];
    });
    defaultObject(DEPLOY, d);
    expect("creationTimestamp" in d.metadata).toBe(false);
    expect(d.spec.replicas).toBe(1);
    expect(fields(validateObject(DEPLOY, d))).toEqual(["spec.template.spec.containers[0].env[0].name: Required value"]);
  });
});

describe("duplicate fields", () => {
  test("reports full paths of repeated keys in the raw JSON", () => {
    const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a", "name" : "b"},
      "data":{"a":"1","b":"x\\"y","a":"2"},"list":[{"k":1,"k":2},{"k":[1,2]}]}`;
    expect(duplicateFields(body)).toEqual(["metadata.name", "data.a", "list[0].k"]);
    expect(duplicateFields(JSON.stringify({ a: { b: [1, { c: 2 }] } }))).toEqual([]);
  });

  test("keys are compared decoded; quotes, colons and brackets inside strings are not structure", () => {
    expect(duplicateFields(`{"a":1,"\\u0061":2}`)).toEqual(["a"]);
    expect(duplicateFields(`{"a\\"b":1,"a\\u0022b":2}`)).toEqual(['a"b']);
    // The same key in sibling and nested objects, and key-like text inside values, are no duplicates.
    const tricky = JSON.stringify({ a: 'x":{"a":1}', b: [{ a: 1 }, { a: 2 }], c: { a: { a: "]}[{" } }, "d\\": "\\" });
    expect(duplicateFields(tricky)).toEqual([]);
    expect(duplicateFields(`{"s":{"c":[{"n":1},{"n":1,"m":"{\\"n\\":2}","n":2}]}}`)).toEqual(["s.c[1].n"]);
    expect(duplicateFields(`{ "a" : [ ] , "b" : { } , "a" : null }`)).toEqual(["a"]);
  });
});

describe("type errors", () => {
  test("wrong JSON types get Go's decoding messages", () => {
    const d = deployment((x) => {
      x.spec.replicas = "three";
      x.metadata.labels = { a: 1 };
      x.spec.strategy = { rollingUpdate: { maxSurge: 1, maxUnavailable: "25%" } };
      x.spec.template.spec.containers[0].ports = [{ containerPort: 1.5 }];
      x.spec.template.spec.containers[0].resources = { limits: { cpu: 1, memory: "1Gi" } };
    });
    expect(typeErrors(DEPLOY, d)).toEqual([
      // In document order: replicas was added to spec after the template.
      "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
      "json: cannot unmarshal number 1.5 into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32",
      "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
    ]);
    expect(typeErrors(DEPLOY, { spec: { template: { spec: { containers: {} } } } })).toEqual([
      "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
    ]);
    expect(typeErrors(DEPLOY, deployment())).toEqual([]);
    // validateObject reports them as causes instead of validating a malformed object.
    expect(validateObject(DEPLOY, deployment((x) => (x.spec.replicas = "three")))).toEqual([
      { reason: "FieldValueTypeInvalid", field: "spec.replicas", message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"' },
    ]);
    expect(decodeErrorMessage(DEPLOY, "json: x")).toBe('Deployment in version "v1" cannot be handled as a Deployment: json: x');
  });
});
