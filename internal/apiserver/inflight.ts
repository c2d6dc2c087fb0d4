// Max-in-flight limits (upstream --max-requests-inflight / --max-mutating-requests-inflight):
// beyond them the request is refused with 429 and Retry-After instead of queueing without bound.
import { metrics } from "./metrics.ts";
import { tooManyRequests } from "../api/status.ts";

const MUTATING = new Set(["create", "update", "patch", "delete", "deletecollection"]);
/** Long-running requests are not counted (watches, logs, exec, proxy). */
const LONG_RUNNING_SUBRESOURCES = new Set(["log", "exec", "attach", "portforward", "proxy"]);

export class InflightLimiter {
  private mutating = 0;
  private readOnly = 0;
  constructor(
    private maxMutating = 400,
    private maxReadOnly = 800,
  ) {}

  /** Returns a release function, or throws 429. Undefined when the request is not limited. */
  acquire(verb: string, subresource?: string): (() => void) | undefined {
    if (verb === "watch" || (subresource && LONG_RUNNING_SUBRESOURCES.has(subresource))) return undefined;
    const kind = MUTATING.has(verb) ? "mutating" : "readOnly";
    if (kind === "mutating") {
      if (this.mutating >= this.maxMutating) throw tooManyRequests("Too many requests, please try again later.");
      this.mutating++;
    } else {
      if (this.readOnly >= this.maxReadOnly) throw tooManyRequests("Too many requests, please try again later.");
      this.readOnly++;
    }
    metrics.setInflight(kind, kind === "mutating" ? this.mutating : this.readOnly);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (kind === "mutating") this.mutating--;
      else this.readOnly--;
      metrics.setInflight(kind, kind === "mutating" ? this.mutating : this.readOnly);
    };
  }
}
