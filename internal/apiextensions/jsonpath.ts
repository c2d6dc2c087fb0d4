// The JSONPath subset CRDs use in additionalPrinterColumns and scale paths (kubectl's template syntax without
// braces): .a.b, [n], ['key'], [*], and filters [?(@.type=="Ready")]. Deliberately hand-written: jsonpath-plus
// evaluates script expressions, which we must not run on paths taken from API objects.
type Step = { kind: "field"; name: string } | { kind: "index"; i: number } | { kind: "all" } | { kind: "filter"; path: string[]; op: string; value: unknown };

const cache = new Map<string, Step[] | null>();

export function parsePath(src: string): Step[] | null {
  let cached = cache.get(src);
  if (cached !== undefined) return cached;
  cached = parse(src);
  if (cache.size > 2000) cache.clear();
  cache.set(src, cached);
  return cached;
}

function parse(src: string): Step[] | null {
  let s = src.trim();
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1);
  if (s.startsWith("$")) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ".") {
      const m = /^\.([A-Za-z0-9_\-$@\\/]+|\*)/.exec(s.slice(i));
      if (!m) return null;
      steps.push(m[1] === "*" ? { kind: "all" } : { kind: "field", name: m[1]!.replace(/\\\./g, ".") });
      i += m[0].length;
    } else if (s[i] === "[") {
      const end = s.indexOf("]", i);
      if (end < 0) return null;
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === "*") steps.push({ kind: "all" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", i: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: "field", name: inner.slice(1, -1) });
      else {
        const f = /^\?\(@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(-?[\d.]+|true|false))\s*\)$/.exec(inner);
        if (!f) return null;
        const value = f[3] ?? f[4] ?? JSON.parse(f[5]!);
        steps.push({ kind: "filter", path: f[1]!.slice(1).split("."), op: f[2]!, value });
      }
    } else return null;
  }
  return steps;
}

/** Every value the path selects (empty when nothing matches or the path is invalid). */
export function evaluate(obj: unknown, src: string): unknown[] {
  const steps = parsePath(src);
  if (!steps) return [];
  let cur: unknown[] = [obj];
  for (const st of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || typeof v !== "object") continue;
      if (st.kind === "field") {
        if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, st.name)) next.push((v as any)[st.name]);
      } else if (st.kind === "index") {
        if (Array.isArray(v)) {
          const x = v[st.i < 0 ? v.length + st.i : st.i];
          if (x !== undefined) next.push(x);
        }
      } else if (st.kind === "all") {
        next.push(...(Array.isArray(v) ? v : Object.values(v)));
      } else {
        for (const x of Array.isArray(v) ? v : []) {
          let f: any = x;
          for (const p of st.path) f = f && typeof f === "object" ? f[p] : undefined;
          if ((f === st.value) === (st.op === "==")) next.push(x);
        }
      }
    }
    cur = next;
  }
  return cur;
}
