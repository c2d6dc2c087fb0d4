// Test webhook servers: certificates made with openssl (a CA, and a serving certificate for 127.0.0.1, the
// namespace address and the service's DNS name), and one request handler that answers by path:
//   /label/k=v   adds a label (JSONPatch)          /deny/<msg>   refuses with that message (403)
//   /allow       allows, with a warning             /slow         answers after 5 s
//   /count       adds the label count=<n+1> (n: the count label already there, for reinvocation)
//   /v1only      answers as admission.k8s.io/v1 whatever it was sent
//   /move        patches metadata.namespace            /badpatch    sends a JSON patch that does not apply
// Every AdmissionReview request received is kept in `seen` (in-process servers only).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Certs {
  dir: string;
  caPEM: string;
  certFile: string;
  keyFile: string;
  /** Another CA, that did not sign the serving certificate. */
  otherCAPEM: string;
}

function openssl(args: string[], cwd: string): void {
  const p = Bun.spawnSync(["openssl", ...args], { cwd, stderr: "pipe", stdout: "pipe" });
  if (p.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${p.stderr.toString()}`);
}

export function makeCerts(dir: string, sans: string[]): Certs {
  mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=webhook-test-ca"], dir);
  openssl(["req", "-x509", ...ec, "-keyout", "other.key", "-out", "other.crt", "-days", "2", "-subj", "/CN=other-ca"], dir);
  openssl(["req", "-new", ...ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=webhook"], dir);
  Bun.write(join(dir, "ext.cnf"), `subjectAltName=${sans.join(",")}\n`);
  openssl(["x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.crt", "-days", "2", "-extfile", "ext.cnf"], dir);
  return {
    dir,
    caPEM: readFileSync(join(dir, "ca.crt"), "utf8"),
    certFile: join(dir, "srv.crt"),
    keyFile: join(dir, "srv.key"),
    otherCAPEM: readFileSync(join(dir, "other.crt"), "utf8"),
  };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

export function handler(seen: any[] = []) {
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const review = (await req.json()) as any;
    seen.push({ path: url.pathname, query: url.search, review });
    const rq = review.request;
    const answer = (response: Record<string, unknown>) =>
      Response.json({ apiVersion: review.apiVersion, kind: "AdmissionReview", response: { uid: rq.uid, ...response } });
    const labelsOp = (labels: Record<string, string>) =>
      rq.object?.metadata?.labels
        ? Object.entries(labels).map(([k, v]) => ({ op: "add", path: `/metadata/labels/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, value: v }))
        : [{ op: "add", path: "/metadata/labels", value: labels }];
    // Webhook URLs may not carry a query: arguments are the second path segment.
    const [, verb = "", arg = ""] = url.pathname.split("/");
    switch (`/${verb}`) {
      case "/label": {
        const [k, v] = decodeURIComponent(arg).split("=");
        const labels: Record<string, string> = { [k!]: v ?? "" };
        return answer({ allowed: true, patchType: "JSONPatch", patch: b64(JSON.stringify(labelsOp(labels))) });
      }
      case "/count": {
        const n = Number(rq.object?.metadata?.labels?.count ?? "0");
        return answer({ allowed: true, patchType: "JSONPatch", patch: b64(JSON.stringify(labelsOp({ count: String(n + 1) }))) });
      }
      case "/deny":
        return answer({ allowed: false, status: { code: 403, reason: "Forbidden", message: decodeURIComponent(arg) } });
      case "/allow":
        return answer({ allowed: true, warnings: ["webhook says careful"] });
      case "/move":
        return answer({ allowed: true, patchType: "JSONPatch", patch: b64(JSON.stringify([{ op: "replace", path: "/metadata/namespace", value: "wh-b" }])) });
      case "/badpatch":
        return answer({ allowed: true, patchType: "JSONPatch", patch: b64(JSON.stringify([{ op: "test", path: "/metadata/name", value: "not-this" }])) });
      case "/v1only":
        return Response.json({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: rq.uid, allowed: true } });
      case "/slow":
        await Bun.sleep(5000);
        return answer({ allowed: true });
      default:
        return new Response("not found", { status: 404 });
    }
  };
}

/** An HTTPS webhook server on 127.0.0.1 in this process. */
export function serveWebhooks(certs: Certs, seen: any[] = []) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: readFileSync(certs.certFile, "utf8"), key: readFileSync(certs.keyFile, "utf8") },
    fetch: handler(seen),
  });
}
