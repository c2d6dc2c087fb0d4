// Label selectors in upstream's string syntax: "a=b,c!=d,e in (x,y),f notin (z),g,!h".
// Hand-written: the grammar is tiny and no maintained JS library implements exactly upstream's parser.
import { badRequest } from "../status.ts";

export type LabelOp = "=" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = LabelRequirement[];

const KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function fail(sel: string, why: string): never {
  throw badRequest(`unable to parse requirement: ${why}`);
}

function checkKey(sel: string, key: string): string {
  if (!KEY_RE.test(key) || key.length > 317) fail(sel, `invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return key;
}

function checkValue(sel: string, v: string): string {
  if (v.length > 63 || !VALUE_RE.test(v)) fail(sel, `invalid label value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return v;
}

/** Split on commas that are not inside parentheses. */
function splitTop(sel: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of sel) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

export function parseLabelSelector(sel: string | undefined | null): LabelSelector {
  if (!sel || !sel.trim()) return [];
  const reqs: LabelRequirement[] = [];
  for (const raw of splitTop(sel)) {
    const part = raw.trim();
    if (!part) fail(sel, "found '', expected: identifier");
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3]!.split(",").map((v) => checkValue(sel, v.trim()));
      reqs.push({ key: checkKey(sel, m[1]!), op: m[2] as LabelOp, values });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: checkKey(sel, m[1]!), op: "!", values: [] });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/))) {
      const op = (m[2] === "==" ? "=" : m[2]) as LabelOp;
      const value = m[3]!.trim();
      if ((op === ">" || op === "<") && !/^-?\d+$/.test(value)) fail(sel, `for 'Gt', 'Lt' operators, the value must be an integer`);
      reqs.push({ key: checkKey(sel, m[1]!), op, values: [checkValue(sel, value)] });
    } else if (/^[^=!<>\s()]+$/.test(part)) {
      reqs.push({ key: checkKey(sel, part), op: "exists", values: [] });
    } else {
      fail(sel, `found '${part}', expected: identifier or operator`);
    }
  }
  return reqs;
}

export function matchLabels(sel: LabelSelector, labels: Record<string, string> | undefined | null): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        if (!has || v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v!)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v!)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
      case ">":
      case "<": {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const want = Number(r.values[0]);
        if (r.op === ">" ? !(n > want) : !(n < want)) return false;
        break;
      }
    }
  }
  return true;
}

/** metav1.LabelSelector (matchLabels + matchExpressions) → matcher; used by PDBs and scale. */
export function fromLabelSelectorObject(s: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
} | undefined | null): LabelSelector {
  if (!s) return [];
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) reqs.push({ key: k, op: "=", values: [v] });
  for (const e of s.matchExpressions ?? []) {
    const op: LabelOp =
      e.operator === "In" ? "in" : e.operator === "NotIn" ? "notin" : e.operator === "Exists" ? "exists" : "!";
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return reqs;
}

/** The string form, as Scale.status.selector and kubectl show it. */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel
    .map((r) => {
      switch (r.op) {
        case "exists":
          return r.key;
        case "!":
          return `!${r.key}`;
        case "in":
        case "notin":
          return `${r.key} ${r.op} (${[...r.values].sort().join(",")})`;
        default:
          return `${r.key}${r.op}${r.values[0]}`;
      }
    })
    .join(",");
}
