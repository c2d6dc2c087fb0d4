// API Priority and Fairness metrics with upstream's names (apiserver_flowcontrol_*), rendered into /metrics.
// Gauges are per priority level only (upstream also splits some by flow schema).
import { metrics as serverMetrics } from "../metrics.ts";
import type { Level } from "./controller.ts";
import type { RejectReason } from "./queueset.ts";

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class FlowControlMetrics {
  private dispatched = new Map<string, number>();
  private rejected = new Map<string, number>();

  private inflight = { mutating: 0, readOnly: 0 };

  /** Counts a request as executing in apiserver_current_inflight_requests (as upstream does under APF); returns its end. */
  executing(kind: "mutating" | "readOnly", counted: boolean): () => void {
    if (!counted) return () => {};
    serverMetrics.setInflight(kind, ++this.inflight[kind]);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      serverMetrics.setInflight(kind, --this.inflight[kind]);
    };
  }

  /** Label text per flow schema and level, escaped once (every request is dispatched; bounded by the objects). */
  private labelCache = new Map<string, string>();

  dispatch(level: string, schema: string): void {
    const id = `${schema}\u0000${level}`;
    let k = this.labelCache.get(id);
    if (k === undefined) {
      k = `flow_schema="${esc(schema)}",priority_level="${esc(level)}"`;
      if (this.labelCache.size < 4096) this.labelCache.set(id, k);
    }
    this.dispatched.set(k, (this.dispatched.get(k) ?? 0) + 1);
  }

  reject(level: string, schema: string, reason: RejectReason): void {
    const k = `flow_schema="${esc(schema)}",priority_level="${esc(level)}",reason="${reason}"`;
    this.rejected.set(k, (this.rejected.get(k) ?? 0) + 1);
  }

  render(out: string[], levels: Iterable<Level>): void {
    const counter = (name: string, help: string, m: Map<string, number>) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [k, v] of m) out.push(`${name}{${k}} ${v}`);
    };
    counter("apiserver_flowcontrol_dispatched_requests_total", "Number of requests executed by API Priority and Fairness subsystem", this.dispatched);
    counter("apiserver_flowcontrol_rejected_requests_total", "Number of requests rejected by API Priority and Fairness subsystem", this.rejected);
    const list = [...levels].filter((l) => !l.exempt);
    const gauge = (name: string, help: string, value: (l: Level) => number) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const l of list) out.push(`${name}{priority_level="${esc(l.name)}"} ${value(l)}`);
    };
    gauge("apiserver_flowcontrol_nominal_limit_seats", "Nominal number of execution seats configured for each priority level", (l) => l.queues.config.concurrencyLimit);
    gauge("apiserver_flowcontrol_current_executing_seats", "Concurrency (number of seats) occupied by the currently executing requests", (l) => l.queues.inUse);
    gauge("apiserver_flowcontrol_current_inqueue_requests", "Number of requests currently pending in queues of the API Priority and Fairness subsystem", (l) => l.queues.waiting);
  }
}
