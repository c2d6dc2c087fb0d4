// The API Priority and Fairness filter: classify the (authenticated, impersonated) request, wait for a seat of its
// priority level, run it, give the seat back. As upstream: long-running requests other than watches (exec, attach,
// logs, port-forward, proxy) are neither classified nor held in seats; a watch holds its seat while it is set up
// (its initial list and events are produced before the handler returns the stream), then streams without it;
// every classified answer, a 429 included, names its FlowSchema and priority level by UID.
import type { Context } from "hono";
import type { UserInfo } from "../../auth/types.ts";
import type { RequestInfo } from "../requestinfo.ts";
import { StatusError } from "../../api/status.ts";
import type { FlowControl } from "./controller.ts";
import { RejectedError } from "./queueset.ts";

export const FLOW_SCHEMA_UID_HEADER = "X-Kubernetes-PF-FlowSchema-UID";
export const PRIORITY_LEVEL_UID_HEADER = "X-Kubernetes-PF-PriorityLevel-UID";

const LONG_RUNNING_SUBRESOURCES = new Set(["log", "exec", "attach", "portforward", "proxy"]);

const MUTATING = new Set(["create", "update", "patch", "delete", "deletecollection"]);

/** Runs `run` under flow control. */
export async function serveWithFlowControl(fc: FlowControl, c: Context, user: UserInfo, info: RequestInfo, run: () => Promise<void>): Promise<void> {
  if (info.subresource && LONG_RUNNING_SUBRESOURCES.has(info.subresource)) return run();
  // Right after start, before the configuration is read, don't classify everything as catch-all.
  if (!fc.synced) await Promise.race([fc.ready, Bun.sleep(5000)]);
  const { schema, level, flowHash } = fc.classify(user, info);
  const pf = { [FLOW_SCHEMA_UID_HEADER]: schema.uid, [PRIORITY_LEVEL_UID_HEADER]: level.uid };
  try {
    let release: () => void = () => {};
    if (!level.exempt) {
      try {
        release = await level.queues.acquire(flowHash);
      } catch (err) {
        if (err instanceof RejectedError) fc.metrics.reject(level.name, schema.name, err.why);
        throw err;
      }
    }
    fc.metrics.dispatch(level.name, schema.name);
    const done = fc.metrics.executing(MUTATING.has(info.verb) ? "mutating" : "readOnly", info.verb !== "watch");
    try {
      await run();
    } finally {
      done();
      release();
    }
  } catch (err) {
    // Errors become the answer later (the app's error handler): they carry the headers with them.
    if (err instanceof StatusError) err.headers = { ...(err.headers ?? {}), ...pf };
    throw err;
  }
  try {
    c.res.headers.set(FLOW_SCHEMA_UID_HEADER, schema.uid);
    c.res.headers.set(PRIORITY_LEVEL_UID_HEADER, level.uid);
  } catch {
    // Immutable headers (a response passed through as is): nothing to add them to.
  }
}
