// The disk's own write-stall baseline: `bun bench/lib/fsyncprobe.ts <file>` writes 4 KiB and fsyncs it every 20 ms
// until SIGTERM, then prints {count, p99Ms, maxMs, over100} as JSON. Run beside a store benchmark (in its own
// process, so its fsyncs block nothing of the store's), it tells stalls of the disk itself from stalls the store adds.
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: fsyncprobe.ts <file>");
  process.exit(2);
}
const fd = openSync(file, "w");
const block = Buffer.alloc(4096, 1);
const times: number[] = [];
let stop = false;
process.on("SIGTERM", () => (stop = true));
while (!stop) {
  writeSync(fd, block, 0, block.length, 0);
  const t = performance.now();
  fsyncSync(fd);
  times.push(performance.now() - t);
  await Bun.sleep(20);
}
closeSync(fd);
rmSync(file, { force: true });
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(times.length * p))] ?? 0;
console.log(JSON.stringify({ count: times.length, p99Ms: q(0.99), maxMs: times[times.length - 1] ?? 0, over100: times.filter((x) => x > 100).length }));
