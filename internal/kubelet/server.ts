// The kubelet's HTTPS endpoint (port 10250), called only by the API server, which proxies pods/log, pods/exec,
// pods/attach and pods/portforward here (paths as upstream's kubelet: /containerLogs, /exec, /attach, /portForward).
// Streams are websockets: the channel protocols (v5/v4.channel.k8s.io, portforward.k8s.io), or SPDY/3.1 carried
// inside the websocket ("SPDY/3.1+<protocol>": kubectl's port-forward, and every plain SPDY client whose upgrade
// the API server relays this way).
// TLS: the serving certificate the cluster CA issued for this node at join and renews with the node's credentials
// (the API server refuses any other); a self-signed one only when none was given (tests that start this server alone).
// Callers: only the API server, with a token for this kubelet only, valid a few minutes, checked locally against the
// keys received at join (auth/kubeletauth.ts). Anyone else (even system:masters) gets 403: they go through the API.
import type { ServerWebSocket } from "bun";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "../client/client.ts";
import { createKubeletAuthenticator } from "../auth/kubeletauth.ts";
import type { UserInfo } from "../auth/types.ts";
import { exportKeyPEM } from "../auth/pem.ts";
import { logger } from "../log/log.ts";
import { inNetns } from "../runtime/netns.ts";
import type { ExecProcess, Runtime } from "../runtime/types.ts";
import type { Kubelet } from "./kubelet.ts";
import { parseLogOptions, streamLogs } from "./logs.ts";
import { SPDY_EXEC_PROTOCOLS, SpdyExec } from "./spdy-exec.ts";
import { SpdyPortForward } from "./spdy-portforward.ts";
import { queryBool } from "../api/querybool.ts";
import { renderResourceMetrics, renderSummary } from "./stats/render.ts";
import type { StatsCollector } from "./stats/collector.ts";

const log = logger("kubelet.server");

export interface KubeletServerOptions {
  kubelet: Kubelet;
  client: Client;
  runtime: Runtime;
  port: number;
  bindAddress?: string;
  /** Listen inside this network namespace (a node that lives in a test-made namespace). */
  listenNetns?: string;
  certDir: string;
  /** This node's name: the only audience of the API server tokens this kubelet accepts. */
  nodeName: string;
  /** The CA-issued serving certificate and its key (PEM). */
  servingCert?: ServingCert;
  /** JWKS of the keys signing the API server's kubelet tokens (from join). */
  verificationKeys?: () => { keys: unknown[] } | undefined;
  /** Users allowed besides the API server and system:masters (tests). */
  allowUsers?: string[];
  /** Resource usage samples for /metrics/resource, /metrics and /stats/summary. */
  stats?: StatsCollector;
}

export interface ServingCert {
  cert: string;
  key: string;
}

const PROM_TEXT = { "content-type": "text/plain; version=0.0.4; charset=utf-8" };
/** The node's start in the Summary API: boot time (btime of /proc/stat), as the root cgroup's creation upstream. */
const nodeStart = new Date(bootTimeMs() ?? Date.now()).toISOString().replace(/\.\d+Z$/, "Z");

function bootTimeMs(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

async function servingCert(dir: string): Promise<ServingCert> {
  const cf = join(dir, "kubelet.crt");
  const kf = join(dir, "kubelet.key");
  if (existsSync(cf) && existsSync(kf)) return { cert: readFileSync(cf, "utf8"), key: readFileSync(kf, "utf8") };
  mkdirSync(dir, { recursive: true });
  // Only then the x509 library: an agent with its CA-issued certificate never loads it.
  const { createSelfSignedServingCert } = await import("../auth/x509certs.ts");
  const { certPEM, keys } = await createSelfSignedServingCert({ commonName: `kubun-kubelet@${Math.floor(Date.now() / 1000)}`, days: 10 * 365 });
  const out = { cert: certPEM, key: await exportKeyPEM(keys.privateKey) };
  writeFileSync(cf, out.cert);
  writeFileSync(kf, out.key, { mode: 0o600 });
  return out;
}

function status(code: number, reason: string, message: string): Response {
  return Response.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code }, { status: code });
}

type WsData =
  | { kind: "exec"; proc?: ExecProcess; start: (ws: ServerWebSocket<WsData>) => void; v5: boolean }
  | { kind: "spdy"; ports: number[]; netnsPath?: string; pf?: SpdyPortForward }
  | { kind: "spdyexec"; make: (ws: ServerWebSocket<WsData>) => SpdyExec; session?: SpdyExec }
  | { kind: "portforward"; ports: number[]; netnsPath?: string; podIP: string; conns: Map<number, any>; v5: boolean };

const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"];
const PF_PROTOCOLS = ["v4.channel.k8s.io", "portforward.k8s.io", "channel.k8s.io"];
const SPDY_TUNNEL = "SPDY/3.1+portforward.k8s.io";

function exitMessage(code: number, cmd: string[]): string {
  return `command terminated with non-zero exit code: error executing command [${cmd.join(" ")}], exit code ${code}`;
}

function exitStatus(code: number, cmd: string[]): string {
  if (code === 0) return JSON.stringify({ metadata: {}, status: "Success" });
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: exitMessage(code, cmd),
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  });
}

function frame(channel: number, data: Uint8Array | string): Uint8Array {
  const body = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const out = new Uint8Array(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

export async function startKubeletServer(o: KubeletServerOptions): Promise<{ port: number; setServingCert(next: ServingCert): void; stop(): void }> {
  if (!o.servingCert) log.warn("no CA-issued serving certificate: using a self-signed one, which the API server will not accept");
  const tls = o.servingCert ?? (await servingCert(o.certDir));
  const authenticator = createKubeletAuthenticator({
    nodeName: o.nodeName,
    verificationKeys: o.verificationKeys,
    allowedUsers: o.allowUsers,
    // Only the API server calls kubelets (it authorizes the user first); an admin goes through it too.
    allowMasters: false,
    async tokenReview(token, audiences): Promise<UserInfo | null> {
      const r = await o.client.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, ...(audiences ? { audiences } : {}) },
      });
      if (!r?.status?.authenticated) return null;
      return { username: r.status.user?.username ?? "", groups: r.status.user?.groups ?? [] };
    },
  });

  const listen = (tls: ServingCert, port: number) => inNetns(o.listenNetns, () => Bun.serve<WsData>({
    port,
    hostname: o.bindAddress ?? "0.0.0.0",
    tls: { cert: tls.cert, key: tls.key },
    idleTimeout: 0,
    async fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/healthz") return new Response("ok");
      const caller = await authenticator.check(req.headers.get("authorization"));
      if (!caller.user) return status(401, "Unauthorized", "Unauthorized");
      if (!caller.allowed) return status(403, "Forbidden", `user "${caller.user.username}" may not use the kubelet API`);
      if (o.stats && req.method === "GET") {
        const p = url.pathname.replace(/\/+$/, "");
        if (p === "/metrics/resource" || p === "/metrics") return new Response(renderResourceMetrics(o.stats.latest()), { headers: PROM_TEXT });
        if (p === "/stats/summary" || p === "/stats") return Response.json(renderSummary(o.stats.latest(), o.nodeName, nodeStart));
      }
      const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      const q = url.searchParams;
      const [kind, ns, podName, container] = parts;
      if (!ns || !podName) return status(404, "NotFound", "not found");
      const rec = o.kubelet.findPod(ns, podName);
      if (!rec) return status(404, "NotFound", `pod ${ns}/${podName} not found on this node`);

      if (kind === "containerLogs") {
        const name = container ?? o.kubelet.containerId(rec).name;
        if (!rec.containers[name]) return status(400, "BadRequest", `container ${name} is not valid for pod ${podName}`);
        let opts;
        try {
          opts = parseLogOptions(q);
        } catch (e) {
          return status(400, "BadRequest", (e as Error).message);
        }
        const path = o.kubelet.logPath(rec, name, opts.previous);
        if (!path || !existsSync(path)) {
          if (opts.previous) return status(400, "BadRequest", `previous terminated container "${name}" in pod "${podName}" not found`);
          return status(400, "BadRequest", `container "${name}" in pod "${podName}" is waiting to start: ${rec.containers[name]?.waiting?.reason ?? "ContainerCreating"}`);
        }
        const cr = rec.containers[name]!;
        const id = cr.id;
        const stillRunning = () => !opts.previous && cr.running && cr.id === id;
        return new Response(streamLogs(path, opts, stillRunning, req.signal), { headers: { "content-type": "text/plain" } });
      }

      if (kind === "exec" || kind === "attach") {
        const { id, name } = o.kubelet.containerId(rec, container);
        if (!id) return status(400, "BadRequest", `container ${name} is not running`);
        const cmd = q.getAll("command");
        if (kind === "exec" && !cmd.length) return status(400, "BadRequest", "you must specify at least one command for the container");
        const flag = (k: string) => queryBool(q, k) === true;
        const wantStdin = flag("stdin") || q.get("input") === "1";
        const tty = flag("tty");
        // exec starts a new process; attach joins the container's main process (its stdin FIFO and live output).
        const open = (): ExecProcess =>
          kind === "exec" ? o.runtime.exec(id, cmd, { tty, stdin: wantStdin ? new ReadableStream({ start: () => {} }) : "" }) : o.runtime.attach(id, { stdin: wantStdin, stdinOnce: !!o.kubelet.containerSpec(rec, name)?.stdinOnce });
        const statusText = (code: number, v4: boolean) => (kind === "attach" ? (v4 ? exitStatus(0, cmd) : "") : v4 ? exitStatus(code, cmd) : code === 0 ? "" : exitMessage(code, cmd));
        const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
        // SPDY tunnelled through the websocket: the API server relays a client's SPDY upgrade this way.
        const spdy = SPDY_EXEC_PROTOCOLS.find((p) => offered.includes(`SPDY/3.1+${p}`));
        if (spdy) {
          const data: WsData = {
            kind: "spdyexec",
            make: (ws) =>
              new SpdyExec({
                send: (b) => void ws.send(b),
                close: () => ws.close(1000),
                protocol: spdy,
                stdin: wantStdin,
                stdout: flag("stdout"),
                stderr: flag("stderr"),
                tty,
                open,
                status: statusText,
              }),
          };
          if (srv.upgrade(req, { data, headers: { "Sec-WebSocket-Protocol": `SPDY/3.1+${spdy}` } })) return undefined as any;
          return status(400, "BadRequest", `${kind} requires a websocket upgrade`);
        }
        const proto = EXEC_PROTOCOLS.find((p) => offered.includes(p));
        if (!proto) return status(400, "BadRequest", `unsupported websocket subprotocols: ${offered.join(", ")}; want one of ${EXEC_PROTOCOLS.join(", ")}`);
        const v5 = proto === "v5.channel.k8s.io";
        const data: WsData = {
          kind: "exec",
          v5,
          start(ws) {
            const proc = open();
            if (data.kind === "exec") data.proc = proc;
            const pump = async (s: ReadableStream<Uint8Array>, ch: number) => {
              for await (const chunk of s) ws.send(frame(ch, chunk));
            };
            void Promise.all([pump(proc.stdout, 1), pump(proc.stderr, 2), proc.exited]).then(([, , code]) => {
              const msg = statusText(code, proto !== "channel.k8s.io");
              if (msg) ws.send(frame(3, msg));
              ws.close(1000);
            });
          },
        };
        if (srv.upgrade(req, { data, headers: { "Sec-WebSocket-Protocol": proto } })) return undefined as any;
        return status(400, "BadRequest", `${kind} requires a websocket upgrade`);
      }

      if (kind === "portForward") {
        const ports = q.getAll("ports").flatMap((p) => p.split(",")).map(Number).filter((n) => n > 0 && n < 65536);
        const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
        if (offered.includes(SPDY_TUNNEL)) {
          // kubectl port-forward: SPDY tunnelled through the websocket.
          const data: WsData = { kind: "spdy", ports, netnsPath: rec.netnsPath };
          if (srv.upgrade(req, { data, headers: { "Sec-WebSocket-Protocol": SPDY_TUNNEL } })) return undefined as any;
          return status(400, "BadRequest", "portForward requires a websocket upgrade");
        }
        const proto = PF_PROTOCOLS.find((p) => offered.includes(p));
        if (!proto || !ports.length) return status(400, "BadRequest", "port-forward needs a websocket (v4.channel.k8s.io) and ?ports=; SPDY tunnelling is not supported by this node");
        const data: WsData = { kind: "portforward", ports, netnsPath: rec.netnsPath, podIP: "127.0.0.1", conns: new Map(), v5: false };
        if (srv.upgrade(req, { data, headers: { "Sec-WebSocket-Protocol": proto } })) return undefined as any;
        return status(400, "BadRequest", "portForward requires a websocket upgrade");
      }
      return status(404, "NotFound", `unknown kubelet path ${url.pathname}`);
    },
    websocket: {
      open(ws) {
        const d = ws.data;
        if (d.kind === "exec") return d.start(ws);
        if (d.kind === "spdyexec") {
          d.session = d.make(ws);
          return;
        }
        if (d.kind === "spdy") {
          d.pf = new SpdyPortForward({
            ports: d.ports,
            send: (b) => {
              ws.send(b);
            },
            close: () => ws.close(1000),
            connect: (port, h) =>
              inNetns(d.netnsPath, () =>
                Bun.connect({
                  hostname: "127.0.0.1",
                  port,
                  socket: {
                    data: (_s, b) => h.data(new Uint8Array(b)),
                    close: () => h.close(),
                    error: (_s, e) => h.error(e),
                    connectError: (_s, e) => h.error(e),
                  },
                }),
              ).then((s) => ({ write: (b: Uint8Array) => void s.write(b), end: () => s.end() })),
          });
          return;
        }
        // portforward.k8s.io over websocket: per port a data channel (2i) and an error channel (2i+1); each
        // channel's first frame carries the port number (uint16 little endian).
        d.ports.forEach((port, i) => {
          const hdr = new Uint8Array([port & 0xff, port >> 8]);
          ws.send(frame(2 * i, hdr));
          ws.send(frame(2 * i + 1, hdr));
          const pending: Uint8Array[] = [];
          const conn: any = { pending, sock: undefined };
          d.conns.set(2 * i, conn);
          const p = inNetns(d.netnsPath, () =>
            Bun.connect({
              hostname: d.podIP,
              port,
              socket: {
                data: (_s, chunk) => {
                  ws.send(frame(2 * i, new Uint8Array(chunk)));
                },
                close: () => {
                  ws.close(1000);
                },
                error: (_s, e) => {
                  ws.send(frame(2 * i + 1, `error forwarding port ${port}: ${e.message}`));
                },
                connectError: (_s, e) => {
                  ws.send(frame(2 * i + 1, `error forwarding port ${port} to pod: ${e.message}`));
                  ws.close(1000);
                },
              },
            }),
          );
          p.then((s) => {
            conn.sock = s;
            for (const b of pending) s.write(b);
            pending.length = 0;
          }).catch(() => {});
        });
      },
      message(ws, msg) {
        const d = ws.data;
        const buf = typeof msg === "string" ? new TextEncoder().encode(msg) : new Uint8Array(msg);
        if (!buf.length) return;
        if (d.kind === "spdy") return d.pf?.feed(buf);
        if (d.kind === "spdyexec") return d.session?.feed(buf);
        const ch = buf[0]!;
        const body = buf.subarray(1);
        if (d.kind === "exec") {
          if (ch === 0) d.proc?.write(body);
          else if (ch === 255 && body[0] === 0) d.proc?.end();
          else if (ch === 4) {
            try {
              const { Width, Height } = JSON.parse(new TextDecoder().decode(body));
              d.proc?.resize?.(Width, Height);
            } catch {}
          }
          return;
        }
        const conn = d.conns.get(ch);
        if (!conn) return;
        // Only the server prefixes each channel with the port (upstream's kubelet); client frames are all data.
        conn.sock ? conn.sock.write(body) : conn.pending.push(body.slice());
      },
      close(ws) {
        const d = ws.data;
        if (d.kind === "exec") {
          d.proc?.end();
          // A closed client ends a still-running exec (kubectl exec interrupted).
          setTimeout(() => d.proc?.kill(), 1000);
        } else if (d.kind === "spdyexec") d.session?.close();
        else if (d.kind === "spdy") d.pf?.close();
        else for (const c of d.conns.values()) c.sock?.end();
      },
    },
  }));
  let server = listen(tls, o.port);
  const port = server.port!;
  /** Whether `server` is listening (false while a replacement waits for the port). */
  let live = true;
  /** Stopped listeners whose open streams still run; each is dropped once they end. */
  const retired = new Set<typeof server>();
  let retry: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const relisten = (next: ServingCert) => {
    retry = undefined;
    if (stopped) return;
    try {
      server = listen(next, port);
      live = true;
      log.info("kubelet serving certificate replaced", { port });
    } catch (e) {
      // Something took the port in between: keep trying, the API server cannot reach this kubelet meanwhile.
      log.error("kubelet port taken while replacing its certificate; retrying", { port, error: e });
      retry = setTimeout(() => relisten(next), 1000);
    }
  };
  log.info("kubelet serving", { port });
  return {
    port,
    // Bun cannot swap a listener's certificate: the old listener stops listening, its open streams (exec, attach,
    // logs -f, port-forward) running to their end, and a new one takes the port in the same tick. Not both at once
    // with SO_REUSEPORT: a second agent started by mistake must still fail on the port instead of sharing it.
    setServingCert(next: ServingCert) {
      clearTimeout(retry); // a newer certificate replaces one still waiting for the port
      if (live) {
        const old = server;
        live = false;
        retired.add(old);
        void old.stop(false).then(() => retired.delete(old));
      }
      relisten(next);
    },
    stop: () => {
      stopped = true;
      clearTimeout(retry);
      for (const s of retired) void s.stop(true);
      if (live) void server.stop(true);
    },
  };
}
