// certificates.k8s.io/v1 CertificateSigningRequest validation (upstream pkg/apis/certificates/validation).
import { Errors, idx } from "./errors.ts";
import { isDNS1123Label, isDNS1123Subdomain } from "./names.ts";
import { isObj, type Obj } from "./util.ts";

const USAGES = [
  "any", "client auth", "code signing", "content commitment", "crl sign", "data encipherment", "decipher only",
  "digital signature", "email protection", "encipher only", "ipsec end system", "ipsec tunnel", "ipsec user",
  "key agreement", "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth",
  "signing", "timestamping", "cert sign",
].sort();
const STATUS_VALUES = ["False", "True", "Unknown"];
const TRUE_ONLY = new Set(["Approved", "Denied", "Failed"]);

/** The PEM text of spec.request (base64 in JSON), or the problem upstream's validateCSR reports. */
export function csrPEMProblem(request: unknown): string | undefined {
  if (typeof request !== "string" || request === "") return "PEM block type must be CERTIFICATE REQUEST";
  const pem = Buffer.from(request, "base64").toString("latin1");
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m || m[1] !== "CERTIFICATE REQUEST") return "PEM block type must be CERTIFICATE REQUEST";
  const der = Buffer.from(m[2]!.replace(/\s+/g, ""), "base64");
  // An ASN.1 SEQUENCE is the least a PKCS#10 request is; the signer parses it fully.
  if (der.length < 2 || der[0] !== 0x30) return "asn1: structure error: tags don't match";
  return undefined;
}

/** Go's %#v of a []byte, as field.Invalid prints spec.request. */
function goBytes(b64: unknown): string {
  const bytes = typeof b64 === "string" ? Buffer.from(b64, "base64") : Buffer.alloc(0);
  return `[]byte{${[...bytes].map((x) => `0x${x.toString(16)}`).join(", ")}}`;
}

export function validateSignerName(e: Errors, name: unknown, path: string): void {
  if (typeof name !== "string" || name === "") return e.required(path, "signerName must be provided");
  const segments = name.split("/");
  if (segments.length !== 2) return e.invalid(path, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'");
  const [domain, rest] = segments as [string, string];
  if (domain.length > 253) e.tooLong(path, 253);
  const labels = domain.split(".");
  for (const l of labels) {
    const errs = isDNS1123Label(l);
    if (errs.length) {
      for (const m of errs) e.invalid(path, domain, `validating label ${JSON.stringify(l)}: ${m}`);
      break;
    }
  }
  if (labels.length < 2) e.invalid(path, domain, "should be a domain with at least two segments separated by dots");
  for (const l of rest.split(".")) {
    const errs = isDNS1123Subdomain(l);
    if (errs.length) {
      for (const m of errs) e.invalid(path, rest, `validating label ${JSON.stringify(l)}: ${m}`);
      break;
    }
  }
  if (name.length > 571) e.tooLong(path, 571);
}

function validateConditions(e: Errors, conditions: unknown): void {
  if (!Array.isArray(conditions)) return;
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditions.forEach((c: Obj, i) => {
    const p = idx("status.conditions", i);
    if (!isObj(c)) return;
    if (!c.type) e.required(`${p}.type`);
    const allowed = TRUE_ONLY.has(c.type) ? ["True"] : STATUS_VALUES;
    if (!c.status) e.required(`${p}.status`);
    else if (!allowed.includes(c.status)) e.notSupported(`${p}.status`, c.status, allowed);
    if (c.type === "Approved") {
      approved = true;
      if (denied) e.invalid(`${p}.type`, c.type, "Approved and Denied conditions are mutually exclusive");
    } else if (c.type === "Denied") {
      denied = true;
      if (approved) e.invalid(`${p}.type`, c.type, "Approved and Denied conditions are mutually exclusive");
    }
    if (seen.has(c.type)) e.duplicate(`${p}.type`, c.type);
    seen.add(c.type);
  });
}

export function validateCSR(e: Errors, csr: Obj): void {
  const spec = isObj(csr.spec) ? csr.spec : {};
  const problem = csrPEMProblem(spec.request);
  if (problem) e.list.push({ reason: "FieldValueInvalid", field: "spec.request", message: `Invalid value: ${goBytes(spec.request)}: ${problem}` });
  const usages = Array.isArray(spec.usages) ? spec.usages : [];
  if (usages.length === 0) e.required("spec.usages", "usages must be provided");
  const seen = new Set<string>();
  usages.forEach((u: unknown, i: number) => {
    if (!USAGES.includes(u as string)) e.notSupported(idx("spec.usages", i), u, USAGES);
    if (seen.has(u as string)) e.duplicate(idx("spec.usages", i), u);
    seen.add(u as string);
  });
  if (spec.signerName === "kubernetes.io/legacy-unknown") e.invalid("spec.signerName", spec.signerName, "the legacy signerName is not allowed via this API version");
  else validateSignerName(e, spec.signerName, "spec.signerName");
  if (typeof spec.expirationSeconds === "number" && spec.expirationSeconds < 600) {
    e.invalid("spec.expirationSeconds", spec.expirationSeconds, "may not specify a duration less than 600 seconds (10 minutes)");
  }
  validateConditions(e, csr.status?.conditions);
}

/** Approved, Denied and Failed conditions can never be removed (upstream validateCertificateSigningRequestUpdate). */
export function validateCSRUpdate(e: Errors, csr: Obj, old: Obj): void {
  const count = (o: Obj, t: string) => (Array.isArray(o.status?.conditions) ? o.status.conditions.filter((c: Obj) => c?.type === t).length : 0);
  for (const t of ["Approved", "Denied", "Failed"]) {
    if (count(csr, t) < count(old, t)) e.forbidden("status.conditions", `updates may not remove a condition of type ${JSON.stringify(t)}`);
  }
  const cert = old.status?.certificate;
  if (cert && csr.status?.certificate !== cert) e.forbidden("status.certificate", "updates may not modify existing certificate content");
}
