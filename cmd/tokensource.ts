// The join token of `kubun server` and `kubun agent`: --token / $KUBUN_TOKEN / config file, or --token-file.
// A token on the command line is readable by every local user in `ps` and /proc/<pid>/cmdline for as long as the
// process runs, and a process cannot hide its own argv; so we say so, and the docs and install.sh's units pass it
// through $KUBUN_TOKEN from a root-only environment file or through --token-file.
import { readFileSync } from "node:fs";
import { UsageError, type Settings } from "../internal/config/load.ts";
import type { Logger } from "../internal/log/log.ts";

/** Whether the token was given as a command-line flag (and so is visible in ps). */
export function tokenOnCommandLine(argv: string[]): boolean {
  return argv.some((a) => a === "--token" || a.startsWith("--token=") || a === "-t" || (a.startsWith("-t") && !a.startsWith("--")));
}

/** The token from the settings, else read from --token-file; undefined when neither is set. */
export function joinTokenFrom(s: Settings, log: Pick<Logger, "warn">, argv: string[] = process.argv.slice(2)): string | undefined {
  if (s.token) {
    if (tokenOnCommandLine(argv)) {
      log.warn("the join token was given on the command line, where any local user can read it (ps); use --token-file or $KUBUN_TOKEN instead");
    }
    return String(s.token);
  }
  if (s["token-file"]) {
    let text: string;
    try {
      text = readFileSync(String(s["token-file"]), "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --token-file: ${(err as Error).message}`);
    }
    const token = text.trim();
    if (!token) throw new UsageError(`--token-file ${JSON.stringify(String(s["token-file"]))} is empty`);
    return token;
  }
  return undefined;
}
