// CSR cleaner (upstream csrcleaner): CertificateSigningRequests don't pile up forever. Every hour it deletes those
// approved, denied or failed more than an hour ago, those pending for more than a day, and those whose issued
// certificate has expired.
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1";
import { sleep, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import type { Controller, ControllerContext } from "../context.ts";

const HOUR = 3_600_000;
export const CSR_EXPIRY = { approved: HOUR, denied: HOUR, failed: HOUR, pending: 24 * HOUR };

/** Why the CSR is due for deletion at `now`, or undefined to keep it (issued certificates: pass notAfter). */
export function csrExpiry(csr: CertificateSigningRequest, now: number, certNotAfter?: number): string | undefined {
  const conds = csr.status?.conditions ?? [];
  const older = (ts: string | undefined, ms: number) => !!ts && Date.parse(ts) + ms < now;
  for (const [type, limit] of [["Approved", CSR_EXPIRY.approved], ["Denied", CSR_EXPIRY.denied], ["Failed", CSR_EXPIRY.failed]] as const) {
    const c = conds.find((x) => x.type === type);
    if (c && older(c.lastUpdateTime ?? c.lastTransitionTime, limit)) return `${type.toLowerCase()} more than ${limit / HOUR}h ago`;
  }
  const decided = conds.some((c) => c.type === "Approved" || c.type === "Denied" || c.type === "Failed");
  if (!decided && older(csr.metadata?.creationTimestamp, CSR_EXPIRY.pending)) return "pending for more than 24h";
  if (certNotAfter !== undefined && certNotAfter < now) return "its certificate has expired";
  return undefined;
}

export function newCSRCleanerController(ctx: ControllerContext, periodMs = HOUR): Controller {
  const log = ctx.log.child("csrcleaner");
  const inf: Informer<CertificateSigningRequest> = ctx.informers.informerFor<CertificateSigningRequest>(refs.certificatesigningrequests);
  const client = ctx.client.resource<CertificateSigningRequest>(refs.certificatesigningrequests);

  async function pass(): Promise<void> {
    const now = Date.now();
    for (const csr of inf.list()) {
      let notAfter: number | undefined;
      if (csr.status?.certificate) {
        const { certificateNotAfter } = await import("../../auth/csrsign.ts");
        notAfter = certificateNotAfter(Buffer.from(csr.status.certificate, "base64").toString("utf8"));
      }
      const why = csrExpiry(csr, now, notAfter);
      if (!why) continue;
      try {
        await client.delete(csr.metadata!.name!);
        log.info("deleted certificate signing request", { csr: csr.metadata!.name, why });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) log.warn("deleting a certificate signing request failed", { error: e as Error });
      }
    }
  }

  return {
    name: "csrcleaner",
    async run() {
      if (!(await ctx.informers.waitForSync(ctx.signal))) return;
      while (!ctx.signal.aborted) {
        await pass().catch((e) => log.warn("csr cleaner pass failed", { error: e as Error }));
        await sleep(periodMs, ctx.signal);
      }
    },
  };
}
