// CSR approving controller (upstream csrapproving): approves kubelet client certificate requests
// (signer kube-apiserver-client-kubelet, subject O=system:nodes CN=system:node:<name>, client usages) when the
// requester may create certificatesigningrequests/selfnodeclient (renewing its own) or /nodeclient (bootstrap),
// as a SubjectAccessReview of the requesting user says. Anything else waits for a human or another approver.
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1";
import type { SubjectAccessReview } from "kubernetes-types/authorization/v1";
import { refs } from "../../client/refs.ts";
import type { Informer } from "../../client/informer.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";

const KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet";

function decided(csr: CertificateSigningRequest): boolean {
  return !!csr.status?.certificate || (csr.status?.conditions ?? []).some((c) => c.type === "Approved" || c.type === "Denied");
}

export function newCSRApprovingController(ctx: ControllerContext): Controller {
  const log = ctx.log.child("csrapproving");
  const inf: Informer<CertificateSigningRequest> = ctx.informers.informerFor<CertificateSigningRequest>(refs.certificatesigningrequests);
  const { queue, run } = controllerQueue(ctx, "csrapproving");
  const reviews = ctx.client.resource<SubjectAccessReview>(refs.subjectaccessreviews);
  const enqueue = (csr: CertificateSigningRequest) => {
    if (csr.spec?.signerName === KUBELET_CLIENT && !decided(csr)) queue.add(csr.metadata!.name!);
  };
  inf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, csr) => enqueue(csr) });

  async function allowed(csr: CertificateSigningRequest, subresource: string): Promise<boolean> {
    const sar = await reviews.create({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: csr.spec.username,
        uid: csr.spec.uid,
        groups: csr.spec.groups,
        extra: csr.spec.extra,
        resourceAttributes: { group: "certificates.k8s.io", resource: "certificatesigningrequests", verb: "create", subresource, version: "*" },
      },
    });
    return sar.status?.allowed === true;
  }

  async function sync(name: string): Promise<void> {
    const csr = inf.get(name);
    if (!csr || csr.spec?.signerName !== KUBELET_CLIENT || decided(csr)) return;
    const { parseCSR, validateForSigner, SignerValidationError } = await import("../../auth/csrsign.ts");
    let commonName: string;
    try {
      const parsed = await parseCSR(Buffer.from(csr.spec.request, "base64").toString("utf8"));
      validateForSigner(KUBELET_CLIENT, parsed, (csr.spec.usages ?? []) as string[]);
      commonName = parsed.commonName;
    } catch (e) {
      if (e instanceof SignerValidationError) return; // not a kubelet client request: the signer will mark it Failed
      throw e;
    }
    const tries: [string, string][] = [];
    if (csr.spec.username === commonName) tries.push(["selfnodeclient", "Auto approving self kubelet client certificate after SubjectAccessReview."]);
    tries.push(["nodeclient", "Auto approving kubelet client certificate after SubjectAccessReview."]);
    for (const [sub, message] of tries) {
      if (!(await allowed(csr, sub))) continue;
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const next = structuredClone(csr);
      next.status = { ...(next.status ?? {}), conditions: [...(csr.status?.conditions ?? []), { type: "Approved", status: "True", reason: "AutoApproved", message, lastUpdateTime: now, lastTransitionTime: now }] };
      // upstream UpdateApproval: a PUT of the approval subresource, conditional on the version we read.
      await ctx.client.request("PUT", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${encodeURIComponent(name)}/approval`, next);
      log.info("approved kubelet client certificate request", { csr: name, as: sub });
      return;
    }
  }

  return { name: "csrapproving", run: () => run(sync) };
}
