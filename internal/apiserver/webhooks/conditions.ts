// matchConditions: CEL expressions over `object`, `oldObject` and `request` (the AdmissionRequest), evaluated with
// @marcbachmann/cel-js after the rules and selectors matched. As upstream: every condition true → the webhook is
// called; any false → it is not (a false wins over errors); otherwise an evaluation error goes to failurePolicy.
// `authorizer` is not provided: an expression using it fails to evaluate.
import { celCompiler } from "../cel.ts";

const cel = celCompiler(2000);
const compile = cel.compile;

/** Compile error of an expression (first line), or undefined when it compiles. */
export function conditionCompileError(expression: string): string | undefined {
  return cel.compileError(expression);
}

/** JSON → CEL values: whole numbers become CEL ints; maps without a prototype (any key is just a key). */
function toCEL(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCEL);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = Object.create(null);
    for (const k of Object.keys(v)) out[k] = toCEL((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

export interface ConditionResult {
  matches: boolean;
  /** Set when no condition was false but one could not be evaluated. */
  error?: string;
}

export function evaluateConditions(conditions: { name?: string; expression?: string }[] | undefined, request: any): ConditionResult {
  if (!conditions?.length) return { matches: true };
  const ctx = { object: toCEL(request.object ?? null), oldObject: toCEL(request.oldObject ?? null), request: toCEL(request) };
  const errors: string[] = [];
  for (const c of conditions) {
    const p = compile(String(c.expression ?? ""));
    if (p instanceof Error) {
      errors.push(`compilation failed for match condition "${c.name}": ${p.message.split("\n")[0]}`);
      continue;
    }
    let r: unknown;
    try {
      r = p(ctx);
    } catch (err) {
      errors.push(`match condition "${c.name}": ${(err as Error).message.split("\n")[0]}`);
      continue;
    }
    if (r === false) return { matches: false };
    if (r !== true) errors.push(`match condition "${c.name}" must evaluate to bool`);
  }
  return errors.length ? { matches: false, error: errors.join("; ") } : { matches: true };
}
