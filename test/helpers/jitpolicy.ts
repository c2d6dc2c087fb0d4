// For processes that run kubun's components without being `kubun server` or `kubun agent` (benchmarks with an
// in-process control plane or store, the tests' stand-in agent): imported first, it restarts the process once with
// the JIT options those commands run with (internal/ops/jitpolicy.ts), so what they measure is what ships.
import { applyJITPolicy } from "../../internal/ops/jitpolicy.ts";

applyJITPolicy();
