// Child-process entry for spawnHollowNodes: reads {config, options} as one JSON line on stdin, runs the hollow
// nodes and writes "ready" on stdout once every node is registered. Stops when stdin closes or on SIGTERM.
import { setLevel } from "../log/log.ts";
import { runHollowNodes } from "./index.ts";

const ac = new AbortController();
process.on("SIGTERM", () => ac.abort());
process.on("SIGINT", () => ac.abort());

const reader = Bun.stdin.stream().getReader();
let buf = "";
const dec = new TextDecoder();
while (!buf.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) process.exit(1);
  buf += dec.decode(value, { stream: true });
}
const { config, options, logLevel } = JSON.parse(buf.slice(0, buf.indexOf("\n")));
if (logLevel) setLevel(logLevel);
// The parent going away (stdin closed) stops the nodes, so a crashed benchmark leaves no orphan.
void (async () => {
  for (;;) {
    const { done } = await reader.read();
    if (done) return ac.abort();
  }
})();
const nodes = runHollowNodes(config, { ...options, signal: ac.signal });
nodes.ready.then(() => process.stdout.write("ready\n")).catch(() => {});
try {
  await nodes;
} catch (e) {
  process.stderr.write(`hollow nodes failed: ${(e as Error).message}\n`);
  process.exit(1);
}
process.exit(0);
