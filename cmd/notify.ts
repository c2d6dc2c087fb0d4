// Tells systemd (Type=notify units) that kubun is up; a no-op outside systemd.
import { sdNotify } from "../internal/agent/sdnotify.ts";
import { logger } from "../internal/log/log.ts";

export function notifyReady(status: string): void {
  try {
    if (sdNotify(`READY=1\nSTATUS=${status}`)) logger("main").info("told systemd we are ready", { status });
  } catch (err) {
    logger("main").warn("could not notify systemd", { error: err });
  }
}
