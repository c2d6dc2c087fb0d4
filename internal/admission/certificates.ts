// upstream's certificates admission plugins (plugin/pkg/admission/certificates): CertificateApproval (approving
// or denying needs `approve` on signers/<signerName>), CertificateSigning (setting status.certificate needs
// `sign` on it) and CertificateSubjectRestriction (no system:masters client certificates through the
// kube-apiserver-client signer). The signer check also accepts the "<domain>/*" wildcard name, as upstream.
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Authorizer } from "../auth/types.ts";
import { forbidden } from "./errors.ts";
import { PRIVILEGED_GROUP } from "../api/names.ts";

const GROUP = "certificates.k8s.io";
const RESOURCE = "certificatesigningrequests";

async function authorizedForSigner(authz: Authorizer, req: AdmissionRequest, verb: string, signerName: string): Promise<boolean> {
  const ask = async (name: string) =>
    (await authz.authorize({ user: req.user, verb, resourceRequest: true, apiGroup: GROUP, apiVersion: "*", resource: "signers", name })).decision === "allow";
  if (await ask(signerName)) return true;
  const slash = signerName.indexOf("/");
  return slash > 0 && (await ask(`${signerName.slice(0, slash)}/*`));
}

export function certificateAdmission(authz: Authorizer): AdmissionPlugin {
  return {
    name: "CertificateApproval,CertificateSigning,CertificateSubjectRestriction",
    async validate(req: AdmissionRequest) {
      if (req.group !== GROUP || req.resource !== RESOURCE) return;
      const csr = req.object ?? {};
      const signerName: string = csr.spec?.signerName ?? "";
      const target = { group: GROUP, resource: RESOURCE, name: req.name };
      if (req.operation === "UPDATE" && req.subresource === "approval") {
        if (!(await authorizedForSigner(authz, req, "approve", signerName))) {
          throw forbidden(target, `user not permitted to approve requests with signerName ${JSON.stringify(signerName)}`);
        }
      }
      if (req.operation === "UPDATE" && req.subresource === "status") {
        if ((csr.status?.certificate ?? "") !== (req.oldObject?.status?.certificate ?? "") && !(await authorizedForSigner(authz, req, "sign", signerName))) {
          throw forbidden(target, `user not permitted to sign requests with signerName ${JSON.stringify(signerName)}`);
        }
      }
      if (req.operation === "CREATE" && signerName === "kubernetes.io/kube-apiserver-client" && typeof csr.spec?.request === "string") {
        const { parseCSR } = await import("../auth/csrsign.ts");
        const parsed = await parseCSR(Buffer.from(csr.spec.request, "base64").toString("utf8")).catch(() => undefined);
        if (parsed?.organizations.includes(PRIVILEGED_GROUP)) {
          throw forbidden(target, `use of ${signerName} signer with ${PRIVILEGED_GROUP} group is not allowed`);
        }
      }
    },
  };
}
