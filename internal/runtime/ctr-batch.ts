// Group commit for the `ctr` commands that take many names: `ctr containers delete A B …` and `ctr snapshots rm
// A B …`. Containers that go together (a Deployment scaled down, a node drained, a Job's pods finishing) are
// removed by a few ctr processes instead of two each; every ctr process costs a small board tens of ms of CPU
// just to start. A lone name runs on the next turn of the event loop; names that arrive while a command runs go
// together in the next one. Each caller still gets a result of its own, as if its command had run alone.
import type { RunResult } from "./run.ts";

/** What one batched command meant for each of its names. */
export interface BatchSplit {
  /** Names that failed, with the error line ctr printed for them. */
  failed: Map<string, string>;
  /** Names ctr did not get to (it stops at the first failure): they go in the next command. */
  untried: string[];
}

type Split = (names: string[], r: RunResult) => BatchSplit;

const MAX_NAMES = 100; // one argv stays far below ARG_MAX

export class CtrBatch {
  private queue = new Map<string, ((r: RunResult) => void)[]>();
  private running = false;

  constructor(
    private exec: (names: string[]) => Promise<RunResult>,
    private split: Split,
  ) {}

  /** Runs the command for `name` (with others' names when they wait too); resolves with this name's own result. */
  submit(name: string): Promise<RunResult> {
    return new Promise((resolve) => {
      const waiters = this.queue.get(name);
      if (waiters) waiters.push(resolve);
      else this.queue.set(name, [resolve]);
      if (this.running) return;
      this.running = true;
      setImmediate(() => void this.drain()); // callers of this same turn share the first command
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.size) {
        const batch = [...this.queue.keys()].slice(0, MAX_NAMES);
        const waiters = batch.map((n) => this.queue.get(n)!);
        for (const n of batch) this.queue.delete(n);
        let r: RunResult;
        try {
          r = await this.exec(batch);
        } catch (e) {
          r = { code: 1, stdout: "", stderr: (e as Error).message };
        }
        const { failed, untried } = r.code === 0 ? { failed: new Map<string, string>(), untried: [] } : this.split(batch, r);
        // A failure ctr did not attribute to a name (containerd unreachable, say) is every name's failure.
        const unattributed = r.code !== 0 && failed.size === 0 && untried.length === 0;
        const retry = new Set(untried);
        batch.forEach((name, i) => {
          if (retry.has(name)) {
            const later = this.queue.get(name);
            this.queue.set(name, later ? [...waiters[i]!, ...later] : waiters[i]!);
            return;
          }
          const error = failed.get(name);
          const own: RunResult = unattributed ? r : error === undefined ? { code: 0, stdout: "", stderr: "" } : { code: r.code, stdout: "", stderr: error };
          for (const w of waiters[i]!) w(own);
        });
      }
    } finally {
      this.running = false;
    }
  }
}

/** `ctr containers delete` tries every name and logs one line per failure: `… msg="failed to delete container \"ID\"" error="…"`. */
export function splitContainerDeletes(names: string[], r: RunResult): BatchSplit {
  const failed = new Map<string, string>();
  const wanted = new Set(names);
  for (const line of r.stderr.split("\n")) {
    const m = /failed to delete container \\"(.+?)\\""/.exec(line);
    if (m && wanted.has(m[1]!)) failed.set(m[1]!, line);
  }
  return { failed, untried: [] };
}

/** `ctr snapshots rm` stops at the first failure: `ctr: failed to remove "KEY": …`; the keys after it were not tried. */
export function splitSnapshotRemovals(names: string[], r: RunResult): BatchSplit {
  const m = /failed to remove "(.+?)": .*/.exec(r.stderr);
  const at = m ? names.indexOf(m[1]!) : -1;
  if (at < 0) return { failed: new Map(), untried: [] };
  return { failed: new Map([[names[at]!, m![0]]]), untried: names.slice(at + 1) };
}
