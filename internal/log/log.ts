// Structured logging: one JSON line per event on stderr, with a level.
// Deliberately hand-written: pino and friends cost more memory than the ten lines they replace here.

export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = (process.env.KUBUN_LOG_LEVEL as Level) in order ? (process.env.KUBUN_LOG_LEVEL as Level) : "info";

export function setLevel(level: Level): void {
  threshold = level;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

function emit(level: Level, component: string, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < order[threshold]) return;
  const line: Record<string, unknown> = { ts: new Date().toISOString(), level, component, msg };
  if (fields) {
    for (const [k, v] of Object.entries(fields)) line[k] = v instanceof Error ? v.message : v;
  }
  process.stderr.write(JSON.stringify(line) + "\n");
}

export function logger(component: string): Logger {
  return {
    debug: (m, f) => emit("debug", component, m, f),
    info: (m, f) => emit("info", component, m, f),
    warn: (m, f) => emit("warn", component, m, f),
    error: (m, f) => emit("error", component, m, f),
    child: (sub) => logger(`${component}.${sub}`),
  };
}
