// The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins: mutating webhooks are called one after the
// other (configurations by name), each JSONPatch applied before the next call, and those with
// reinvocationPolicy IfNeeded called once more when a later webhook changed the object; validating webhooks are
// called in parallel. Denials, dry-run refusals and call failures (subject to failurePolicy) carry upstream's
// messages. The API server runs mutating webhooks after the built-in mutating plugins and validating ones after
// schema validation (internal/apiserver/admission.ts).
import type { Store } from "../../store/types.ts";
import type { Logger } from "../../log/log.ts";
import { findResource, storageKey, storagePrefix, type ResourceInfo } from "../../api/resources.ts";
import { WatchedPrefix } from "../../admission/watchedprefix.ts";
import { badRequest, internalError, StatusError } from "../../api/status.ts";
import { applyJsonPatch } from "../patch/json-patch.ts";
import { clone, deepEqual, type KObject } from "../objects.ts";
import { CallError, callWebhook } from "./call.ts";
import { isExempt, matchingResource, namespaceSelectorMatches, objectSelectorMatches } from "./match.ts";
import { buildReview, convertObject } from "./review.ts";
import { evaluateConditions } from "./conditions.ts";
import { WebhookSource, type WebhookType } from "./source.ts";
import type { ConfiguredWebhook, Webhook, WebhookAttributes } from "./types.ts";

export type { WebhookAttributes } from "./types.ts";

/** Most warnings kept from one webhook answer (each is one Warning header). */
const MAX_WARNINGS = 32;

/** The webhook's denial, as upstream's ToStatusErr. */
function denied(name: string, result: any): StatusError {
  const r = result && typeof result === "object" ? result : {};
  const code = typeof r.code === "number" && r.code >= 400 ? r.code : 400;
  const by = `admission webhook "${name}" denied the request`;
  const message = r.message ? `${by}: ${r.message}` : r.reason ? `${by}: ${r.reason}` : `${by} without explanation`;
  return new StatusError(code, typeof r.reason === "string" ? r.reason : "", message, r.details);
}

export class WebhookAdmission {
  private source: WebhookSource;

  constructor(
    private store: Store,
    private log: Logger,
    private signal?: AbortSignal,
  ) {
    this.source = new WebhookSource(store, signal);
  }

  get ready(): Promise<void> {
    return this.source.ready;
  }

  close(): void {
    this.source.close();
    this.namespaces?.close();
  }

  /** Calls the matching mutating webhooks; returns the object to continue with. */
  async mutate(a: WebhookAttributes): Promise<KObject | undefined> {
    if (isExempt(a.ri)) return a.object;
    const hooks = await this.matching("mutating", a);
    if (!hooks.length) return a.object;
    let obj = a.object;
    // Reinvocation (upstream's IfNeeded): webhooks that asked for it and ran before the last change run once more.
    const ranAt = new Map<ConfiguredWebhook, number>();
    let lastChange = -1;
    let step = 0;
    for (const m of hooks) {
      const out = await this.callMutating(m, { ...a, object: obj });
      ranAt.set(m.hook, step);
      if (out.changed) {
        obj = out.object;
        lastChange = step;
      }
      step++;
    }
    const again = hooks.filter((m) => m.hook.hook.reinvocationPolicy === "IfNeeded" && ranAt.get(m.hook)! < lastChange);
    for (const m of again) {
      const out = await this.callMutating(m, { ...a, object: obj });
      if (out.changed) obj = out.object;
    }
    return obj;
  }

  /** Calls the matching validating webhooks in parallel; throws the first refusal (in webhook order). */
  async validate(a: WebhookAttributes): Promise<void> {
    if (isExempt(a.ri)) return;
    const hooks = await this.matching("validating", a);
    if (!hooks.length) return;
    const results = await Promise.allSettled(hooks.map((m) => this.callValidating(m, a)));
    for (const r of results) if (r.status === "rejected") throw r.reason;
  }

  private async matching(type: WebhookType, a: WebhookAttributes): Promise<{ hook: ConfiguredWebhook; as: ResourceInfo }[]> {
    const out: { hook: ConfiguredWebhook; as: ResourceInfo }[] = [];
    for (const c of await this.source.webhooks(type)) {
      const as = matchingResource(c.hook, a);
      if (!as) continue;
      if (!objectSelectorMatches(c.hook, a)) continue;
      if (!(await namespaceSelectorMatches(c.hook, a, (ns) => this.namespaceLabels(ns)))) continue;
      out.push({ hook: c, as });
    }
    return out;
  }

  /** Namespaces from a store watch started the first time a namespaceSelector needs one (the store until synced). */
  private namespaces: WatchedPrefix | undefined;

  private async namespaceLabels(name: string): Promise<Record<string, string> | undefined> {
    const ri = findResource("", "v1", "namespaces")!;
    const key = storageKey(ri, undefined, name);
    this.namespaces ??= new WatchedPrefix(this.store, storagePrefix(ri), this.signal);
    const cached = this.namespaces.get(key);
    if (cached) return cached.metadata?.labels ?? {};
    const { kv } = await this.store.get(key);
    return kv ? (JSON.parse(kv.value).metadata?.labels ?? {}) : undefined;
  }

  /**
   * Sends the review; returns the response, or undefined when matchConditions exclude the request or a failure is
   * ignored (failurePolicy Ignore).
   */
  private async call(hook: Webhook, a: WebhookAttributes, as: ResourceInfo, object: KObject | undefined, kind: string): Promise<any | undefined> {
    const review = buildReview(a, as, object, crypto.randomUUID());
    const cond = evaluateConditions(hook.matchConditions as any, review.request);
    if (cond.error) return this.failed(hook, new CallError(hook.name, cond.error), kind);
    if (!cond.matches) return undefined;
    if (a.dryRun && hook.sideEffects !== "None" && hook.sideEffects !== "NoneOnDryRun") {
      throw badRequest(`admission webhook "${hook.name}" does not support dry run`);
    }
    try {
      return await callWebhook(this.store, hook, review);
    } catch (err) {
      return this.failed(hook, err, kind);
    }
  }

  private failed(hook: Webhook, err: unknown, kind: string): undefined {
    const e = err instanceof CallError ? err : new CallError(hook.name, (err as Error)?.message ?? String(err));
    if (hook.failurePolicy === "Ignore") {
      this.log.warn(`failed calling ${kind} webhook, failing open`, { webhook: hook.name, err: e.message });
      return undefined;
    }
    this.log.warn(`failed calling ${kind} webhook, failing closed`, { webhook: hook.name, err: e.message });
    if (e.status) throw new StatusError(e.status.code, e.status.reason ?? "", e.status.message ?? e.message);
    throw internalError(e);
  }

  private warn(a: WebhookAttributes, response: any): void {
    if (!a.warnings || !Array.isArray(response?.warnings)) return;
    for (const w of response.warnings.slice(0, MAX_WARNINGS)) if (typeof w === "string" && w) a.warnings.push(w);
  }

  private async callMutating(m: { hook: ConfiguredWebhook; as: ResourceInfo }, a: WebhookAttributes): Promise<{ changed: boolean; object?: KObject }> {
    const hook = m.hook.hook;
    const sent = convertObject(a.object, a.ri, m.as);
    const response = await this.call(hook, a, m.as, sent, "mutating");
    if (!response) return { changed: false };
    if (response.allowed !== true) throw denied(hook.name, response.status);
    this.warn(a, response);
    if (response.patch === undefined || response.patch === null || response.patch === "") return { changed: false };
    let patched: unknown;
    try {
      if (response.patchType !== "JSONPatch") throw new Error(`unsupported patch type "${response.patchType ?? ""}"`);
      if (!sent) throw new Error("there is no object to patch");
      let ops: unknown;
      try {
        ops = JSON.parse(Buffer.from(String(response.patch), "base64").toString("utf8"));
      } catch (err) {
        throw new Error(`received undecodable patch in webhook response: ${(err as Error).message}`);
      }
      try {
        patched = applyJsonPatch(clone(sent), ops);
      } catch (err) {
        const e = err as { detail?: string; message?: string };
        throw new Error(`JSON patch could not be applied: ${e.detail ?? e.message ?? String(err)}`);
      }
    } catch (err) {
      this.failed(hook, new CallError(hook.name, (err as Error).message), "mutating");
      return { changed: false };
    }
    if (deepEqual(patched, sent)) return { changed: false };
    // Back to the version the request came in.
    const back = convertObject(patched as KObject, m.as, a.ri)!;
    back.apiVersion = a.object.apiVersion;
    back.kind = a.object.kind;
    // The request's key (namespace, and the name of an existing object) is fixed by the URL, as upstream.
    if ((back.metadata?.namespace ?? "") !== (a.object.metadata?.namespace ?? "")) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    if (a.operation !== "CREATE" && back.metadata?.name !== a.object.metadata?.name) {
      throw badRequest(`the name of the object (${back.metadata?.name ?? ""}) does not match the name on the URL (${a.object.metadata?.name ?? ""})`);
    }
    return { changed: true, object: back };
  }

  private async callValidating(m: { hook: ConfiguredWebhook; as: ResourceInfo }, a: WebhookAttributes): Promise<void> {
    const hook = m.hook.hook;
    const response = await this.call(hook, a, m.as, convertObject(a.object, a.ri, m.as), "validating");
    if (!response) return;
    if (response.allowed !== true) throw denied(hook.name, response.status);
    this.warn(a, response);
  }
}
