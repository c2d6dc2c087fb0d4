// Builds a citty command from a flag table: help from the table, unknown flags rejected,
// settings merged from flags, env and config file before `run` sees them.
import { defineCommand } from "citty";
import { cittyArgs, checkUnknownFlags, resolve, type Settings } from "../internal/config/load.ts";
import type { FlagDef } from "../internal/config/flags.ts";
import { setLevel } from "../internal/log/log.ts";

export function commandFromFlags(
  name: string,
  description: string,
  flags: FlagDef[],
  run: (settings: Settings, positionals: string[]) => Promise<number | void> | number | void,
) {
  return defineCommand({
    meta: { name, description },
    args: cittyArgs(flags),
    async run({ args, rawArgs }) {
      checkUnknownFlags(`kubun ${name}`, flags, rawArgs);
      const settings = resolve(flags, args as Record<string, unknown>, rawArgs);
      if (settings.debug) setLevel("debug");
      const code = await run(settings, args._ ?? []);
      if (typeof code === "number" && code !== 0) process.exitCode = code;
    },
  });
}
