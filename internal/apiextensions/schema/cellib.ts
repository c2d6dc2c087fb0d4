// The part of Kubernetes' CEL libraries (k8s.io/apiserver/pkg/cel/library) that CRD rules use most, added to the
// cel-js environment: list helpers, string join/replace, regex find, URL/IP/CIDR checks and isQuantity.
// Quantity values, url() and ip() objects are not provided.
import { isIP } from "node:net";
import { isQuantity } from "../../api/quantity.ts";

type Env = { registerFunction(signature: string, handler: (...args: any[]) => unknown): unknown };

function cmp(a: any, b: any): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isCIDR(s: string): boolean {
  const [ip, bits, extra] = s.split("/");
  if (extra !== undefined || !ip || bits === undefined || !/^\d+$/.test(bits)) return false;
  const v = isIP(ip);
  return v !== 0 && Number(bits) <= (v === 4 ? 32 : 128);
}

const regexCache = new Map<string, RegExp>();
function re(p: string, flags = ""): RegExp {
  const k = `${flags}/${p}`;
  let r = regexCache.get(k);
  if (!r) {
    r = new RegExp(p, flags + "u");
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(k, r);
  }
  return r;
}

export function registerKubernetesLibrary(env: Env): void {
  // lists
  env.registerFunction("list.isSorted(): bool", (l: any[]) => l.every((x, i) => i === 0 || cmp(l[i - 1], x) <= 0));
  env.registerFunction("list.sum(): dyn", (l: any[]) => (l.length ? l.reduce((a, b) => a + b) : 0n));
  env.registerFunction("list.min(): dyn", (l: any[]) => {
    if (!l.length) throw new Error("min called on empty list");
    return l.reduce((a, b) => (cmp(b, a) < 0 ? b : a));
  });
  env.registerFunction("list.max(): dyn", (l: any[]) => {
    if (!l.length) throw new Error("max called on empty list");
    return l.reduce((a, b) => (cmp(b, a) > 0 ? b : a));
  });
  env.registerFunction("list.indexOf(dyn): int", (l: any[], x: unknown) => BigInt(l.findIndex((y) => y === x)));
  env.registerFunction("list.lastIndexOf(dyn): int", (l: any[], x: unknown) => BigInt(l.findLastIndex((y) => y === x)));
  // strings
  env.registerFunction("list.join(): string", (l: any[]) => l.join(""));
  env.registerFunction("list.join(string): string", (l: any[], sep: string) => l.join(sep));
  env.registerFunction("string.replace(string, string): string", (s: string, a: string, b: string) => s.split(a).join(b));
  env.registerFunction("string.replace(string, string, int): string", (s: string, a: string, b: string, n: bigint) => {
    let out = s;
    let from = 0;
    for (let i = 0n; n < 0n || i < n; i++) {
      const at = out.indexOf(a, from);
      if (at < 0) break;
      out = out.slice(0, at) + b + out.slice(at + a.length);
      from = at + b.length;
    }
    return out;
  });
  // regex
  env.registerFunction("string.find(string): string", (s: string, p: string) => re(p).exec(s)?.[0] ?? "");
  env.registerFunction("string.findAll(string): list", (s: string, p: string) => [...s.matchAll(re(p, "g"))].map((m) => m[0]));
  // urls, ips, quantities
  env.registerFunction("isURL(string): bool", (s: string) => URL.canParse(s) && /^[a-z][a-z0-9+.-]*:\/\//i.test(s));
  env.registerFunction("isIP(string): bool", (s: string) => isIP(s) !== 0);
  env.registerFunction("isCIDR(string): bool", (s: string) => isCIDR(s));
  env.registerFunction("isQuantity(string): bool", (s: string) => isQuantity(s));
}
