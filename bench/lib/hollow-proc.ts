// Hollow nodes in a process of their own (part of the outside load generator, so the same code drives every server
// under test): `bun bench/lib/hollow-proc.ts <server url> <token> <ca.pem> <count> [taint key]`. Each node is
// registered with the optional NoSchedule taint (pods stay pending until the benchmark removes it); prints "ready"
// once every node is registered, and runs until SIGTERM.
import { readFileSync } from "node:fs";
import { runHollowNodes } from "../../internal/hollow/index.ts";
import { setLevel } from "../../internal/log/log.ts";

setLevel("warn");
const [server, token, caFile, count, taintKey] = process.argv.slice(2);
if (!server || !token || !caFile || !count) {
  console.error("usage: hollow-proc.ts <server url> <token> <ca.pem> <count> [taint key]");
  process.exit(2);
}
const ac = new AbortController();
process.on("SIGTERM", () => ac.abort());
const nodes = runHollowNodes(
  { server, token, caPEM: readFileSync(caFile, "utf8"), userAgent: "kubun-hollow" },
  { count: Number(count), prefix: "bench", signal: ac.signal, taints: taintKey ? () => [{ key: taintKey, effect: "NoSchedule" }] : undefined },
);
await nodes.ready;
console.log("ready");
await nodes.catch(() => {});
process.exit(0);
