// Liveness/readiness/startup probes (exec, httpGet, tcpSocket, grpc unsupported) with upstream's timing fields.
// Network probes open their socket inside the pod's network namespace (see runtime/netns.ts), so they reach the
// pod whichever namespace the agent itself runs in. httpGet is a minimal HTTP/1.1 exchange over Bun.connect for
// the same reason (fetch runs on another thread, outside our setns).
import type { Container, Probe } from "kubernetes-types/core/v1";
import { inNetns } from "../runtime/netns.ts";
import type { Runtime } from "../runtime/types.ts";

export interface ProbeTarget {
  podIP?: string;
  netnsPath?: string;
  containerId: string;
  container: Container;
  runtime: Runtime;
}

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

function resolvePort(port: number | string, c: Container): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = c.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`named port ${port} not found in container ${c.name}`);
  return p.containerPort;
}

function connect(t: ProbeTarget, host: string, port: number, timeoutMs: number, payload?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      err ? reject(err) : resolve(buf);
    };
    const timer = setTimeout(() => {
      finish(new Error(`timeout after ${timeoutMs / 1000}s`));
      sock.then((s) => s.end()).catch(() => {});
    }, timeoutMs);
    const sock = inNetns(t.netnsPath, () =>
      Bun.connect({
        hostname: host,
        port,
        socket: {
          open(s) {
            if (payload === undefined) {
              s.end();
              finish();
            } else s.write(payload);
          },
          data(s, d) {
            buf += d.toString("latin1");
            if (/\r\n/.test(buf)) {
              s.end();
              finish();
            }
          },
          close() {
            finish();
          },
          error(_s, e) {
            finish(e);
          },
          connectError(_s, e) {
            finish(e);
          },
        },
      }),
    );
    sock.catch((e) => finish(e));
  });
}

export async function runProbe(p: Probe, t: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
  try {
    if (p.exec) {
      const proc = t.runtime.exec(t.containerId, p.exec.command ?? [], { timeoutMs });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      if (code === 0) return { ok: true, message: "" };
      return { ok: false, message: `command ${JSON.stringify((p.exec.command ?? []).join(" "))} exited with ${code}: ${(out + err).trim().slice(0, 200)}` };
    }
    if (p.tcpSocket) {
      const port = resolvePort(p.tcpSocket.port, t.container);
      const host = p.tcpSocket.host || t.podIP || "127.0.0.1";
      await connect(t, host, port, timeoutMs);
      return { ok: true, message: "" };
    }
    if (p.httpGet) {
      const g = p.httpGet;
      const port = resolvePort(g.port, t.container);
      const host = g.host || t.podIP || "127.0.0.1";
      if ((g.scheme ?? "HTTP") === "HTTPS") return { ok: false, message: "HTTPS probes are not supported on this node" };
      let path = g.path || "/";
      if (!path.startsWith("/")) path = "/" + path;
      const headers = [`Host: ${host}:${port}`, "User-Agent: kube-probe/1.32", "Accept: */*", "Connection: close"];
      for (const h of g.httpHeaders ?? []) headers.push(`${h.name}: ${h.value}`);
      const resp = await connect(t, host, port, timeoutMs, `GET ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(resp);
      if (!m) return { ok: false, message: `Get "http://${host}:${port}${path}": malformed HTTP response` };
      const code = Number(m[1]);
      if (code >= 200 && code < 400) return { ok: true, message: "" };
      return { ok: false, message: `HTTP probe failed with statuscode: ${code}` };
    }
    if (p.grpc) return { ok: false, message: "gRPC probes are not supported on this node" };
    return { ok: false, message: "probe has no handler" };
  } catch (e) {
    const what = p.httpGet ? `Get "http://${p.httpGet.host || t.podIP}:${p.httpGet.port}${p.httpGet.path ?? "/"}"` : p.tcpSocket ? `dial tcp ${t.podIP}:${p.tcpSocket.port}` : "probe";
    return { ok: false, message: `${what}: ${(e as Error).message}` };
  }
}

export type ProbeKind = "liveness" | "readiness" | "startup";

/** Runs one probe of one container on its schedule and reports state changes (after the thresholds). */
export class ProbeWorker {
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  /** undefined until the first result crosses a threshold. */
  result?: boolean;

  constructor(
    readonly kind: ProbeKind,
    private probe: Probe,
    private target: () => ProbeTarget | undefined,
    /** Whether the probe may run now (startup gates the others). */
    private gate: () => boolean,
    private onChange: (ok: boolean, message: string) => void,
  ) {
    this.timer = setTimeout(() => this.tick(), (probe.initialDelaySeconds ?? 0) * 1000);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const t = this.target();
    if (t && this.gate()) {
      const r = await runProbe(this.probe, t);
      if (this.stopped) return;
      if (r.ok) {
        this.successes++;
        this.failures = 0;
        const need = this.kind === "readiness" ? (this.probe.successThreshold ?? 1) : 1;
        if (this.successes >= need && this.result !== true) {
          this.result = true;
          this.onChange(true, "");
        }
      } else {
        this.failures++;
        this.successes = 0;
        // Each failed attempt is an Unhealthy event, as upstream.
        this.onFailure?.(r.message);
        if (this.failures >= (this.probe.failureThreshold ?? 3) && this.result !== false) {
          this.result = false;
          this.onChange(false, r.message);
        }
      }
    }
    if (!this.stopped) this.timer = setTimeout(() => this.tick(), (this.probe.periodSeconds ?? 10) * 1000);
  }

  onFailure?: (message: string) => void;

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
