// One AbortSignal for the whole process: SIGINT/SIGTERM start a clean shutdown, a second one exits at once.
import { logger } from "../internal/log/log.ts";

export function untilSignal(): AbortSignal {
  const ctrl = new AbortController();
  const onSignal = (sig: string) => {
    if (ctrl.signal.aborted) process.exit(130);
    logger("main").info("shutting down", { signal: sig });
    ctrl.abort();
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  return ctrl.signal;
}
