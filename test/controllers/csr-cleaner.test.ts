// The CSR cleaner (upstream csrcleaner): decided requests go an hour after the decision, pending ones after a day,
// issued ones once their certificate has expired.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1";
import { csrExpiry } from "../../internal/controllers/certificates/cleaner.ts";
import { startEnv, waitFor, type Env } from "./env.ts";

setDefaultTimeout(60_000);
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

describe("csrExpiry", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const csr = (created: number, conditions: { type: string; at: number }[] = []): CertificateSigningRequest =>
    ({
      metadata: { name: "x", creationTimestamp: iso(created) },
      spec: { request: "", signerName: "example.com/s" },
      status: { conditions: conditions.map((c) => ({ type: c.type, status: "True", lastUpdateTime: iso(c.at) })) },
    }) as CertificateSigningRequest;
  test("thresholds as upstream", () => {
    expect(csrExpiry(csr(now - 2 * HOUR, [{ type: "Approved", at: now - 30 * 60_000 }]), now)).toBeUndefined();
    expect(csrExpiry(csr(now - 2 * HOUR, [{ type: "Approved", at: now - 2 * HOUR }]), now)).toBe("approved more than 1h ago");
    expect(csrExpiry(csr(now - 2 * HOUR, [{ type: "Denied", at: now - 61 * 60_000 }]), now)).toBe("denied more than 1h ago");
    expect(csrExpiry(csr(now - 2 * HOUR, [{ type: "Failed", at: now - 61 * 60_000 }]), now)).toBe("failed more than 1h ago");
    expect(csrExpiry(csr(now - 23 * HOUR), now)).toBeUndefined();
    expect(csrExpiry(csr(now - 25 * HOUR), now)).toBe("pending for more than 24h");
    expect(csrExpiry(csr(now - 60_000, [{ type: "Approved", at: now - 60_000 }]), now, now - 1000)).toBe("its certificate has expired");
  });
});

describe("controller", () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv({ manager: { controllers: ["csrcleaner"], csrCleanerPeriodMs: 200 } });
  });
  afterAll(async () => {
    await env?.stop();
  });

  test("deletes a request approved two hours ago, keeps a fresh one", async () => {
    const p = Bun.spawnSync(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "/dev/null", "-subj", "/CN=x"], { stdout: "pipe" });
    const request = Buffer.from(p.stdout).toString("base64");
    for (const name of ["old", "fresh"]) {
      const obj = { apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name }, spec: { request, signerName: "example.com/s", usages: ["client auth"] } };
      expect((await env.cluster.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(obj) })).code).toBe(0);
    }
    // An approval with its own timestamps (kept by the approval strategy): two hours ago.
    const live = await env.cluster.api("/apis/certificates.k8s.io/v1/certificatesigningrequests/old").then((r) => r.json() as Promise<any>);
    live.status = { conditions: [{ type: "Approved", status: "True", reason: "Test", lastUpdateTime: iso(Date.now() - 2 * HOUR), lastTransitionTime: iso(Date.now() - 2 * HOUR) }] };
    const put = await env.cluster.api("/apis/certificates.k8s.io/v1/certificatesigningrequests/old/approval", { method: "PUT", body: JSON.stringify(live), headers: { "Content-Type": "application/json" } });
    expect(put.status).toBe(200);
    await waitFor("old CSR deleted", async () => (await env.cluster.api("/apis/certificates.k8s.io/v1/certificatesigningrequests/old")).status === 404);
    expect((await env.cluster.api("/apis/certificates.k8s.io/v1/certificatesigningrequests/fresh")).status).toBe(200);
  });
});
