// IntOrString resolution as upstream's intstr.GetScaledValueFromIntOrPercent.

export type IntOrString = number | string | undefined;

export function scaledValue(v: IntOrString, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    const n = Number(v);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: ${JSON.stringify(v)}`);
  }
  const raw = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}
