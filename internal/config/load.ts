// Turns a flag table plus argv, environment and the config file into one typed settings object.
import { existsSync, readFileSync } from "node:fs";
import { resolve as absolutePath } from "node:path";
import type { ArgsDef } from "citty";
import { parse as parseYAML } from "yaml";
import type { FlagDef } from "./flags.ts";

/** A usage problem: printed as one line, exit code 2. */
export class UsageError extends Error {}

export type Settings = Record<string, string | boolean | number | string[] | undefined>;

/** citty argument definitions from a flag table (defaults are applied by resolve(), not citty, to know what was set). */
export function cittyArgs(flags: FlagDef[]): ArgsDef {
  const args: ArgsDef = {};
  for (const f of flags) {
    const shown = f.default === undefined || (Array.isArray(f.default) && !f.default.length) ? "" : ` (default: ${f.default})`;
    const env = f.env ? ` [$${f.env}]` : "";
    args[f.name] = {
      type: f.type === "boolean" ? "boolean" : "string",
      description: `(${f.category}) ${f.description}${shown}${env}`,
      ...(f.alias ? { alias: f.alias } : {}),
    };
  }
  return args;
}

/** Reject flags that are not in the table, before anything runs. */
export function checkUnknownFlags(command: string, flags: FlagDef[], rawArgs: string[]): void {
  const names = new Set<string>(["help", "h"]);
  for (const f of flags) {
    names.add(f.name);
    if (f.alias) names.add(f.alias);
    if (f.type === "boolean") names.add(`no-${f.name}`);
  }
  for (const arg of rawArgs) {
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^--?/, "").split("=")[0]!;
    if (!names.has(name)) throw new UsageError(`${command}: unknown flag ${arg.split("=")[0]} (see '${command} --help')`);
  }
}

function coerce(f: FlagDef, raw: unknown, source: string): string | boolean | number | string[] {
  switch (f.type) {
    case "boolean":
      if (typeof raw === "boolean") return raw;
      if (["true", "1", "yes"].includes(String(raw).toLowerCase())) return true;
      if (["false", "0", "no", ""].includes(String(raw).toLowerCase())) return false;
      throw new UsageError(`invalid value ${JSON.stringify(raw)} for --${f.name} from ${source}: want true or false`);
    case "number": {
      const n = typeof raw === "number" ? raw : Number(String(raw));
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid value ${JSON.stringify(raw)} for --${f.name} from ${source}: want a whole number`);
      return n;
    }
    case "list":
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      if (typeof raw === "object" || raw === true) throw new UsageError(`invalid value for --${f.name} from ${source}: want a string`);
      return String(raw);
  }
}

/** Read the YAML config file; a missing file is fine only at the default path. */
export function readConfigFile(path: string, explicit: boolean): Record<string, unknown> {
  if (!existsSync(path)) {
    if (explicit) throw new UsageError(`config file ${path} does not exist`);
    return {};
  }
  let doc: unknown;
  try {
    doc = parseYAML(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`config file ${path}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc == null) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new UsageError(`config file ${path}: want a mapping of flag names to values`);
  return doc as Record<string, unknown>;
}

/** Merge flag > env > config file > default into typed settings. */
export function resolve(flags: FlagDef[], parsed: Record<string, unknown>, rawArgs: string[], env = process.env): Settings {
  const given = (f: FlagDef) =>
    rawArgs.some((a) => {
      const n = a.replace(/^--?/, "").split("=")[0];
      return a.startsWith("-") && (n === f.name || n === f.alias || n === `no-${f.name}`);
    });

  const cfgFlag = flags.find((f) => f.name === "config");
  let fileValues: Record<string, unknown> = {};
  if (cfgFlag) {
    const explicit = given(cfgFlag) || (cfgFlag.env !== undefined && env[cfgFlag.env] !== undefined);
    const path = given(cfgFlag) ? String(parsed.config) : (cfgFlag.env && env[cfgFlag.env]) || String(cfgFlag.default);
    fileValues = readConfigFile(path, explicit);
  }

  const out: Settings = {};
  for (const f of flags) {
    if (given(f)) {
      let v = parsed[f.name];
      // Repeated list flags arrive as arrays; a single one as a string.
      if (f.type === "list" && !Array.isArray(v)) v = v === undefined ? [] : [v];
      out[f.name] = coerce(f, v, `the command line`);
    } else if (f.env && env[f.env] !== undefined) {
      out[f.name] = coerce(f, env[f.env], `$${f.env}`);
    } else if (f.name in fileValues) {
      out[f.name] = coerce(f, fileValues[f.name], "the config file");
    } else {
      out[f.name] = f.default;
    }
  }
  // As k3s's datadir.Resolve: the data dir is absolute from here on, so every path derived from it names one place
  // whatever the working directory (containerd gets its socket and config by path; killall finds the shims by it).
  const dataDir = out["data-dir"];
  if (typeof dataDir === "string" && dataDir !== "") out["data-dir"] = absolutePath(dataDir);
  return out;
}
