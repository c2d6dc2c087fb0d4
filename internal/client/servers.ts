// Client-side load balancing over several API servers, as k3s's agent load balancer: every call goes to the
// current server; when a server cannot be reached the next one takes over for all calls and watches (watches
// resume from their last resourceVersion, which is the same on every server of one datastore). The list starts
// with the configured --server URLs, grows with the servers the `kubernetes` Endpoints name, and is kept on disk
// so an agent restarted while its first server is down still knows the others.
import { readFileSync } from "node:fs";
import { writeAtomic } from "../api/files.ts";
import type { Endpoints } from "kubernetes-types/core/v1";
import type { Logger } from "../log/log.ts";
import type { SharedInformerFactory } from "./factory.ts";
import { refs } from "./refs.ts";

/** Errors that mean the request never reached a server (or the connection to it broke): try another one. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED", "ConnectionRefused", "ConnectionClosed", "FailedToOpenSocket"]);

export function isUnreachable(e: unknown): boolean {
  return UNREACHABLE.has((e as { code?: string } | undefined)?.code ?? "");
}

export interface ServerPoolOptions {
  /** Where the list is kept between runs (JSON); none: memory only. */
  stateFile?: string;
  log?: Logger;
}

export class ServerPool {
  private configured: string[];
  private learnt: string[] = [];
  private index = 0;
  private offlineSince?: number;

  constructor(
    urls: string[],
    private opts: ServerPoolOptions = {},
  ) {
    this.configured = dedupe(urls.map(normalize));
    if (!this.configured.length) throw new Error("server pool: no server URL");
    if (opts.stateFile) {
      try {
        const saved = JSON.parse(readFileSync(opts.stateFile, "utf8")) as { servers?: unknown };
        if (Array.isArray(saved.servers)) this.learnt = dedupe(saved.servers.filter((s): s is string => typeof s === "string" && /^https:\/\//.test(s)).map(normalize));
      } catch {
        // no saved list yet
      }
    }
  }

  /** Every known server, configured ones first. */
  all(): string[] {
    return dedupe([...this.configured, ...this.learnt]);
  }

  /** The server calls go to now. */
  current(): string {
    const all = this.all();
    return all[this.index % all.length]!;
  }

  /** A call to `url` could not reach it: the next server becomes current (unless another call moved on already). */
  failed(url: string, error?: unknown): void {
    const all = this.all();
    if (all.length < 2 || normalize(url) !== this.current()) return;
    this.index = (this.index + 1) % all.length;
    this.opts.log?.warn("API server unreachable; switching to the next one", { from: url, to: this.current(), error: (error as { code?: string })?.code });
  }

  /** No server could be reached: one clear log line when that starts (the node runs on from its local state). */
  unreachable(error?: unknown): void {
    if (this.offlineSince !== undefined) return;
    this.offlineSince = Date.now();
    this.opts.log?.warn("no API server reachable: running offline from local state (pods keep running); retrying with backoff", {
      servers: this.all(),
      error: (error as { code?: string })?.code,
    });
  }

  /** A call got an answer: back online (logged once, with how long it lasted). */
  reachable(): void {
    if (this.offlineSince === undefined) return;
    this.opts.log?.info("API server reachable again", { server: this.current(), offlineSeconds: Math.round((Date.now() - this.offlineSince) / 1000) });
    this.offlineSince = undefined;
  }

  /** The servers the cluster lists now (from the `kubernetes` Endpoints): kept, and saved when they changed. */
  learn(urls: string[]): void {
    const next = dedupe(urls.map(normalize));
    if (!next.length || same(next, this.learnt)) return;
    const cur = this.current();
    this.learnt = next;
    const all = this.all();
    this.index = Math.max(0, all.indexOf(cur));
    this.opts.log?.info("API servers", { servers: all });
    if (this.opts.stateFile) writeAtomic(this.opts.stateFile, JSON.stringify({ servers: next }) + "\n");
  }
}

/** Feeds the pool every live API server from the `kubernetes` Endpoints (which list every live server). */
export function followAPIServers(informers: SharedInformerFactory, servers: ServerPool): void {
  const endpoints = informers.informerFor<Endpoints>(refs.endpoints, { namespace: "default", fieldSelector: "metadata.name=kubernetes" });
  const learn = (ep: Endpoints) => servers.learn(serverURLsFromEndpoints(ep));
  endpoints.addEventHandler({ onAdd: learn, onUpdate: (_o, n) => learn(n) });
}

/** https://ip:port URLs of the `kubernetes` Endpoints' subsets. */
export function serverURLsFromEndpoints(ep: { subsets?: { addresses?: { ip: string }[]; ports?: { name?: string; port: number }[] }[] } | undefined): string[] {
  const out: string[] = [];
  for (const s of ep?.subsets ?? []) {
    const port = s.ports?.find((p) => p.name === "https")?.port ?? s.ports?.[0]?.port;
    if (!port) continue;
    for (const a of s.addresses ?? []) out.push(`https://${a.ip.includes(":") ? `[${a.ip}]` : a.ip}:${port}`);
  }
  return out;
}

function normalize(url: string): string {
  return url.replace(/\/+$/, "");
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
