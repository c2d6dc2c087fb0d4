// One CEL setup for every place the API server and its plugins evaluate CEL (CRD x-kubernetes-validations,
// webhook matchConditions), with @marcbachmann/cel-js: the same parse-time limits and a bounded cache of
// compiled programs (or their compile errors), so a hostile expression is parsed once and never grows memory.
import type { Environment } from "@marcbachmann/cel-js";

export type CelProgram = (ctx: Record<string, unknown>) => unknown;

export interface CelCompiler {
  /** The compiled program of `src`, or its compile error (both cached). */
  compile(src: string): CelProgram | Error;
  /** Compile error of `src` (first line), or undefined when it compiles. */
  compileError(src: string): string | undefined;
}

/**
 * A CEL environment with kubun's limits and a cache of at most about `maxCached` programs; `extend` adds
 * libraries (e.g. the Kubernetes CEL functions) before any parse.
 */
export function celCompiler(maxCached: number, extend?: (env: Environment) => void): CelCompiler {
  // Built at the first expression, not at start-up: most clusters have no CEL rule, and loading cel-js and
  // setting up its environment is ~20 ms of every server start otherwise.
  let env: Environment | undefined;
  const environment = (): Environment => {
    if (env) return env;
    // A literal require, so `bun build --compile` bundles the package.
    const { Environment } = require("@marcbachmann/cel-js") as typeof import("@marcbachmann/cel-js");
    // Parse-time limits bound what one expression can make the server do; the per-call work is bounded by the object size.
    env = new Environment({
      unlistedVariablesAreDyn: true,
      homogeneousAggregateLiterals: false,
      enableOptionalTypes: true,
      limits: { maxAstNodes: 5000, maxDepth: 100, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 },
    });
    extend?.(env);
    return env;
  };
  const programs = new Map<string, CelProgram | Error>();

  function compile(src: string): CelProgram | Error {
    let p = programs.get(src);
    if (p === undefined) {
      try {
        p = environment().parse(src) as unknown as CelProgram;
      } catch (err) {
        p = err instanceof Error ? err : new Error(String(err));
      }
      if (programs.size > maxCached) programs.clear();
      programs.set(src, p);
    }
    return p;
  }

  return {
    compile,
    compileError(src) {
      const p = compile(src);
      return p instanceof Error ? p.message.split("\n")[0] : undefined;
    },
  };
}
