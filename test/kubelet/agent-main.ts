// Runs one agent as its own process (so tests can kill -9 it): `bun agent-main.ts '<AgentOptions JSON>'`.
import "../helpers/jitpolicy.ts"; // first: the JIT options `kubun agent` runs with
import { runAgent, type AgentOptions } from "../../internal/agent/index.ts";

const opts = JSON.parse(process.argv[2]!) as Omit<AgentOptions, "signal">;
const ac = new AbortController();
process.on("SIGTERM", () => ac.abort());
process.on("SIGINT", () => ac.abort());
await runAgent({ ...opts, signal: ac.signal });
process.exit(0);
