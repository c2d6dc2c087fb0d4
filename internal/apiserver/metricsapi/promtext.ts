// A reader for the few series of a kubelet's /metrics/resource (Prometheus text format 0.0.4): name, labels,
// value and the optional millisecond timestamp of each sample line. Hand-written on purpose: the npm parsers
// (prom2json-style) build whole metric families for every line and the format needed here is tiny.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** ms since the epoch, when the line has one. */
  timestamp?: number;
}

const WANTED = new Set(["container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "node_cpu_usage_seconds_total", "node_memory_working_set_bytes"]);

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  let i = 0;
  while (i < s.length) {
    while (s[i] === "," || s[i] === " ") i++;
    const eq = s.indexOf("=", i);
    if (eq < 0 || s[eq + 1] !== '"') break;
    const key = s.slice(i, eq).trim();
    let v = "";
    let j = eq + 2;
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === "\\" && j + 1 < s.length) {
        j++;
        v += s[j] === "n" ? "\n" : s[j];
      } else v += s[j];
    }
    out[key] = v;
    i = j + 1;
  }
  return out;
}

/** The usage series of a /metrics/resource body; other families and malformed lines are skipped. */
export function parseResourceMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    const brace = line.indexOf("{");
    const sp = line.indexOf(" ");
    const nameEnd = brace >= 0 && brace < sp ? brace : sp;
    if (nameEnd <= 0) continue;
    const name = line.slice(0, nameEnd);
    if (!WANTED.has(name)) continue;
    let labels: Record<string, string> = Object.create(null);
    let rest: string;
    if (nameEnd === brace) {
      const close = line.lastIndexOf("}");
      if (close < 0) continue;
      labels = parseLabels(line.slice(brace + 1, close));
      rest = line.slice(close + 1);
    } else rest = line.slice(nameEnd);
    const [v, ts] = rest.trim().split(/\s+/);
    const value = Number(v);
    if (!Number.isFinite(value)) continue;
    out.push({ name, labels, value, timestamp: ts !== undefined && ts !== "" ? Number(ts) : undefined });
  }
  return out;
}
