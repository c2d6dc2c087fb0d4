// The long-running commands restart themselves once, before the rest of kubun loads, with their JIT options
// (internal/ops/jitpolicy.ts); every other command starts as it is.
import { applyJITPolicy } from "../internal/ops/jitpolicy.ts";

if (process.argv[2] === "server" || process.argv[2] === "agent") applyJITPolicy();
