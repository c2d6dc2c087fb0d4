// CSR signing controller (upstream kube-controller-manager's csrsigning): issues certificates signed by the
// cluster CA for approved CertificateSigningRequests of the built-in signers kube-apiserver-client,
// kube-apiserver-client-kubelet and kubelet-serving. A request the signer must not issue (wrong subject,
// SANs or usages for its signer) gets a Failed condition with reason SignerValidationFailure, as upstream.
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1";
import { refs } from "../../client/refs.ts";
import type { Informer } from "../../client/informer.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";

const HANDLED = new Set(["kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"]);

function nowRFC3339(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

/** Approved, not denied or failed, not yet issued, for a signer we run. */
export function needsSigning(csr: CertificateSigningRequest): boolean {
  if (csr.status?.certificate) return false;
  if (!HANDLED.has(csr.spec?.signerName ?? "")) return false;
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  return types.has("Approved") && !types.has("Denied") && !types.has("Failed");
}

export function newCSRSigningController(ctx: ControllerContext): Controller {
  const log = ctx.log.child("csrsigning");
  const ca = ctx.options.signingCA;
  const inf: Informer<CertificateSigningRequest> = ctx.informers.informerFor<CertificateSigningRequest>(refs.certificatesigningrequests);
  const { queue, run } = controllerQueue(ctx, "csrsigning");
  const client = ctx.client.resource<CertificateSigningRequest>(refs.certificatesigningrequests);
  const enqueue = (csr: CertificateSigningRequest) => {
    if (needsSigning(csr)) queue.add(csr.metadata!.name!);
  };
  inf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, csr) => enqueue(csr) });

  async function sync(name: string): Promise<void> {
    const csr = inf.get(name);
    if (!csr || !needsSigning(csr) || !ca) return;
    const { parseCSR, signCSR, validateForSigner, SignerValidationError } = await import("../../auth/csrsign.ts");
    const usages = (csr.spec.usages ?? []) as string[];
    const next = structuredClone(csr);
    try {
      const parsed = await parseCSR(Buffer.from(csr.spec.request, "base64").toString("utf8"));
      validateForSigner(csr.spec.signerName, parsed, usages);
      next.status = { ...(next.status ?? {}), certificate: Buffer.from(await signCSR(ca, parsed, usages, { expirationSeconds: csr.spec.expirationSeconds })).toString("base64") };
      log.info("signed certificate", { csr: name, signer: csr.spec.signerName });
    } catch (e) {
      if (!(e instanceof SignerValidationError)) throw e;
      const now = nowRFC3339();
      next.status = {
        ...(next.status ?? {}),
        conditions: [...(next.status?.conditions ?? []), { type: "Failed", status: "True", reason: "SignerValidationFailure", message: e.message, lastUpdateTime: now, lastTransitionTime: now }],
      };
      log.info("refused to sign", { csr: name, reason: e.message });
    }
    await client.updateStatus(next);
  }

  return { name: "csrsigning", run: () => (ca ? run(sync) : Promise.resolve()) };
}
