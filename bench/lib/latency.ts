// Latency helpers shared by benchmarks: percentiles of client-side samples, and the server's own latency histogram
// (apiserver_request_duration_seconds, scraped from /metrics) summed over verbs, as upstream's SLIs measure it.

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const CHUNK = 1 << 16;

/**
 * Millions of latency samples without one growing array. A JS array that outgrows its storage copies all of itself
 * on the event loop: at ~8 million numbers that took 130–320 ms here, and a benchmark of write stalls then measured
 * its own copy as the store's stall. Fixed-size chunks are filled one after another; nothing is copied until the end.
 */
export class Samples {
  private chunks: Float64Array[] = [];
  private used = CHUNK;
  count = 0;

  push(x: number): void {
    if (this.used === CHUNK) {
      this.chunks.push(new Float64Array(CHUNK));
      this.used = 0;
    }
    this.chunks[this.chunks.length - 1]![this.used++] = x;
    this.count++;
  }

  /** Every sample in ascending order (one copy, made once the run is over). */
  sorted(): Float64Array {
    const out = new Float64Array(this.count);
    let at = 0;
    for (const c of this.chunks) {
      const n = Math.min(CHUNK, this.count - at);
      out.set(c.subarray(0, n), at);
      at += n;
    }
    return out.sort();
  }
}

/** upstream's SLI classes: mutating calls, single-object reads, lists. */
export const VERB_CLASSES: Record<string, string[]> = {
  mutating: ["POST", "PUT", "PATCH", "DELETE"],
  get: ["GET"],
  list: ["LIST"],
};

/** Cumulative bucket counts (le → count) per verb class, from the server's Prometheus text. */
export function histogramByClass(metricsText: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const re = /^apiserver_request_duration_seconds_bucket\{verb="([^"]+)",resource="[^"]*",le="([^"]+)"\} (\d+)$/gm;
  for (const m of metricsText.matchAll(re)) {
    const cls = Object.keys(VERB_CLASSES).find((c) => VERB_CLASSES[c]!.includes(m[1]!));
    if (!cls) continue;
    const h = out.get(cls) ?? new Map<string, number>();
    h.set(m[2]!, (h.get(m[2]!) ?? 0) + Number(m[3]));
    out.set(cls, h);
  }
  return out;
}

/** Upper bound (seconds) of the bucket holding the p-th percentile of what was observed between two scrapes. */
export function bucketPercentile(before: Map<string, number> | undefined, after: Map<string, number> | undefined, p: number): { le: number; count: number } {
  if (!after) return { le: NaN, count: 0 };
  const total = (after.get("+Inf") ?? 0) - (before?.get("+Inf") ?? 0);
  const les = [...after.keys()].sort((a, b) => (a === "+Inf" ? 1 : b === "+Inf" ? -1 : Number(a) - Number(b)));
  for (const le of les) if ((after.get(le) ?? 0) - (before?.get(le) ?? 0) >= (p / 100) * total) return { le: le === "+Inf" ? Infinity : Number(le), count: total };
  return { le: NaN, count: total };
}

/** Cumulative bucket counts (le → count) of one verb and resource, from the server's Prometheus text. */
export function histogramOf(metricsText: string, verb: string, resource: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^apiserver_request_duration_seconds_bucket\\{verb="${verb}",resource="${resource}",le="([^"]+)"\\} (\\d+)$`, "gm");
  for (const m of metricsText.matchAll(re)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** One timed round of a load: client latencies (ms), wall seconds, server CPU ms per request. */
export interface Round {
  lat: number[];
  secs: number;
  cpuMs: number;
}

/**
 * Several rounds of the same load, summarised figure by figure as the median round (this shared VM's speed drifts by a
 * quarter within minutes: one round is one sample of it), with every round's values for the note.
 */
export function medianOfRounds(rounds: Round[]): { rate: number; p50: number; p99: number; cpuMs: number; n: number; each: string } {
  const med = (xs: number[]) => percentile(xs, 50);
  const rate = rounds.map((r) => r.lat.length / r.secs);
  const p99 = rounds.map((r) => percentile(r.lat, 99));
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  return {
    rate: med(rate),
    p50: med(rounds.map((r) => percentile(r.lat, 50))),
    p99: med(p99),
    cpuMs: med(rounds.map((r) => r.cpuMs)),
    n: rounds[0]?.lat.length ?? 0,
    each: rounds.map((r, i) => `${fmt(rate[i]!)}/s p99 ${fmt(p99[i]!)} ms ${(r.cpuMs * 1000).toFixed(0)} µs`).join("; "),
  };
}
