// Token cleaner (upstream's tokencleaner, which k3s turns on): bootstrap tokens (`kubun token create --ttl`) are
// deleted once their expiration has passed, so `kubun token list` and kube-system don't fill with dead tokens.
// The join endpoint already refuses an expired token; this only tidies up. Wakes at the next expiry (or every hour).
import type { Secret } from "kubernetes-types/core/v1";
import type { Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import type { Controller, ControllerContext } from "../context.ts";

const TOKEN_TYPE = "bootstrap.kubernetes.io/token";
const HOUR = 3_600_000;

/** The token's expiry in ms, Infinity when it has none; an unparsable one counts as expired, as upstream. */
export function tokenExpiry(secret: Secret): number {
  const raw = secret.data?.expiration;
  if (raw === undefined) return Infinity;
  const t = Date.parse(Buffer.from(raw, "base64").toString("utf8"));
  return Number.isFinite(t) ? t : 0;
}

export function newTokenCleanerController(ctx: ControllerContext): Controller {
  const log = ctx.log.child("tokencleaner");
  const inf: Informer<Secret> = ctx.informers.informerFor<Secret>(refs.secrets, { namespace: "kube-system", fieldSelector: `type=${TOKEN_TYPE}` });
  const client = ctx.client.resource<Secret>(refs.secrets, "kube-system");
  let wake: () => void = () => {};

  /** Deletes the expired ones; returns when the next one expires. */
  async function pass(): Promise<number> {
    const now = Date.now();
    let next = Infinity;
    for (const s of inf.list()) {
      if (s.type !== TOKEN_TYPE) continue;
      const exp = tokenExpiry(s);
      if (exp > now) {
        next = Math.min(next, exp);
        continue;
      }
      try {
        await client.delete(s.metadata!.name!, { preconditions: { uid: s.metadata!.uid! } });
        log.info("deleted expired bootstrap token", { secret: s.metadata!.name });
      } catch (e) {
        if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) log.warn("deleting an expired bootstrap token failed", { error: e as Error });
      }
    }
    return next;
  }

  return {
    name: "tokencleaner",
    async run() {
      if (!(await ctx.informers.waitForSync(ctx.signal))) return;
      inf.addEventHandler({ onAdd: () => wake(), onUpdate: () => wake() });
      while (!ctx.signal.aborted) {
        const next = await pass().catch((e) => (log.warn("token cleaner pass failed", { error: e as Error }), Date.now() + 60_000));
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.max(100, Math.min(next - Date.now() + 50, HOUR)));
          wake = () => (clearTimeout(t), r());
          ctx.signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
        });
      }
    },
  };
}
