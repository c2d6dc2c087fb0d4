// Applies a rendered Ruleset with ONE `nft -f -` run, which the kernel commits as one transaction: packets see the
// old table or the new one, never a half-written mix. Against the previously applied ruleset it flushes the maps
// and chains, deletes chains that are gone and refills everything, so session-affinity sets keep their entries;
// without one (first sync, or after a failure) it replaces the whole table.
import { run } from "../runtime/run.ts";
import { BASE_MAPS, BASE_SETS, TABLE, type Ruleset } from "./render.ts";

export interface NftRunner {
  /** Runs `nft -f -` with the script on stdin; throws with nft's error message on failure. */
  apply(script: string): Promise<void>;
  /** `nft list table ip kubun`, or undefined when there is no such table. */
  list(): Promise<string | undefined>;
  deleteTable(): Promise<void>;
}

export function nftRunner(netns?: string): NftRunner {
  const argv = (args: string[]) => (netns ? ["ip", "netns", "exec", netns, "nft", ...args] : ["nft", ...args]);
  return {
    async apply(script) {
      await run(argv(["-f", "-"]), { stdin: script, timeoutMs: 30_000 });
    },
    async list() {
      const r = await run(argv(["list", "table", "ip", TABLE]), { allowFail: true, timeoutMs: 30_000 });
      return r.code === 0 ? r.stdout : undefined;
    },
    async deleteTable() {
      // "add" first so the delete cannot fail on a missing table; both in one transaction.
      await run(argv(["-f", "-"]), { stdin: `add table ip ${TABLE}\ndelete table ip ${TABLE}\n`, timeoutMs: 30_000 });
    },
  };
}

/** The nft script that turns the table from `prev` (undefined = unknown) into `next`. */
export function transaction(next: Ruleset, prev?: Ruleset): string {
  const t = `ip ${TABLE}`;
  if (!prev) return `add table ${t}\ndelete table ${t}\n${next.text}`;
  const out: string[] = [];
  // Maps first (they reference chains), then every rule, then what is gone; the definition re-adds the rest.
  for (const m of BASE_MAPS) out.push(`flush map ${t} ${m}`);
  for (const s of BASE_SETS) out.push(`flush set ${t} ${s}`);
  for (const c of prev.chains) out.push(`flush chain ${t} ${c}`);
  for (const c of prev.chains) if (!next.chains.has(c)) out.push(`delete chain ${t} ${c}`);
  for (const [s, timeout] of prev.affinitySets) if (next.affinitySets.get(s) !== timeout) out.push(`delete set ${t} ${s}`);
  return out.join("\n") + "\n" + next.text;
}
