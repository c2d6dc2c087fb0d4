// Server-side printing (Table) for kubectl, from internal/apiserver/tables.
import type { TablesLib } from "../apiserver/deps.ts";

// Resolved at run time while internal/apiserver/tables/index.ts is being written in parallel; becomes a static import.
const TABLES_MODULE = "../apiserver/tables/index.ts";

export async function loadTables(): Promise<TablesLib | undefined> {
  try {
    const mod: any = await import(TABLES_MODULE);
    return { toTable: mod.toTable };
  } catch {
    return undefined;
  }
}
