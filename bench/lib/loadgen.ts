// A closed-loop HTTP load generator: `bun loadgen.ts <url> <host header> <concurrency> <seconds>` keeps
// <concurrency> requests in flight for <seconds> and prints {requests, errors, rps, p50Ms, p99Ms} as JSON.
// Run inside a node's network namespace (nsenter) by bench/ingress.ts, so the direct and ingress runs start
// from the same place.
export {}; // a module: top-level await below

const [url, host, conc = "16", secs = "5"] = process.argv.slice(2);
if (!url) {
  console.error("usage: loadgen.ts <url> <host> [concurrency] [seconds]");
  process.exit(2);
}
const until = performance.now() + Number(secs) * 1000;
const latencies: number[] = [];
let errors = 0;

async function worker() {
  while (performance.now() < until) {
    const t = performance.now();
    try {
      const res = await fetch(url!, { headers: host ? { host } : {} });
      await res.arrayBuffer();
      if (res.status !== 200) errors++;
      else latencies.push(performance.now() - t);
    } catch {
      errors++;
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: Number(conc) }, worker));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
console.log(JSON.stringify({ requests: latencies.length, errors, rps: latencies.length / elapsed, p50Ms: q(0.5), p99Ms: q(0.99) }));
