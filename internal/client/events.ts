// Event recorder: writes core/v1 Events about objects, folding repeats into one Event whose count and
// lastTimestamp are patched, as upstream's EventRecorder + EventCorrelator do (dedup, aggregation, spam filter).

import type { Event, ObjectReference } from "kubernetes-types/core/v1";
import { logger, type Logger } from "../log/log.ts";
import type { Client } from "./client.ts";
import { refs } from "./refs.ts";
import { ApiError } from "./types.ts";

export interface EventRecorder {
  /** Records an event; never throws (failures are logged). The promise resolves once it is written or dropped. */
  event(obj: any, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

export interface EventRecorderOptions {
  component: string;
  host?: string;
  /** reportingInstance; defaults to host. */
  instance?: string;
  log?: Logger;
  /** Clock, for tests. */
  now?: () => Date;
  /** Writes in flight at once (default 16). */
  maxInFlight?: number;
  /** Events waiting for a write slot beyond which new ones are dropped (default 1000, upstream's broadcaster queue). */
  maxQueued?: number;
}

// Upstream defaults (client-go tools/record/events_cache.go).
const CACHE_SIZE = 4096;
const AGGREGATE_MAX = 10;
const AGGREGATE_WINDOW_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_QPS = 1 / 300;
/** Writes in flight, and events waiting beyond which new ones are dropped (upstream's broadcaster queue is 1000). */
const MAX_IN_FLIGHT = 16;
const MAX_QUEUED = 1000;

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

/** A small LRU on top of Map's insertion order. */
class Lru<V> {
  private m = new Map<string, V>();
  constructor(private max: number) {}
  get(k: string): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value!);
  }
  delete(k: string): void {
    this.m.delete(k);
  }
}

export function involvedRef(obj: any): ObjectReference {
  const m = obj?.metadata ?? {};
  if (!obj?.metadata && obj?.name) return obj as ObjectReference; // already a reference
  return {
    apiVersion: obj?.apiVersion,
    kind: obj?.kind,
    namespace: m.namespace,
    name: m.name,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
  };
}

export function createEventRecorder(client: Client, opts: EventRecorderOptions): EventRecorder {
  const log = opts.log ?? logger(`events.${opts.component}`);
  const now = opts.now ?? (() => new Date());
  const host = opts.host ?? "";
  const seen = new Lru<Seen>(CACHE_SIZE);
  const similar = new Lru<{ messages: Set<string>; last: number }>(CACHE_SIZE);
  const buckets = new Lru<{ tokens: number; last: number }>(CACHE_SIZE);
  const events = (ns: string) => client.resource<Event>(refs.events, ns);

  function allowed(ref: ObjectReference, t: number): boolean {
    const k = [opts.component, host, ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion].join("\0");
    const b = buckets.get(k) ?? { tokens: SPAM_BURST, last: t };
    b.tokens = Math.min(SPAM_BURST, b.tokens + ((t - b.last) / 1000) * SPAM_QPS);
    b.last = t;
    buckets.set(k, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
  const maxQueued = opts.maxQueued ?? MAX_QUEUED;
  async function event(obj: any, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    if (inFlight >= maxInFlight) {
      if (waiting.length >= maxQueued) return; // dropped, as upstream does under pressure
      await new Promise<void>((r) => waiting.push(r));
    }
    inFlight++;
    try {
      await write(obj, type, reason, message);
    } finally {
      inFlight--;
      waiting.shift()?.();
    }
  }

  async function write(obj: any, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const ref = involvedRef(obj);
    const date = now();
    const t = date.getTime();
    const ts = date.toISOString().replace(/\.\d+Z$/, "Z");
    const namespace = ref.namespace || "default";
    if (!allowed(ref, t)) return;

    // Aggregation: many different messages for the same object+reason become one "combined" event.
    const aggKey = [opts.component, host, ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion, type, reason].join("\0");
    let sim = similar.get(aggKey);
    if (!sim || t - sim.last > AGGREGATE_WINDOW_MS) sim = { messages: new Set(), last: t };
    sim.messages.add(message);
    sim.last = t;
    similar.set(aggKey, sim);
    let msg = message;
    let key = aggKey + "\0" + message;
    if (sim.messages.size >= AGGREGATE_MAX) {
      msg = `(combined from similar events): ${message}`;
      key = aggKey + "\0(combined)";
    }

    const prev = seen.get(key);
    try {
      if (prev) {
        prev.count++;
        try {
          await events(prev.namespace).patch(prev.name, "merge", { count: prev.count, lastTimestamp: ts, message: msg });
          return;
        } catch (e) {
          // The event expired (events have a TTL) or was deleted: write a new one.
          if (!(e instanceof ApiError && e.code === 404)) throw e;
          seen.delete(key);
        }
      }
      const name = `${ref.name}.${(BigInt(t) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
      const ev: Event = {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace },
        involvedObject: ref,
        reason,
        message: msg,
        type,
        source: { component: opts.component, host: host || undefined },
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
        reportingComponent: opts.component,
        reportingInstance: opts.instance ?? host,
      };
      await events(namespace).create(ev);
      seen.set(key, { name, namespace, count: 1, firstTimestamp: ts });
    } catch (e) {
      log.warn("could not write event", { reason, object: `${ref.namespace ?? ""}/${ref.name}`, error: e as Error });
    }
  }

  return { event };
}
