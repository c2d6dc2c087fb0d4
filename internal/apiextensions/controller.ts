// The CRD controllers, run by every API server on its own store watch (so each server of an HA pair serves
// the same custom resources): naming (NamesAccepted, status.acceptedNames), establishing (Established),
// storedVersions, serving (registry rows through served.ts), and the finalizer that deletes every custom
// object of a CRD being deleted before the CRD goes and its resource stops being served.
import { BUILTIN_RESOURCES, storagePrefix } from "../api/resources.ts";
import type { Logger } from "../log/log.ts";
import { CompactedError, ConflictError, NotFoundError, type KeyValue, type Store } from "../store/types.ts";
import { decideNames } from "./crd/names.ts";
import { CLEANUP_FINALIZER, condition, storageVersion, type CRD } from "./crd/types.ts";
import { rowsOf, syncServed } from "./served.ts";

export const CRD_PREFIX = "/registry/apiextensions.k8s.io/customresourcedefinitions/";

function nowRFC3339(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function setCondition(crd: CRD, type: string, status: string, reason: string, message: string): void {
  const conds: any[] = ((crd.status ??= {} as any).conditions ??= []);
  const prev = conds.find((c: { type: string }) => c.type === type);
  if (prev) {
    if (prev.status !== status) prev.lastTransitionTime = nowRFC3339();
    prev.status = status;
    prev.reason = reason;
    prev.message = message;
  } else conds.push({ type, status, reason, message, lastTransitionTime: nowRFC3339() });
}

/** Stored JSON without resourceVersion (as the API server's encode()). */
function encode(o: Record<string, any>): string {
  const { resourceVersion: _rv, ...meta } = o.metadata ?? {};
  const { apiVersion, kind, metadata: _m, ...rest } = o;
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

export interface CRDController {
  /** Resolves once the CRDs present at start are served. */
  ready: Promise<void>;
  stop(): void;
}

export function startCRDController(store: Store, log: Logger, opts: { onChange?: () => void } = {}): CRDController {
  const abort = new AbortController();
  const crds = new Map<string, { crd: CRD; rev: number }>();
  const cleaning = new Set<string>();
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  const parse = (kv: KeyValue) => JSON.parse(kv.value) as CRD;

  async function writeBack(name: string, mutate: (crd: CRD) => boolean): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const { kv } = await store.get(CRD_PREFIX + name);
      if (!kv) return;
      const crd = parse(kv);
      if (!mutate(crd)) return;
      try {
        await store.update(CRD_PREFIX + name, encode(crd), kv.modRevision);
        return;
      } catch (err) {
        if (err instanceof ConflictError) continue;
        throw err;
      }
    }
  }

  /** NamesAccepted, Established, acceptedNames and storedVersions for one CRD. */
  async function reconcileStatus(name: string): Promise<void> {
    const others = [...crds.values()].map((x) => x.crd);
    await writeBack(name, (crd) => {
      if (crd.metadata.deletionTimestamp) return false;
      const before = JSON.stringify(crd.status ?? {});
      const d = decideNames(crd, others, BUILTIN_RESOURCES);
      const status = (crd.status ??= {} as any);
      if (d.accepted) status.acceptedNames = d.names;
      else status.acceptedNames ??= { plural: "", kind: "" };
      setCondition(crd, "NamesAccepted", d.accepted ? "True" : "False", d.reason, d.message);
      if (d.accepted && condition(crd, "Established")?.status !== "True") {
        setCondition(crd, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted");
      } else if (!d.accepted && !condition(crd, "Established")) {
        setCondition(crd, "Established", "False", "NotAccepted", "not all names are accepted");
      }
      const sv = storageVersion(crd)?.name;
      status.storedVersions ??= [];
      if (sv && !status.storedVersions.includes(sv)) status.storedVersions.push(sv);
      return JSON.stringify(status) !== before;
    });
  }

  /** Deletes every object of a CRD being deleted (honouring their finalizers), then lets the CRD go. */
  async function cleanup(name: string): Promise<void> {
    if (cleaning.has(name)) return;
    cleaning.add(name);
    try {
      for (;;) {
        if (abort.signal.aborted) return;
        const cur = crds.get(name)?.crd;
        if (!cur || !cur.metadata.deletionTimestamp) return;
        await writeBack(name, (crd) => {
          if (condition(crd, "Terminating")?.reason === "InstanceDeletionInProgress") return false;
          setCondition(crd, "Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress");
          return true;
        });
        const rows = rowsOf(cur);
        const prefix = rows[0] ? storagePrefix(rows[0]) : `/registry/${cur.spec.group}/${cur.spec.names.plural}/`;
        const { items } = await store.list(prefix);
        for (const kv of items) {
          const obj = JSON.parse(kv.value);
          try {
            if ((obj.metadata?.finalizers ?? []).length) {
              if (obj.metadata.deletionTimestamp) continue;
              obj.metadata.deletionTimestamp = nowRFC3339();
              obj.metadata.deletionGracePeriodSeconds = 0;
              await store.update(kv.key, encode(obj), kv.modRevision);
            } else await store.delete(kv.key, kv.modRevision);
          } catch (err) {
            if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
          }
        }
        if (items.length === 0) {
          await writeBack(name, (crd) => {
            setCondition(crd, "Terminating", "False", "InstanceDeletionCompleted", "removed all instances");
            crd.metadata.finalizers = (crd.metadata.finalizers ?? []).filter((f: string) => f !== CLEANUP_FINALIZER);
            return true;
          });
          // The update that removes the last finalizer of an object being deleted removes it (as the API does).
          const { kv } = await store.get(CRD_PREFIX + name);
          if (kv) {
            const crd = parse(kv);
            if (crd.metadata.deletionTimestamp && !(crd.metadata.finalizers ?? []).length) await store.delete(kv.key, kv.modRevision).catch(() => {});
          }
          return;
        }
        await Bun.sleep(500);
      }
    } catch (err) {
      log.error("CRD cleanup failed", { crd: name, err: String(err) });
    } finally {
      cleaning.delete(name);
    }
  }

  function handle(name: string, crd: CRD | undefined, rev: number): void {
    if (crd) crds.set(name, { crd, rev });
    else crds.delete(name);
    // Served rows follow the stored object; a CRD being deleted keeps serving until its objects are gone.
    try {
      if (syncServed(name, crd)) opts.onChange?.();
    } catch (err) {
      log.error("cannot serve CRD", { crd: name, err: String(err) });
    }
    if (!crd) {
      // Another CRD of the group may now get names it was refused.
      for (const [n, o] of crds) if (condition(o.crd, "NamesAccepted")?.status === "False") void reconcileStatus(n).catch(() => {});
      return;
    }
    if (crd.metadata.deletionTimestamp) void cleanup(name);
    else void reconcileStatus(name).catch((err) => log.error("CRD status update failed", { crd: name, err: String(err) }));
  }

  async function run(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        const listed = await store.list(CRD_PREFIX);
        const seen = new Set<string>();
        for (const kv of listed.items) {
          const name = kv.key.slice(CRD_PREFIX.length);
          seen.add(name);
          handle(name, parse(kv), kv.modRevision);
        }
        for (const name of [...crds.keys()]) if (!seen.has(name)) handle(name, undefined, listed.revision);
        resolveReady();
        for await (const batch of store.watch(CRD_PREFIX, { afterRevision: listed.revision, signal: abort.signal })) {
          for (const ev of batch) {
            const name = ev.kv.key.slice(CRD_PREFIX.length);
            handle(name, ev.type === "DELETE" ? undefined : parse(ev.kv), ev.kv.modRevision);
          }
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        if (!(err instanceof CompactedError)) log.warn("CRD watch failed; relisting", { err: String(err) });
        await Bun.sleep(500);
      }
    }
  }
  void run();
  return {
    ready,
    stop: () => {
      abort.abort();
      // This server no longer serves what it served for these CRDs (tests run several control planes per process).
      for (const name of crds.keys()) syncServed(name, undefined);
      crds.clear();
    },
  };
}
