// This program again, for a child or a re-exec: a compiled kubun runs its bundled entry point (/$bunfs/...) and
// takes only kubun's arguments; under bun, the script is passed too (and, when asked, the flags bun was given).

/** argv that starts this program again (append kubun's arguments); `bunFlags` keeps bun's own (--cpu-prof, …). */
export function selfCommand(opts: { bunFlags?: boolean } = {}): string[] {
  if (Bun.main.startsWith("/$bunfs/")) return [process.execPath];
  return [process.execPath, ...(opts.bunFlags ? process.execArgv : []), Bun.main];
}
