// The API Priority and Fairness configuration at run time: FlowSchemas and PriorityLevelConfigurations read from the
// store and kept fresh by a watch, one QueueSet per priority level, the FlowSchemas' `Dangling` condition, and the
// mandatory objects put back when someone deletes or changes them (upstream's APF config controller).
//
// Concurrency: the server's limit (upstream: --max-requests-inflight + --max-mutating-requests-inflight) is shared
// by the Limited levels in proportion to their nominalConcurrencyShares (nominal limit = ceil(limit × shares / sum of
// shares)). Simplification: levels don't lend or borrow seats (lendablePercent and borrowingLimitPercent are stored and
// validated, not applied), so each level's limit is its nominal one.
import type { FlowSchema, FlowSchemaCondition, PriorityLevelConfiguration } from "kubernetes-types/flowcontrol/v1";
import type { UserInfo } from "../../auth/types.ts";
import type { Logger } from "../../log/log.ts";
import { CompactedError, type Store, type WatchEvent } from "../../store/types.ts";
import type { RequestInfo } from "../requestinfo.ts";
import { ensureFlowControlObjects, specMatches, FS_PREFIX, MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS, PL_PREFIX } from "./bootstrap.ts";
import { flowDistinguisher, flowSchemaMatches, sortFlowSchemas } from "./match.ts";
import { metrics as serverMetrics } from "../metrics.ts";
import { FlowControlMetrics } from "./metrics.ts";
import { flowHash, QueueSet, type LevelConfig } from "./queueset.ts";

export interface Level {
  name: string;
  uid: string;
  exempt: boolean;
  queues: QueueSet;
}

export interface Classification {
  schema: { name: string; uid: string };
  level: Level;
  flowHash: bigint;
}

export interface FlowControlOptions {
  /** Seats shared by all Limited levels. */
  serverConcurrencyLimit: number;
  /** How long a request may wait in a queue before 429 (upstream: a quarter of the request timeout, 15 s). */
  queueWaitMs: number;
  log: Logger;
}

function stamp(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export class FlowControl {
  private schemas = new Map<string, { obj: FlowSchema; modRevision: number }>();
  private levelObjs = new Map<string, PriorityLevelConfiguration>();
  private levels = new Map<string, Level>();
  private ordered: FlowSchema[] = [];
  private abort = new AbortController();
  private stopped = false;
  private repairing = false;
  private again = false;
  /** Resolves when both resources have been listed once. */
  readonly ready: Promise<void>;
  readonly metrics = new FlowControlMetrics();
  private removeCollector: () => void;

  constructor(
    private store: Store,
    private opts: FlowControlOptions,
  ) {
    this.ready = this.start();
    this.removeCollector = serverMetrics.addCollector((out) => this.metrics.render(out, this.levels.values()));
  }

  /** True once both resources have been listed; before that requests wait for it (at most a few seconds). */
  get synced(): boolean {
    return this._synced;
  }
  private _synced = false;

  stop(): void {
    this.removeCollector();
    this.stopped = true;
    this.abort.abort();
  }

  /** The FlowSchema and priority level a request belongs to, with its flow's hash. */
  classify(user: UserInfo, info: RequestInfo): Classification {
    for (const fs of this.ordered) {
      const level = this.levels.get(fs.spec!.priorityLevelConfiguration.name);
      if (!level || !flowSchemaMatches(fs, user, info)) continue;
      const name = fs.metadata!.name!;
      return { schema: { name, uid: fs.metadata!.uid ?? "" }, level, flowHash: flowHash(name, flowDistinguisher(fs, user, info)) };
    }
    // Only before the first list or with a broken configuration: upstream's catch-all, as a built-in.
    const level = this.levels.get("catch-all") ?? this.builtinCatchAll();
    return { schema: { name: "catch-all", uid: this.schemas.get("catch-all")?.obj.metadata?.uid ?? "" }, level, flowHash: flowHash("catch-all", user.username) };
  }

  private catchAll?: Level;
  private builtinCatchAll(): Level {
    this.catchAll ??= { name: "catch-all", uid: "", exempt: false, queues: new QueueSet(this.levelConfig(MANDATORY_PRIORITY_LEVELS[1]!, 5), this.opts.queueWaitMs) };
    return this.catchAll;
  }

  private async start(): Promise<void> {
    try {
      await ensureFlowControlObjects(this.store);
    } catch (err) {
      this.opts.log.warn("flow control: could not create the default objects", { err: err as Error });
    }
    const listed = [FS_PREFIX, PL_PREFIX].map((prefix) => new Promise<void>((done) => void this.loop(prefix, done)));
    await Promise.all(listed);
    // Conditions and repairs only once both resources are known (a FlowSchema is not dangling because its level
    // simply hasn't been listed yet).
    this._synced = true;
    this.recompute();
  }

  /** List + watch one prefix, relisting when the watch breaks. */
  private async loop(prefix: string, onListed?: () => void): Promise<void> {
    while (!this.stopped) {
      try {
        const res = await this.store.list(prefix);
        this.replace(prefix, res.items.map((kv) => ({ value: kv.value, modRevision: kv.modRevision })));
        onListed?.();
        onListed = undefined;
        for await (const batch of this.store.watch(prefix, { afterRevision: res.revision, signal: this.abort.signal })) this.apply(prefix, batch);
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof Error && /closed/.test(err.message)) break;
        if (!(err instanceof CompactedError)) {
          this.opts.log.warn("flow control: watch failed, relisting", { prefix, err: err as Error });
          await Bun.sleep(1000);
        }
      }
    }
    onListed?.();
  }

  private replace(prefix: string, items: { value: string; modRevision: number }[]): void {
    if (prefix === FS_PREFIX) this.schemas.clear();
    else this.levelObjs.clear();
    for (const it of items) this.put(prefix, it.value, it.modRevision);
    this.recompute();
  }

  private apply(prefix: string, batch: WatchEvent[]): void {
    for (const ev of batch) {
      const name = ev.kv.key.slice(prefix.length);
      if (ev.type === "DELETE") {
        if (prefix === FS_PREFIX) this.schemas.delete(name);
        else this.levelObjs.delete(name);
      } else this.put(prefix, ev.kv.value, ev.kv.modRevision);
    }
    this.recompute();
  }

  private put(prefix: string, value: string, modRevision: number): void {
    let obj: any;
    try {
      obj = JSON.parse(value);
    } catch {
      return;
    }
    const name = obj?.metadata?.name;
    if (typeof name !== "string") return;
    if (prefix === FS_PREFIX) this.schemas.set(name, { obj, modRevision });
    else this.levelObjs.set(name, obj);
  }

  private levelConfig(pl: PriorityLevelConfiguration, limit: number): LevelConfig {
    const q = pl.spec?.limited?.limitResponse?.type === "Queue" ? pl.spec.limited.limitResponse.queuing : undefined;
    return {
      concurrencyLimit: limit,
      queuing: q ? { queues: q.queues ?? 64, handSize: q.handSize ?? 8, queueLengthLimit: q.queueLengthLimit ?? 50 } : undefined,
    };
  }

  private recompute(): void {
    // Nominal limits: the server's seats in proportion to each level's shares.
    let shares = 0;
    for (const pl of this.levelObjs.values()) {
      shares += pl.spec?.type === "Exempt" ? (pl.spec.exempt?.nominalConcurrencyShares ?? 0) : (pl.spec?.limited?.nominalConcurrencyShares ?? 30);
    }
    const seen = new Set<string>();
    for (const pl of this.levelObjs.values()) {
      const name = pl.metadata!.name!;
      seen.add(name);
      const exempt = pl.spec?.type === "Exempt";
      const limit = exempt ? Infinity : shares > 0 ? Math.ceil((this.opts.serverConcurrencyLimit * (pl.spec?.limited?.nominalConcurrencyShares ?? 30)) / shares) : 0;
      const cfg = this.levelConfig(pl, limit);
      const cur = this.levels.get(name);
      if (cur && cur.exempt === exempt) {
        cur.uid = pl.metadata?.uid ?? "";
        cur.queues.setConfig(cfg);
      } else this.levels.set(name, { name, uid: pl.metadata?.uid ?? "", exempt, queues: new QueueSet(cfg, this.opts.queueWaitMs) });
    }
    // A deleted level: requests already admitted keep their QueueSet; new ones no longer find it.
    for (const name of [...this.levels.keys()]) if (!seen.has(name)) this.levels.delete(name);
    this.ordered = sortFlowSchemas([...this.schemas.values()].map((s) => s.obj).filter((fs) => fs?.spec?.priorityLevelConfiguration?.name));
    if (this._synced) void this.maintain();
  }

  /** Dangling conditions and mandatory objects; one pass at a time, re-run by the watch it causes. */
  private async maintain(): Promise<void> {
    if (this.stopped) return;
    if (this.repairing) {
      this.again = true;
      return;
    }
    this.repairing = true;
    this.again = false;
    try {
      const missing =
        MANDATORY_PRIORITY_LEVELS.some((o) => !this.levelObjs.has(o.metadata!.name!) || !specMatches(PL_PREFIX, this.levelObjs.get(o.metadata!.name!)!.spec, o)) ||
        MANDATORY_FLOW_SCHEMAS.some((o) => !this.schemas.has(o.metadata!.name!) || !specMatches(FS_PREFIX, this.schemas.get(o.metadata!.name!)!.obj.spec, o));
      if (missing) await ensureFlowControlObjects(this.store);
      for (const [name, { obj, modRevision }] of this.schemas) {
        const want = this.danglingCondition(obj);
        const cur = (obj.status?.conditions ?? []).find((c) => c.type === "Dangling");
        if (cur && cur.status === want.status && cur.reason === want.reason && cur.message === want.message) continue;
        const next = structuredClone(obj) as FlowSchema;
        const others = (next.status?.conditions ?? []).filter((c) => c.type !== "Dangling");
        next.status = { ...(next.status ?? {}), conditions: [...others, { ...want, lastTransitionTime: cur && cur.status === want.status ? cur.lastTransitionTime : stamp() }] };
        if (next.metadata) next.metadata = { ...next.metadata, resourceVersion: undefined };
        try {
          await this.store.update(FS_PREFIX + name, JSON.stringify(next), modRevision);
        } catch {
          // Changed meanwhile (or deleted): the watch brings the new version and another pass.
        }
      }
    } catch (err) {
      if (!this.stopped) this.opts.log.warn("flow control: maintaining objects failed", { err: err as Error });
    } finally {
      this.repairing = false;
      if (this.again) void this.maintain();
    }
  }

  private danglingCondition(fs: FlowSchema): FlowSchemaCondition {
    const pl = fs.spec?.priorityLevelConfiguration?.name ?? "";
    return this.levelObjs.has(pl)
      ? { type: "Dangling", status: "False", reason: "Found", message: `This FlowSchema references the PriorityLevelConfiguration object named "${pl}" and it exists` }
      : { type: "Dangling", status: "True", reason: "NotFound", message: `This FlowSchema references the PriorityLevelConfiguration object named "${pl}" but there is no such object` };
  }
}
