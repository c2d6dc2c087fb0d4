// Cell formatting helpers shared by the printers, following kubectl's/apiserver's printers
// (k8s.io/apimachinery/pkg/util/duration.HumanDuration, labels.FormatLabels, selector strings).

type Obj = Record<string, any>;

/** Upstream's duration.HumanDuration: "45s", "5m2s", "3h10m", "3d4h", "2y15d". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of a timestamp as kubectl prints it; "<unknown>" when unset. */
export function since(ts: string | undefined | null, now: number): string {
  if (!ts) return "<unknown>";
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return "<unknown>";
  return humanDuration(now - t);
}

/** labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty. */
export function formatLabels(labels: Obj | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return "<none>";
  return keys.map((k) => `${k}=${labels![k]}`).join(",");
}

/** metav1.LabelSelectorAsSelector(...).String(): "app=web,tier in (a,b),!gone"; "<none>" for nil/empty. */
export function formatSelector(sel: Obj | undefined | null): string {
  if (!sel) return "<none>";
  const reqs: [string, string][] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push([k, `${k}=${v}`]);
  for (const r of sel.matchExpressions ?? []) {
    const values = [...(r.values ?? [])].sort().join(",");
    switch (r.operator) {
      case "In":
        reqs.push([r.key, `${r.key} in (${values})`]);
        break;
      case "NotIn":
        reqs.push([r.key, `${r.key} notin (${values})`]);
        break;
      case "Exists":
        reqs.push([r.key, r.key]);
        break;
      case "DoesNotExist":
        reqs.push([r.key, `!${r.key}`]);
        break;
    }
  }
  if (reqs.length === 0) return "<none>";
  return reqs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => s)
    .join(",");
}

/** Container names and images of a pod template, comma-separated. */
export function containersAndImages(podSpec: Obj | undefined): [string, string] {
  const cs: Obj[] = podSpec?.containers ?? [];
  return [cs.map((c) => c.name).join(","), cs.map((c) => c.image).join(",")];
}

/** RFC 3339 in UTC, seconds precision (Go's time.RFC3339 of a metav1.Time). */
export function rfc3339(ts: string | undefined): string {
  if (!ts) return "";
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return ts;
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
}
