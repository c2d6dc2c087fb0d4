// kubun token show: print the join token agents use (`kubun agent --token …`).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import { tokenFlags } from "../internal/config/flags.ts";
import { UsageError } from "../internal/config/load.ts";
import { commandFromFlags } from "./command.ts";

export function serverTokenPath(dataDir: string): string {
  return join(dataDir, "server", "token");
}

const show = commandFromFlags("token show", "Print the server's join token", tokenFlags, (s) => {
  const path = serverTokenPath(String(s["data-dir"]));
  if (!existsSync(path)) throw new UsageError(`no join token at ${path}: has 'kubun server' run with this --data-dir?`);
  console.log(readFileSync(path, "utf8").trim());
});

export const tokenCommand = defineCommand({
  meta: { name: "token", description: "Manage the join token" },
  subCommands: { show },
});
