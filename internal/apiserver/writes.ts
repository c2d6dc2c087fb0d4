// The write pipeline shared by create, update, patch, subresources and delete:
// decode → default → admission (mutating) → validation → admission (validating) → store, as upstream's
// generic registry does it, with optimistic concurrency on resourceVersion.
import type { UserInfo } from "../auth/types.ts";
import { ConflictError, KeyExistsError, NotFoundError, type KeyValue } from "../store/types.ts";
import { admit } from "./admission.ts";
import type { ApiServerDeps } from "./deps.ts";
import { clone, decode, deepEqual, encode, nowRFC3339, randomSuffix, type KObject } from "./objects.ts";
import { groupVersion, storageKey, type ResourceInfo } from "../api/resources.ts";
import { alreadyExists, badRequest, conflict, invalid, MODIFIED, notFound, StatusError } from "../api/status.ts";
import { prepareForCreate, prepareForUpdate, shouldDeleteAfterUpdate } from "./strategy.ts";
import { markWellTyped, takeWellTyped } from "./validation/types.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export interface WriteCtx {
  deps: ApiServerDeps;
  ri: ResourceInfo;
  user: UserInfo;
  /** Namespace from the URL. */
  namespace?: string;
  subresource?: string;
  dryRun: boolean;
  fieldManager: string;
  fieldValidation: FieldValidation;
  /** Warning headers to send back (fieldValidation=Warn). */
  warnings: string[];
}

function gvk(ri: ResourceInfo) {
  return { group: ri.group, version: ri.version, kind: ri.kind };
}

function ttlFor(w: WriteCtx): number | undefined {
  return w.ri.resource === "events" ? (w.deps.eventTTLSeconds ?? 3600) : undefined;
}

export async function readLive(
  deps: ApiServerDeps,
  ri: ResourceInfo,
  namespace: string | undefined,
  name: string,
): Promise<{ obj: KObject; kv: KeyValue } | undefined> {
  const { kv } = await deps.store.get(storageKey(ri, namespace, name));
  return kv ? { obj: decode(kv), kv } : undefined;
}

/** Removes the given unknown-field paths ("spec.foo", "spec.containers[0].bar") from obj. */
export function pruneFields(obj: any, paths: string[]): void {
  for (const p of paths) pruneAt(obj, p);
}

/**
 * Deletes the field a printed path ("spec.containers[0].foo") names, matching it against the object's own keys
 * (which may themselves contain dots), so a key like "__proto__.toString" is removed as the key it is and no
 * path ever walks into an inherited property.
 */
function pruneAt(cur: unknown, rest: string): boolean {
  if (Array.isArray(cur)) {
    const m = /^\[(\d+)\]\.?(.*)$/.exec(rest);
    return !!m && Number(m[1]) < cur.length && pruneAt(cur[Number(m[1])], m[2]!);
  }
  if (!cur || typeof cur !== "object") return false;
  if (Object.hasOwn(cur, rest)) return delete (cur as Record<string, unknown>)[rest];
  for (const k of Object.keys(cur)) {
    const sep = rest[k.length];
    if (!rest.startsWith(k) || (sep !== "." && sep !== "[")) continue;
    if (pruneAt((cur as Record<string, unknown>)[k], rest.slice(k.length + (sep === "." ? 1 : 0)))) return true;
  }
  return false;
}

function decodeError(w: WriteCtx, err: string): string {
  return w.deps.schema?.decodeErrorMessage?.(w.ri, err) ?? `${w.ri.kind} in version "${w.ri.version}" cannot be handled as a ${w.ri.kind}: ${err}`;
}

/**
 * Decoding checks, as upstream's typed decoder: values of the wrong type are a 400; with fieldValidation
 * Strict unknown and duplicate fields are a 400, with Warn they become Warning headers; unknown fields are
 * dropped either way. `rawText` is the JSON body when there was one (duplicates are only visible there).
 */
export function checkUnknownFields(w: WriteCtx, obj: KObject, rawText?: string): void {
  const schema = w.deps.schema;
  if (!schema) return;
  const typeErrs = schema.typeErrors?.(w.ri, obj) ?? [];
  if (typeErrs.length) throw badRequest(decodeError(w, typeErrs[0]!));
  const unknown = schema.unknownFields(w.ri, obj);
  if (w.fieldValidation !== "Ignore") {
    const dups = rawText && schema.duplicateFields ? schema.duplicateFields(rawText) : [];
    const problems = [...dups.map((f) => `duplicate field "${f}"`), ...unknown.map((f) => `unknown field "${f}"`)];
    if (problems.length && w.fieldValidation === "Strict") {
      throw badRequest(decodeError(w, `strict decoding error: ${problems.join(", ")}`));
    }
    w.warnings.push(...problems);
  }
  if (unknown.length) pruneFields(obj, unknown);
}

/** apiVersion/kind/namespace of a request body must agree with the URL. */
export function checkBodyIdentity(w: WriteCtx, obj: KObject): void {
  const gv = groupVersion(w.ri);
  if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
  }
  if (obj.kind !== undefined && obj.kind !== w.ri.kind) {
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${w.ri.kind})`);
  }
  obj.apiVersion = gv;
  obj.kind = w.ri.kind;
  if (obj.metadata === null || typeof obj.metadata !== "object" || Array.isArray(obj.metadata)) obj.metadata = {};
  if (w.ri.namespaced) {
    const ns = obj.metadata.namespace;
    if (ns && w.namespace && ns !== w.namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    obj.metadata.namespace = w.namespace ?? ns;
  } else {
    delete obj.metadata.namespace;
  }
}

function managed(w: WriteCtx, old: KObject | undefined, updated: KObject, operation: "Update" | "Apply", handOver = false): KObject {
  if (!w.deps.patch) return updated;
  return w.deps.patch.updateManagedFields({
    old,
    updated,
    manager: w.fieldManager,
    operation,
    subresource: w.subresource,
    gvk: gvk(w.ri),
    handOver,
  });
}

/** The options object admission webhooks receive (AdmissionReview.request.options). */
export function writeOptions(w: WriteCtx, kind: "CreateOptions" | "UpdateOptions"): Record<string, unknown> {
  const o: Record<string, unknown> = { kind, apiVersion: "meta.k8s.io/v1" };
  if (w.dryRun) o.dryRun = ["All"];
  if (w.fieldManager) o.fieldManager = w.fieldManager;
  return o;
}

/** POST: returns the stored object (or what would be stored, on dryRun). */
export async function createObject(w: WriteCtx, input: KObject, opts: { managedAlready?: boolean } = {}): Promise<KObject> {
  const r = await createStored(w, input, opts);
  return r.obj ?? decode(r.kv!);
}

/**
 * createObject without decoding what was stored: `kv` (not on dryRun) holds the stored bytes, which the create
 * handler answers with as they are (rawJSON, shared with the watch fan-out) instead of parsing and re-encoding them.
 */
export async function createStored(w: WriteCtx, input: KObject, opts: { managedAlready?: boolean } = {}): Promise<{ kv?: KeyValue; obj?: KObject }> {
  const { ri, deps } = w;
  let obj = input;
  const meta = obj.metadata;
  if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
  if (!meta.name) {
    throw invalid(ri, "", [{ reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name" }]);
  }
  if (ri.namespaced && !meta.namespace) {
    throw badRequest("the server could not find the requested resource: a namespace is required for " + ri.resource);
  }
  for (const f of ["resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]) {
    delete meta[f];
  }
  prepareForCreate(ri, obj, w.user);
  deps.schema?.defaultObject(ri, obj);
  meta.uid = crypto.randomUUID();
  meta.creationTimestamp = nowRFC3339();
  // The object is the request's own and only the result is kept: no copy of it. managedFields keeps it well-typed.
  if (!opts.managedAlready && deps.patch) {
    const typed = takeWellTyped(obj);
    obj = managed(w, undefined, obj, "Update", true);
    if (typed) markWellTyped(obj);
  }
  obj = (await admit({ deps, ri, user: w.user, operation: "CREATE", namespace: meta.namespace, name: meta.name, object: obj, dryRun: w.dryRun, options: writeOptions(w, "CreateOptions"), warnings: w.warnings }))!;

  if (w.dryRun) {
    const { kv } = await deps.store.get(storageKey(ri, obj.metadata.namespace, obj.metadata.name));
    if (kv) throw alreadyExists(ri, obj.metadata.name);
    // As upstream, a dry-run Service shows (and checks) the addresses it would get, without taking them.
    if (deps.serviceAllocator && ri.group === "" && ri.resource === "services") {
      // The allocator's errors are Status errors (internal/api): they reach the client as they are.
      return { obj: (await deps.serviceAllocator.allocate(obj as any, { dryRun: true })) as KObject };
    }
    return { obj };
  }
  let toStore = obj;
  if (deps.serviceAllocator && ri.group === "" && ri.resource === "services") {
    toStore = (await deps.serviceAllocator.allocate(obj as any)) as KObject;
  }
  // Upstream retries generated names a few times before giving up with AlreadyExists.
  for (let attempt = 0; ; attempt++) {
    try {
      const kv = await deps.store.create(
        storageKey(ri, toStore.metadata.namespace, toStore.metadata.name),
        encode(toStore),
        ttlFor(w),
      );
      return { kv };
    } catch (err) {
      if (err instanceof KeyExistsError) {
        if (input.metadata.generateName && attempt < 7 && toStore.metadata.name.startsWith(input.metadata.generateName)) {
          toStore.metadata.name = input.metadata.generateName + randomSuffix();
          continue;
        }
        if (toStore !== obj && deps.serviceAllocator) await deps.serviceAllocator.release(toStore as any);
        throw alreadyExists(ri, toStore.metadata.name);
      }
      if (toStore !== obj && deps.serviceAllocator) await deps.serviceAllocator.release(toStore as any);
      throw err;
    }
  }
}

export interface UpdateResult {
  obj: KObject;
  /** What the store holds now, when this update wrote it (renderStored answers with its bytes). */
  kv?: KeyValue;
  created: boolean;
  /** True when the update removed the object (last finalizer gone). */
  deleted?: boolean;
}

/**
 * Read-modify-write with retries. `mutate` gets a copy of the live object (undefined when absent) and
 * returns the desired object. If the result pins metadata.resourceVersion it must match the live one (409);
 * unpinned writes are retried on store conflicts, as upstream's GuaranteedUpdate does for patches.
 */
export async function updateObject(
  w: WriteCtx,
  name: string,
  mutate: (live: KObject | undefined) => Promise<KObject> | KObject,
  opts: { allowCreate?: boolean; operation?: "Update" | "Apply"; managedAlready?: boolean } = {},
): Promise<UpdateResult> {
  const { ri, deps } = w;
  const key = storageKey(ri, w.namespace, name);
  const retry = conflictRetry();
  for (;;) {
    const { kv } = await deps.store.get(key);
    const live = kv ? decode(kv) : undefined;
    if (!live && !opts.allowCreate) throw notFound(ri, name);
    let next = await mutate(live ? clone(live) : undefined);
    if (!live) {
      try {
        return { obj: await createObject(w, next, { managedAlready: opts.managedAlready }), created: true };
      } catch (err) {
        // Someone created it meanwhile (concurrent server-side applies): apply onto theirs.
        if (err instanceof StatusError && err.reason === "AlreadyExists" && (await retry())) continue;
        throw err;
      }
    }
    // "0" (or "") is no version: an unconditional update, as upstream (every built-in kind allows one).
    const rv = next.metadata?.resourceVersion;
    const pinned = rv !== undefined && rv !== null && rv !== "" && rv !== "0" ? String(rv) : undefined;
    if (pinned !== undefined && pinned !== live.metadata.resourceVersion) {
      throw conflict(ri, name, MODIFIED);
    }
    next = prepareForUpdate(ri, next, live, w.subresource);
    // A set, not includes(): a request with many finalizers must not cost their square.
    const liveFinalizers = new Set<string>(live.metadata.finalizers ?? []);
    const addedFinalizers = live.metadata.deletionTimestamp ? (next.metadata.finalizers ?? []).filter((f: string) => !liveFinalizers.has(f)) : [];
    if (addedFinalizers.length) {
      throw invalid(ri, name, [{
        reason: "FieldValueForbidden",
        message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${addedFinalizers.map((f: string) => JSON.stringify(f)).join(", ")}}`,
        field: "metadata.finalizers",
      }]);
    }
    if (!w.subresource) deps.schema?.defaultObject(ri, next);
    if (!opts.managedAlready) next = managed(w, live, next, opts.operation ?? "Update");
    next = (await admit({ deps, ri, user: w.user, operation: "UPDATE", subresource: w.subresource, namespace: w.namespace, name, object: next, oldObject: live, dryRun: w.dryRun, options: writeOptions(w, "UpdateOptions"), warnings: w.warnings }))!;
    next.metadata.resourceVersion = live.metadata.resourceVersion;
    const remove = shouldDeleteAfterUpdate(ri, next, live);
    // Encoded once: the no-op check, the store and the answer use the same text.
    const text = encode(next);
    const parsed = JSON.parse(text) as KObject;
    parsed.metadata.resourceVersion = live.metadata.resourceVersion;
    // A write that changes nothing is not written (upstream's GuaranteedUpdate compares the encoded bytes):
    // the stored object comes back, resourceVersion unchanged, no row and no watch event.
    if (!remove && deepEqual(parsed, live)) return { obj: live, created: false };
    if (w.dryRun) return { obj: next, created: false, deleted: remove };
    if (deps.serviceAllocator && ri.group === "" && ri.resource === "services" && !w.subresource) {
      // Dropped allocations are freed only once the update is stored (a failed write keeps them).
      next = (await deps.serviceAllocator.allocateUpdate(live as any, next as any, { deferRelease: true })) as KObject;
    }
    try {
      if (remove) {
        const gone = await deps.store.update(key, text, kv!.modRevision, ttlFor(w));
        const del = await deps.store.delete(key, gone.modRevision);
        const out = decode(gone);
        out.metadata.resourceVersion = String(del.modRevision);
        if (deps.serviceAllocator && ri.resource === "services" && ri.group === "") await deps.serviceAllocator.release(out as any);
        return { obj: out, created: false, deleted: true };
      }
      const stored = await deps.store.update(key, text, kv!.modRevision, ttlFor(w));
      let out: KObject;
      if (stored.value === text) {
        out = parsed;
        out.metadata.resourceVersion = String(stored.modRevision);
      } else out = decode(stored);
      if (deps.serviceAllocator && ri.group === "" && ri.resource === "services" && !w.subresource) {
        await deps.serviceAllocator.releaseDropped(live as any, out as any);
      }
      return { obj: out, kv: stored, created: false };
    } catch (err) {
      if (err instanceof ConflictError) {
        if (pinned || !(await retry())) throw conflict(ri, name, MODIFIED);
        continue;
      }
      if (err instanceof NotFoundError) {
        if (opts.allowCreate) continue;
        throw notFound(ri, name);
      }
      throw err;
    }
  }
}

/**
 * Upstream's GuaranteedUpdate retries unpinned writes on conflict for as long as the request lives; here for
 * up to 10 s, with a short random pause once a key is hot so that concurrent writers spread out.
 */
export function conflictRetry(limitMs = 10_000): () => Promise<boolean> {
  const start = Date.now();
  let attempts = 0;
  return async () => {
    attempts++;
    if (Date.now() - start > limitMs) return false;
    if (attempts > 3) await Bun.sleep(Math.random() * Math.min(50, attempts * 5));
    return true;
  };
}
