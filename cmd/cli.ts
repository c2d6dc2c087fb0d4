// kubun's commands: one binary, thin command layer. The real work lives in internal/. Loaded by kubun.ts.
import { defineCommand, runCommand, runMain, showUsage } from "citty";
import { UsageError } from "../internal/config/load.ts";
import { agentCommand } from "./agent.ts";
import { checkConfigCommand, killallCommand, uninstallCommand } from "./hostcmds.ts";
import { runKubectl } from "./kubectl.ts";
import { serverCommand } from "./server.ts";
import { tokenCommand } from "./token.ts";
import { snapshotCommand } from "./snapshot.ts";
import { certificateCommand } from "./certificate.ts";
import { KUBUN_VERSION, versionCommand } from "./version.ts";

const main = defineCommand({
  meta: { name: "kubun", version: KUBUN_VERSION.slice(1), description: "A small Kubernetes for edge hardware" },
  subCommands: {
    server: serverCommand,
    agent: agentCommand,
    token: tokenCommand,
    snapshot: snapshotCommand,
    certificate: certificateCommand,
    "check-config": checkConfigCommand,
    killall: killallCommand,
    uninstall: uninstallCommand,
    version: versionCommand,
    kubectl: defineCommand({ meta: { name: "kubectl", description: "Run kubectl against this cluster" } }),
  },
});

function fail(err: unknown): never {
  const usage = err instanceof UsageError;
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split("\n")[0]!;
  process.stderr.write(line.startsWith("kubun") ? `${line}\n` : `kubun: ${line}\n`);
  process.exit(usage ? 2 : 1);
}

async function cli(argv: string[]): Promise<void> {
  // kubectl takes its own flags: pass everything through untouched.
  if (argv[0] === "kubectl") {
    process.exit(await runKubectl(argv.slice(1)));
  }
  const known = Object.keys(main.subCommands as object);
  if (argv.length === 0) {
    await showUsage(main);
    process.exit(2);
  }
  if (!argv[0]!.startsWith("-") && !known.includes(argv[0]!)) {
    throw new UsageError(`unknown command "${argv[0]}" (commands: ${known.join(", ")})`);
  }
  // citty's runMain prints help; everything else runs through runCommand so errors get our exit codes.
  if (argv.includes("--help") || argv.includes("-h") || argv[0] === "--version") {
    await runMain(main, { rawArgs: argv });
    return;
  }
  await runCommand(main, { rawArgs: argv });
}

process.on("unhandledRejection", fail);
cli(process.argv.slice(2)).catch(fail);
