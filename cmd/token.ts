// kubun token show: print the join token agents use (`kubun agent --token …`); create/list/delete: extra join
// tokens (bootstrap tokens, with a lifetime), through the running server (work in internal/ops/tokens.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import { tokenAdminFlags, tokenFlags } from "../internal/config/flags.ts";
import { UsageError } from "../internal/config/load.ts";
import { commandFromFlags } from "./command.ts";
import { printRows } from "./output.ts";

export function serverTokenPath(dataDir: string): string {
  return join(dataDir, "server", "token");
}

const show = commandFromFlags("token show", "Print the server's join token", tokenFlags, (s) => {
  const path = serverTokenPath(String(s["data-dir"]));
  if (!existsSync(path)) throw new UsageError(`no join token at ${path}: has 'kubun server' run with this --data-dir?`);
  console.log(readFileSync(path, "utf8").trim());
});

const ops = () => import("../internal/ops/tokens.ts");

const create = commandFromFlags("token create", "Create an extra join token (bootstrap token) with a lifetime", tokenAdminFlags, async (s, args) => {
  if (args.length > 1) throw new UsageError("kubun token create: at most one token ([a-z0-9]{6}.[a-z0-9]{16}); default: a random one");
  const { adminClientConfig, createBootstrapToken } = await ops();
  const t = await createBootstrapToken(adminClientConfig(String(s.kubeconfig)), {
    ttl: String(s.ttl),
    description: s.description as string | undefined,
    usages: (s.usages as string[] | undefined) ?? [],
    groups: (s.groups as string[] | undefined) ?? [],
    token: args[0],
  });
  console.log(t.token);
});

const list = commandFromFlags("token list", "List the extra join tokens", tokenAdminFlags, async (s) => {
  const { adminClientConfig, listBootstrapTokens } = await ops();
  const tokens = await listBootstrapTokens(adminClientConfig(String(s.kubeconfig)));
  printRows(String(s.output), tokens, ["Token", "TTL", "Expires", "Usages", "Description", "Extra groups"], (t) => [
    t.token,
    t.ttl,
    t.expires ?? "<never>",
    t.usages.join(","),
    t.description || "<none>",
    t.groups.join(","),
  ]);
});

const del = commandFromFlags("token delete", "Delete extra join tokens (by id or token)", tokenAdminFlags, async (s, args) => {
  if (args.length === 0) throw new UsageError("kubun token delete: give at least one token id (see 'kubun token list')");
  const { adminClientConfig, deleteBootstrapToken } = await ops();
  const cfg = adminClientConfig(String(s.kubeconfig));
  for (const a of args) console.log(`bootstrap token "${await deleteBootstrapToken(cfg, a)}" deleted`);
});

export const tokenCommand = defineCommand({
  meta: { name: "token", description: "Manage join tokens" },
  subCommands: { show, create, list, ls: list, delete: del },
});
