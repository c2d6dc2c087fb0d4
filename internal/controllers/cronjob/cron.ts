// Standard cron schedules as upstream CronJobs accept them (robfig/cron ParseStandard): five fields
// (minute hour day-of-month month day-of-week) with lists, ranges, steps, names, `?`, and the descriptors
// @yearly @annually @monthly @weekly @daily @midnight @hourly and @every <duration>; optional CRON_TZ=/TZ= prefix.
// Hand-written: the npm cron parsers either lack upstream's day-of-month/day-of-week OR rule or pull in moment.

export interface Schedule {
  /** First activation strictly after `after`. */
  next(after: Date): Date;
  timeZone?: string;
}

interface Field {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAYS = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
];
const FIELD_NAMES = ["minute", "hour", "day-of-month", "month", "day-of-week"];

const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

function parseValue(s: string, f: Field, fieldName: string): number {
  const lower = s.toLowerCase();
  if (f.names && lower in f.names) return f.names[lower]!;
  if (!/^\d+$/.test(s)) throw new Error(`failed to parse int from ${s}: invalid ${fieldName}`);
  return Number(s);
}

/** Parses one field into the set of allowed values; `star` tells whether it started with * or ?. */
function parseField(text: string, f: Field, idx: number): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  const name = FIELD_NAMES[idx]!;
  for (const part of text.split(",")) {
    const [rangePart, stepPart, extra] = part.split("/");
    if (extra !== undefined || rangePart === undefined || rangePart === "") throw new Error(`invalid ${name} field: ${part}`);
    let lo: number;
    let hi: number;
    if (rangePart === "*" || rangePart === "?") {
      lo = f.min;
      hi = f.max;
      if (stepPart === undefined) star = true;
    } else {
      const [a, b, more] = rangePart.split("-");
      if (more !== undefined) throw new Error(`too many hyphens: ${part}`);
      lo = parseValue(a!, f, name);
      hi = b !== undefined ? parseValue(b, f, name) : stepPart !== undefined ? f.max : lo;
    }
    const step = stepPart !== undefined ? Number(stepPart) : 1;
    if (!Number.isInteger(step) || step <= 0) throw new Error(`step of range should be a positive number: ${part}`);
    // Day-of-week 7 is Sunday too.
    if (idx === 4 && hi === 7) hi = 7;
    const max = idx === 4 ? 7 : f.max;
    if (lo < f.min) throw new Error(`beginning of range (${lo}) below minimum (${f.min}): ${part}`);
    if (hi > max) throw new Error(`end of range (${hi}) above maximum (${f.max}): ${part}`);
    if (lo > hi) throw new Error(`beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    for (let v = lo; v <= hi; v += step) values.add(idx === 4 && v === 7 ? 0 : v);
  }
  return { values, star };
}

function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60000 : n * 3600000;
    consumed += m[0].length;
  }
  if (!s || consumed !== s.length) throw new Error(`failed to parse duration ${s}`);
  return total;
}

/** Wall-clock parts of an instant in a time zone (UTC when tz is undefined). */
function wallClock(t: number, tz?: string): { y: number; mo: number; d: number; h: number; mi: number; dow: number } {
  if (!tz || tz === "UTC" || tz === "Etc/UTC") {
    const d = new Date(t);
    return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), dow: d.getUTCDay() };
  }
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    weekday: "short",
  }).formatToParts(new Date(t));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "0";
  const dow = DAYS[get("weekday").toLowerCase().slice(0, 3) as keyof typeof DAYS];
  return { y: Number(get("year")), mo: Number(get("month")), d: Number(get("day")), h: Number(get("hour")) % 24, mi: Number(get("minute")), dow };
}

export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses a schedule; throws Error with a message like upstream's on bad input. */
export function parseSchedule(spec: string, timeZone?: string): Schedule {
  let text = spec.trim();
  let tz = timeZone;
  const tzm = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text);
  if (tzm) {
    tz = tzm[1];
    text = tzm[2]!.trim();
  }
  if (tz && !validTimeZone(tz)) throw new Error(`provided bad location ${tz}: unknown time zone ${tz}`);
  if (text.startsWith("@every ")) {
    const ms = parseDuration(text.slice(7).trim());
    if (ms < 1000) throw new Error(`@every duration must be at least 1 second`);
    const every = Math.floor(ms / 1000) * 1000;
    return { timeZone: tz, next: (after) => new Date(Math.floor((after.getTime() + every) / 1000) * 1000) };
  }
  if (text.startsWith("@")) {
    const d = DESCRIPTORS[text.toLowerCase()];
    if (!d) throw new Error(`unrecognized descriptor: ${text}`);
    text = d;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${text}`);
  const [mi, h, dom, mo, dow] = fields.map((f, i) => parseField(f, FIELDS[i]!, i));
  const dayMatches = (d: number, wd: number) => {
    const a = dom!.values.has(d);
    const b = dow!.values.has(wd);
    // Upstream (robfig/cron): if either day field is a star, both must match; otherwise either may.
    return dom!.star || dow!.star ? a && b : a || b;
  };
  return {
    timeZone: tz,
    next(after) {
      // Step minute by minute but skip whole hours/days that cannot match; bounded to five years.
      let t = Math.floor(after.getTime() / 60000) * 60000 + 60000;
      const limit = t + 5 * 366 * 86400000;
      while (t < limit) {
        const w = wallClock(t, tz);
        if (!mo!.values.has(w.mo) || !dayMatches(w.d, w.dow)) {
          t += (24 * 60 - w.h * 60 - w.mi) * 60000; // to next local midnight (approximately across DST)
          continue;
        }
        if (!h!.values.has(w.h)) {
          t += (60 - w.mi) * 60000;
          continue;
        }
        if (!mi!.values.has(w.mi)) {
          t += 60000;
          continue;
        }
        return new Date(t);
      }
      throw new Error(`schedule ${spec} never fires`);
    },
  };
}

/** Whether the schedule has two activations after `from` (false for dates that never come, like Feb 30). */
export function firesTwice(s: Schedule, from: Date): boolean {
  try {
    s.next(s.next(from));
    return true;
  } catch {
    return false;
  }
}

/**
 * Schedule times in (earliest, now]: the most recent one and how many there were (capped at `cap`),
 * as upstream's mostRecentScheduleTime.
 */
export function mostRecentScheduleTime(s: Schedule, earliest: Date, now: Date, cap = 100): { last?: Date; missed: number } {
  let last: Date | undefined;
  let missed = 0;
  let t = s.next(earliest);
  while (t.getTime() <= now.getTime()) {
    last = t;
    missed++;
    if (missed > cap) {
      // Too many to count one by one: jump close to now and keep the last one.
      let u = s.next(new Date(now.getTime() - 3600_000 * 24 * 2));
      if (u.getTime() <= earliest.getTime()) u = s.next(earliest);
      while (u.getTime() <= now.getTime()) {
        last = u;
        u = s.next(u);
      }
      return { last, missed };
    }
    t = s.next(t);
  }
  return { last, missed };
}
