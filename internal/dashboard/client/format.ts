// kubectl-style ages ("3m12s", "5h", "2d"), quantities and small object helpers.

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return "-";
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A resource.Quantity string as a number ("250m" → 0.25, "1Gi" → 1073741824). */
export function quantity(q: string | number | undefined): number {
  if (q === undefined) return NaN;
  if (typeof q === "number") return q;
  const m = /^([0-9.eE+-]+?)(n|u|m|k|K|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (!m) return NaN;
  return Number(m[1]) * (SUFFIX[m[2] ?? ""] ?? 1);
}

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return "-";
  const units = ["B", "Ki", "Mi", "Gi", "Ti"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)}${units[i]}`;
}

export const cores = (n: number) => (!Number.isFinite(n) ? "-" : n < 1 ? `${Math.round(n * 1000)}m` : n.toFixed(n < 10 ? 2 : 0));

export const condition = (o: any, type: string) => (o?.status?.conditions ?? []).find((c: any) => c.type === type);

export function podReady(p: any): [number, number] {
  const cs = p.status?.containerStatuses ?? [];
  return [cs.filter((c: any) => c.ready).length, p.spec?.containers?.length ?? cs.length];
}

export const restarts = (p: any) => (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);

/** kubectl's STATUS column: a waiting/terminated reason wins over the phase; Terminating when deleted. */
export function podStatus(p: any): string {
  if (p.metadata?.deletionTimestamp) return "Terminating";
  for (const c of p.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
    if (c.state?.terminated?.reason && p.status?.phase !== "Succeeded") return c.state.terminated.reason;
  }
  return p.status?.reason ?? p.status?.phase ?? "Pending";
}

export function lastTermination(p: any): string {
  for (const c of p.status?.containerStatuses ?? []) {
    const t = c.lastState?.terminated;
    if (t) return `${t.reason ?? "Terminated"} (exit ${t.exitCode ?? "?"}) ${age(t.finishedAt)} ago`;
  }
  return "";
}

export const images = (spec: any) => [...new Set((spec?.containers ?? []).map((c: any) => c.image))].join(", ");

export const byName = (a: any, b: any) =>
  `${a.metadata?.namespace ?? ""}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace ?? ""}/${b.metadata?.name}`);
