// Issue #10 item 6: ReplicationController (with its manager and scale), PodTemplate, CertificateSigningRequest
// (approval, status, the CA signer), RuntimeClass and APIService, driven by real kubectl 1.32.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEnv, waitFor, type Env } from "./env.ts";

setDefaultTimeout(90_000);
let env: Env;
let tmp: string;

beforeAll(async () => {
  env = await startEnv({ nodes: 1 });
  mkdirSync(join(import.meta.dir, "../../.tmp"), { recursive: true });
  tmp = mkdtempSync(join(import.meta.dir, "../../.tmp/builtin-apis-"));
});
afterAll(async () => {
  await env?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const k = (args: string[], stdin?: string) => env.cluster.kubectl(args, { stdin });

function rc(name: string, replicas: number, labels: Record<string, string> = { app: name }): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name, labels },
    spec: {
      replicas,
      template: { metadata: { labels }, spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] } },
    },
  });
}

describe("ReplicationController", () => {
  test("defaults the selector from the template, runs its pods, scales, and prints upstream's columns", async () => {
    const created = await k(["create", "-f", "-", "-o", "json"], rc("web", 2));
    expect(created.stderr).toBe("");
    const obj = JSON.parse(created.stdout);
    expect(obj.spec.selector).toEqual({ app: "web" });
    expect(obj.metadata.generation).toBe(1);
    await waitFor("2 ready replicas", async () => {
      const r = await k(["get", "rc", "web", "-o", "jsonpath={.status.readyReplicas}"]);
      return r.stdout === "2";
    });
    const pods = JSON.parse((await k(["get", "pods", "-l", "app=web", "-o", "json"])).stdout).items;
    expect(pods).toHaveLength(2);
    expect(pods[0].metadata.ownerReferences[0]).toMatchObject({ apiVersion: "v1", kind: "ReplicationController", name: "web", controller: true });

    const table = await k(["get", "rc", "web"]);
    expect(table.stdout.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    expect(table.stdout).toMatch(/^web\s+2\s+2\s+2\s+/m);
    expect((await k(["get", "rc", "web", "-o", "wide"])).stdout).toMatch(/SELECTOR[\s\S]*app=web/);

    expect((await k(["scale", "rc", "web", "--replicas=1"])).stdout).toContain("replicationcontroller/web scaled");
    await waitFor("1 pod left", async () => JSON.parse((await k(["get", "pods", "-l", "app=web", "-o", "json"])).stdout).items.filter((p: any) => !p.metadata.deletionTimestamp).length === 1);
    const scale = JSON.parse((await k(["get", "--raw", "/api/v1/namespaces/default/replicationcontrollers/web/scale"])).stdout);
    expect(scale).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 1 }, status: { selector: "app=web" } });

    // describe and expose read the RC through kubectl's typed (protobuf) client.
    const described = await k(["describe", "rc", "web"]);
    expect(described.stderr).toBe("");
    expect(described.stdout).toMatch(/Selector:\s+app=web/);
    expect(described.stdout).toMatch(/Replicas:\s+1 current \/ 1 desired/);
    expect((await k(["expose", "rc", "web", "--port=80"])).stdout).toContain("service/web exposed");
    expect(JSON.parse((await k(["get", "svc", "web", "-o", "json"])).stdout).spec.selector).toEqual({ app: "web" });
  });

  test("upstream's kubectl rc tests: scale with --current-replicas, several at once, describe", async () => {
    await k(["create", "-f", "-"], rc("frontend", 3, { name: "frontend" }));
    await k(["create", "-f", "-"], rc("backend", 1, { name: "backend" }));
    const ok = await k(["scale", "--current-replicas=3", "--replicas=2", "replicationcontrollers", "frontend"]);
    expect(ok.stdout).toContain("replicationcontroller/frontend scaled");
    expect((await k(["get", "rc", "frontend", "-o", "jsonpath={.spec.replicas}"])).stdout).toBe("2");
    const wrong = await k(["scale", "--current-replicas=3", "--replicas=2", "replicationcontrollers", "frontend"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("Expected replicas to be 3, was 2");
    expect((await k(["scale", "rc/frontend", "rc/backend", "--replicas=4"])).code).toBe(0);
    expect((await k(["get", "rc", "-o", "jsonpath={.items[*].spec.replicas}"])).stdout).toMatch(/^4 4( \d+)*$|4 4/);
    const d = await k(["describe", "rc", "frontend"]);
    for (const s of ["Name:", "Pod Template:", "Labels:", "Selector:", "Replicas:", "Pods Status:", "Volumes:", "Events:"]) expect(d.stdout).toContain(s);
    await k(["delete", "rc", "frontend", "backend"]);
    await waitFor("their pods gone", async () => JSON.parse((await k(["get", "pods", "-l", "name in (frontend,backend)", "-o", "json"])).stdout).items.length === 0);
  });

  test("validation: a selector that does not match the template labels is refused as upstream", async () => {
    const bad = JSON.parse(rc("bad", 1));
    bad.spec.selector = { app: "other" };
    const r = await k(["create", "-f", "-"], JSON.stringify(bad));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: selector does not match labels in spec.template');
  });

  // An explicit allowlist naming ReplicationController: without it served, kubectl fails before pruning anything.
  const ALLOW = ["core/v1/ConfigMap", "core/v1/ReplicationController", "core/v1/Service", "apps/v1/Deployment"].flatMap((a) => ["--prune-allowlist", a]);
  test("kubectl apply --prune and diff --prune work with replicationcontrollers served", async () => {
    const dir = join(tmp, "prune");
    mkdirSync(dir, { recursive: true });
    const cm = (n: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: n, labels: { app: "x" } }, data: { a: "1" } });
    writeFileSync(join(dir, "a.json"), cm("prune-a"));
    writeFileSync(join(dir, "b.json"), cm("prune-b"));
    const first = await k(["apply", "--prune", "-l", "app=x", ...ALLOW, "-f", dir]);
    expect(first.stderr).not.toContain("error");
    expect(first.stdout).toContain("configmap/prune-a created");
    rmSync(join(dir, "b.json"));
    const diff = await k(["diff", "--prune", "-l", "app=x", ...ALLOW, "-f", dir]);
    // kubectl diff exits 1 when there are differences: prune-b would be deleted.
    expect(diff.stderr).toBe("");
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain("prune-b");
    const second = await k(["apply", "--prune", "-l", "app=x", ...ALLOW, "-f", dir]);
    expect(second.stderr).not.toContain("error");
    expect(second.stdout).toContain("configmap/prune-b pruned");
    expect((await k(["get", "cm", "prune-b"])).code).not.toBe(0);
  });

  // Without --prune-allowlist kubectl walks its default list (ConfigMap, Endpoints, Namespace, PVC, PV, Pod, RC,
  // Secret, Service, Job, CronJob, networking.k8s.io/v1 Ingress, DaemonSet, Deployment, ReplicaSet, StatefulSet)
  // and fails outright if any of them is not served.
  test("kubectl apply --prune and diff --prune with kubectl's default allowlist", async () => {
    const dir = join(tmp, "prune-default");
    mkdirSync(dir, { recursive: true });
    const labels = { app: "pd" };
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "pd-keep", labels }, data: { a: "1" } };
    const gone = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "pd-gone", labels }, data: { a: "1" } };
    const backend = { service: { name: "pd", port: { number: 80 } } };
    const ing = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "pd-ing", labels }, spec: { defaultBackend: backend } };
    writeFileSync(join(dir, "keep.json"), JSON.stringify(cm));
    writeFileSync(join(dir, "gone.json"), JSON.stringify(gone));
    writeFileSync(join(dir, "ing.json"), JSON.stringify(ing));
    const first = await k(["apply", "--prune", "-l", "app=pd", "-f", dir]);
    // kubectl's own deprecation warning (about non-namespaced kinds in the default list) is all it may print.
    const onlyWarning = (stderr: string) => stderr.split("\n").filter((l) => l && !l.includes("Deprecated: kubectl apply will no longer prune"));
    expect(onlyWarning(first.stderr)).toEqual([]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("configmap/pd-gone created");
    expect(first.stdout).toContain("ingress.networking.k8s.io/pd-ing created");
    rmSync(join(dir, "gone.json"));
    rmSync(join(dir, "ing.json"));
    const diff = await k(["diff", "--prune", "-l", "app=pd", "-f", dir]);
    expect(onlyWarning(diff.stderr)).toEqual([]);
    expect(diff.code).toBe(1); // differences: the two objects that would be deleted
    expect(diff.stdout).toContain("pd-gone");
    expect(diff.stdout).toContain("pd-ing");
    expect(diff.stdout).not.toContain("pd-keep");
    const second = await k(["apply", "--prune", "-l", "app=pd", "-f", dir]);
    expect(onlyWarning(second.stderr)).toEqual([]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("configmap/pd-gone pruned");
    expect(second.stdout).toContain("ingress.networking.k8s.io/pd-ing pruned");
    expect((await k(["get", "cm", "pd-gone"])).code).not.toBe(0);
    expect((await k(["get", "ingress", "pd-ing"])).code).not.toBe(0);
    expect((await k(["get", "cm", "pd-keep"])).code).toBe(0);
    // Nothing left to prune: diff has no differences.
    expect((await k(["diff", "--prune", "-l", "app=pd", "-f", dir])).code).toBe(0);
  });
});

describe("PodTemplate and RuntimeClass", () => {
  test("create, defaults, tables", async () => {
    const pt = { apiVersion: "v1", kind: "PodTemplate", metadata: { name: "tpl" }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } };
    const created = JSON.parse((await k(["create", "-f", "-", "-o", "json"], JSON.stringify(pt))).stdout);
    expect(created.template.spec.restartPolicy).toBe("Always");
    expect(created.template.spec.containers[0].imagePullPolicy).toBe("Always");
    const t = await k(["get", "podtemplates"]);
    expect(t.stdout.split("\n")[0]!.split(/\s{2,}/)).toEqual(["NAME", "CONTAINERS", "IMAGES", "POD LABELS"]);
    expect(t.stdout).toMatch(/^tpl\s+c\s+busybox\s+a=b/m);

    const rtc = { apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", metadata: { name: "gvisor" }, handler: "runsc" };
    expect((await k(["create", "-f", "-"], JSON.stringify(rtc))).stdout).toContain("runtimeclass.node.k8s.io/gvisor created");
    expect((await k(["get", "runtimeclass"])).stdout).toMatch(/^NAME\s+HANDLER\s+AGE\n gvisor|^gvisor\s+runsc\s+/m);
    const bad = await k(["create", "-f", "-"], JSON.stringify({ ...rtc, metadata: { name: "x" }, handler: "Bad_Handler" }));
    expect(bad.stderr).toContain("handler: Invalid value: \"Bad_Handler\"");
  });
});

describe("OpenAPI", () => {
  test("kubectl explain knows the new kinds", async () => {
    for (const [what, text] of [
      ["rc.spec.selector", "Selector is a label query over pods"],
      ["podtemplates.template", "Template defines the pods"],
      ["csr.spec.signerName", "signerName indicates the requested signer"],
      ["runtimeclass.handler", "handler specifies the underlying runtime"],
      ["apiservices.spec.groupPriorityMinimum", "GroupPriorityMinimum"],
    ]) {
      const r = await k(["explain", what!]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(text!);
    }
  });
});

describe("RuntimeClass admission", () => {
  test("a pod gets its class's overhead and scheduling; a missing class or a conflicting selector is refused", async () => {
    const rtc = {
      apiVersion: "node.k8s.io/v1",
      kind: "RuntimeClass",
      metadata: { name: "kata" },
      handler: "kata",
      overhead: { podFixed: { cpu: "250m", memory: "120Mi" } },
      scheduling: { nodeSelector: { sandbox: "kata" }, tolerations: [{ key: "sandbox", operator: "Exists", effect: "NoSchedule" }] },
    };
    expect((await k(["create", "-f", "-"], JSON.stringify(rtc))).code).toBe(0);
    const pod = (name: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { runtimeClassName: "kata", automountServiceAccountToken: false, containers: [{ name: "c", image: "busybox" }], ...extra } });
    const made = JSON.parse((await k(["create", "-f", "-", "-o", "json"], pod("sandboxed"))).stdout);
    expect(made.spec.overhead).toEqual({ cpu: "250m", memory: "120Mi" });
    expect(made.spec.nodeSelector).toEqual({ sandbox: "kata" });
    expect(made.spec.tolerations).toContainEqual({ key: "sandbox", operator: "Exists", effect: "NoSchedule" });

    const missing = await k(["create", "-f", "-"], pod("nope", { runtimeClassName: "missing" }));
    expect(missing.stderr).toContain('pods "nope" is forbidden: pod rejected: RuntimeClass "missing" not found');
    const conflict = await k(["create", "-f", "-"], pod("clash", { nodeSelector: { sandbox: "gvisor" } }));
    expect(conflict.stderr).toContain("conflict: runtimeClass.scheduling.nodeSelector[sandbox] = kata; pod.spec.nodeSelector[sandbox] = gvisor");
    const own = await k(["create", "-f", "-"], pod("own", { runtimeClassName: undefined, overhead: { cpu: "1" } }));
    expect(own.stderr).toContain("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead");
  });
});

describe("APIService", () => {
  test("kubectl get apiservices lists every local group-version as Local and Available", async () => {
    const r = await k(["get", "apiservices"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "SERVICE", "AVAILABLE", "AGE"]);
    expect(r.stdout).toMatch(/^v1\.\s+Local\s+True\s+/m);
    expect(r.stdout).toMatch(/^v1\.apps\s+Local\s+True\s+/m);
    expect(r.stdout).toMatch(/^v1\.certificates\.k8s\.io\s+Local\s+True\s+/m);
    const one = JSON.parse((await k(["get", "apiservice", "v1.apps", "-o", "json"])).stdout);
    expect(one.spec).toMatchObject({ group: "apps", version: "v1", groupPriorityMinimum: 17800, versionPriority: 15 });
    const del = await k(["delete", "apiservice", "v1.apps"]);
    expect(del.code).not.toBe(0);
  });
});

describe("CertificateSigningRequest", () => {
  async function makeCSR(name: string, subj: string, extra: string[] = []): Promise<{ key: string; csrPEM: string }> {
    const key = join(tmp, `${name}.key`);
    const csr = join(tmp, `${name}.csr`);
    const p = Bun.spawnSync(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", subj, ...extra], { stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(p.stderr.toString());
    return { key, csrPEM: await Bun.file(csr).text() };
  }
  const csrObject = (name: string, pem: string, signerName: string, usages: string[]) =>
    JSON.stringify({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      metadata: { name },
      spec: { request: Buffer.from(pem).toString("base64"), signerName, usages, expirationSeconds: 3600 },
    });

  test("openssl CSR → kubectl certificate approve → signed by the cluster CA", async () => {
    const { csrPEM } = await makeCSR("alice", "/CN=alice/O=dev");
    const created = JSON.parse((await k(["create", "-f", "-", "-o", "json"], csrObject("alice", csrPEM, "kubernetes.io/kube-apiserver-client", ["client auth"]))).stdout);
    expect(created.spec.username).toBe("system:admin");
    expect(created.spec.groups).toContain("system:masters");

    const pending = await k(["get", "csr", "alice"]);
    expect(pending.stdout.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]);
    expect(pending.stdout).toMatch(/^alice\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+system:admin\s+60m\s+Pending/m);

    const approve = await k(["certificate", "approve", "alice"]);
    expect(approve.stderr).toBe("");
    expect(approve.stdout).toContain("certificatesigningrequest.certificates.k8s.io/alice approved");

    const b64 = await waitFor("the certificate", async () => (await k(["get", "csr", "alice", "-o", "jsonpath={.status.certificate}"])).stdout || undefined);
    const certFile = join(tmp, "alice.crt");
    const caFile = join(tmp, "ca.crt");
    writeFileSync(certFile, Buffer.from(b64, "base64"));
    writeFileSync(caFile, env.cluster.caPEM);
    const verify = Bun.spawnSync(["openssl", "verify", "-CAfile", caFile, certFile], { stdout: "pipe", stderr: "pipe" });
    expect(verify.stdout.toString()).toContain(": OK");
    const text = Bun.spawnSync(["openssl", "x509", "-in", certFile, "-noout", "-subject", "-ext", "extendedKeyUsage"], { stdout: "pipe" }).stdout.toString();
    expect(text).toMatch(/CN\s*=\s*alice/);
    expect(text).toContain("TLS Web Client Authentication");
    expect((await k(["get", "csr", "alice"])).stdout).toMatch(/Approved,Issued/);
    const described = await k(["describe", "csr", "alice"]);
    expect(described.stderr).toBe("");
    expect(described.stdout).toMatch(/Requesting User:\s+system:admin/);
    expect(described.stdout).toMatch(/Status:\s+Approved,Issued/);

    // The issued certificate authenticates? kubun authenticates bearer tokens only; chain and usages are what we check.
  });

  test("deny, and the kubelet signers' subject checks (Failed / SignerValidationFailure)", async () => {
    const { csrPEM } = await makeCSR("bob", "/CN=bob");
    await k(["create", "-f", "-"], csrObject("bob", csrPEM, "kubernetes.io/kube-apiserver-client", ["client auth"]));
    expect((await k(["certificate", "deny", "bob"])).stdout).toContain("denied");
    expect((await k(["get", "csr", "bob"])).stdout).toMatch(/^bob\s+.*\s+Denied\s*$/m);
    const both = await k(["certificate", "approve", "bob"]);
    expect(both.stderr).toContain('certificate signing request "bob" is already Denied');
    // The server's own rules (kubectl stops earlier): Approved and Denied exclude each other, none is ever removed.
    const approvalURL = "/apis/certificates.k8s.io/v1/certificatesigningrequests/bob/approval";
    const live: any = await (await env.cluster.api(approvalURL)).json();
    const put = (body: unknown) => env.cluster.api(approvalURL, { method: "PUT", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
    const mixed: any = await (await put({ ...live, status: { conditions: [...live.status.conditions, { type: "Approved", status: "True", reason: "R" }] } })).json();
    expect(mixed.code).toBe(422);
    expect(mixed.message).toBe('CertificateSigningRequest.certificates.k8s.io "bob" is invalid: status.conditions[1].type: Invalid value: "Approved": Approved and Denied conditions are mutually exclusive');
    const removed: any = await (await put({ ...live, status: { conditions: [] } })).json();
    expect(removed.message).toContain('status.conditions: Forbidden: updates may not remove a condition of type "Denied"');

    const bad = await makeCSR("notanode", "/CN=notanode/O=system:nodes", ["-addext", "subjectAltName=DNS:n1.example"]);
    await k(["create", "-f", "-"], csrObject("notanode", bad.csrPEM, "kubernetes.io/kubelet-serving", ["digital signature", "server auth"]));
    await k(["certificate", "approve", "notanode"]);
    const failed = await waitFor("Failed condition", async () => {
      const o = JSON.parse((await k(["get", "csr", "notanode", "-o", "json"])).stdout);
      return o.status?.conditions?.find((c: any) => c.type === "Failed");
    });
    expect(failed).toMatchObject({ status: "True", reason: "SignerValidationFailure", message: "subject common name does not begin with system:node:" });

    const good = await makeCSR("node1", "/CN=system:node:n1/O=system:nodes", ["-addext", "subjectAltName=DNS:n1.example,IP:10.0.0.5"]);
    await k(["create", "-f", "-"], csrObject("node1", good.csrPEM, "kubernetes.io/kubelet-serving", ["digital signature", "server auth"]));
    await k(["certificate", "approve", "node1"]);
    const cert = await waitFor("kubelet serving certificate", async () => (await k(["get", "csr", "node1", "-o", "jsonpath={.status.certificate}"])).stdout || undefined);
    const f = join(tmp, "node1.crt");
    writeFileSync(f, Buffer.from(cert, "base64"));
    const sans = Bun.spawnSync(["openssl", "x509", "-in", f, "-noout", "-ext", "subjectAltName"], { stdout: "pipe" }).stdout.toString();
    expect(sans).toContain("DNS:n1.example");
    expect(sans).toContain("IP Address:10.0.0.5");
  });

  test("admission: approving needs `approve` on the signer; no system:masters client certificates", async () => {
    const { csrPEM } = await makeCSR("carol", "/CN=carol");
    await k(["create", "-f", "-"], csrObject("carol", csrPEM, "kubernetes.io/kube-apiserver-client", ["client auth"]));
    // dave may update the approval subresource, but holds no `approve` on any signer.
    await k(["create", "clusterrole", "csr-approver", "--verb=get,list,update", "--resource=certificatesigningrequests,certificatesigningrequests/approval"]);
    await k(["create", "clusterrolebinding", "dave-csr", "--clusterrole=csr-approver", "--user=dave"]);
    const denied = await k(["certificate", "approve", "carol", "--as=dave"]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('certificatesigningrequests.certificates.k8s.io "carol" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"');
    // signers are not an API resource (kubectl create clusterrole can't name them): a manifest, with upstream's "<domain>/*".
    const role = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "csr-signer-approve" }, rules: [{ apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/*"], verbs: ["approve"] }] };
    expect((await k(["create", "-f", "-"], JSON.stringify(role))).code).toBe(0);
    await k(["create", "clusterrolebinding", "dave-signer", "--clusterrole=csr-signer-approve", "--user=dave"]);
    const ok = await waitFor("dave may approve", async () => {
      const r = await k(["certificate", "approve", "carol", "--as=dave"]);
      return r.code === 0 ? r : undefined;
    });
    expect(ok.stdout).toContain("approved");

    const masters = await makeCSR("root", "/CN=root/O=system:masters");
    const r = await k(["create", "-f", "-"], csrObject("root", masters.csrPEM, "kubernetes.io/kube-apiserver-client", ["client auth"]));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed");
  });

  test("kubelet client CSRs are auto-approved after a SubjectAccessReview (selfnodeclient/nodeclient), then signed", async () => {
    const csr = (name: string) => makeCSR(name, "/CN=system:node:n7/O=system:nodes");
    // A node renewing its own certificate: allowed once system:nodes may create selfnodeclient.
    const self = await csr("self-n7");
    const asNode = ["--as=system:node:n7", "--as-group=system:nodes"];
    await k(["create", "clusterrolebinding", "self-node-csr", "--clusterrole=system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "--group=system:nodes"]);
    const made = await k(["create", "-f", "-", ...asNode], csrObject("self-n7", self.csrPEM, "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"]));
    expect(made.stderr).toBe("");
    const approved = await waitFor("auto-approval", async () => {
      const o = JSON.parse((await k(["get", "csr", "self-n7", "-o", "json"])).stdout);
      return o.status?.certificate ? o : undefined;
    });
    expect(approved.status.conditions[0]).toMatchObject({ type: "Approved", status: "True", reason: "AutoApproved", message: "Auto approving self kubelet client certificate after SubjectAccessReview." });

    // Someone else asking for a node's certificate: approved only with nodeclient rights (system:masters has them).
    const other = await csr("other-n7");
    await k(["create", "-f", "-"], csrObject("other-n7", other.csrPEM, "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"]));
    const byAdmin = await waitFor("nodeclient approval", async () => JSON.parse((await k(["get", "csr", "other-n7", "-o", "json"])).stdout).status?.conditions?.[0]);
    expect(byAdmin.message).toBe("Auto approving kubelet client certificate after SubjectAccessReview.");
    await k(["create", "clusterrole", "csr-creator", "--verb=create,get", "--resource=certificatesigningrequests"]);
    await k(["create", "clusterrolebinding", "eve-csr", "--clusterrole=csr-creator", "--user=eve"]);
    const third = await csr("eve-n7");
    const byEve = await waitFor("eve may create CSRs", async () => {
      const r = await k(["create", "-f", "-", "--as=eve"], csrObject("eve-n7", third.csrPEM, "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"]));
      return r.code === 0 ? r : undefined;
    });
    expect(byEve.stdout).toContain("created");
    await Bun.sleep(500);
    expect((await k(["get", "csr", "eve-n7"])).stdout).toMatch(/eve-n7\s.*\seve\s.*Pending/);
  });

  test("garbage collection and namespace deletion cover replicationcontrollers and podtemplates", async () => {
    await k(["create", "namespace", "gone"]);
    const obj = JSON.parse(rc("doomed", 1));
    obj.metadata.namespace = "gone";
    await k(["create", "-f", "-"], JSON.stringify(obj));
    await k(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "PodTemplate", metadata: { name: "t", namespace: "gone" }, template: { spec: { containers: [{ name: "c", image: "busybox" }] } } }));
    await waitFor("the rc's pod", async () => JSON.parse((await k(["get", "pods", "-n", "gone", "-o", "json"])).stdout).items.length === 1);
    await k(["delete", "namespace", "gone", "--wait=false"]);
    await waitFor("namespace gone", async () => (await k(["get", "namespace", "gone"])).code !== 0, 60_000);

    await k(["create", "-f", "-"], rc("owned", 1));
    await waitFor("owned pod", async () => JSON.parse((await k(["get", "pods", "-l", "app=owned", "-o", "json"])).stdout).items.length === 1);
    await k(["delete", "rc", "owned"]);
    await waitFor("dependents collected", async () => JSON.parse((await k(["get", "pods", "-l", "app=owned", "-o", "json"])).stdout).items.length === 0);
  });

  test("validation: request, usages and signerName as upstream", async () => {
    const r = await k(["create", "-f", "-"], JSON.stringify({ apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name: "broken" }, spec: { request: Buffer.from("nope").toString("base64"), signerName: "example" } }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.request: Invalid value: []byte{0x6e, 0x6f, 0x70, 0x65}: PEM block type must be CERTIFICATE REQUEST");
    expect(r.stderr).toContain("spec.usages: Required value: usages must be provided");
    expect(r.stderr).toContain(`spec.signerName: Invalid value: "example": must be a fully qualified domain and path of the form 'example.com/signer-name'`);
  });
});
