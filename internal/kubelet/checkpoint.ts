// Local copy of the pods this node runs (<data-dir>/agent/pods/<uid>/checkpoint.json), written only when what
// it records changes, so that a restarted agent keeps pods running without the API server.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PodRecord } from "./records.ts";

export class Checkpoints {
  private last = new Map<string, string>();
  constructor(private podsDir: string) {
    mkdirSync(podsDir, { recursive: true });
  }

  podDir(uid: string): string {
    return join(this.podsDir, uid);
  }

  save(rec: PodRecord): void {
    const containers: Record<string, any> = {};
    for (const [k, c] of Object.entries(rec.containers)) {
      const { probes, ...rest } = c;
      containers[k] = { ...rest, ready: false };
    }
    const { lastStatus, volumes, volumesAt, ...r } = rec;
    const text = JSON.stringify({ ...r, containers });
    if (this.last.get(rec.uid) === text) return;
    const dir = this.podDir(rec.uid);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, "checkpoint.json.tmp");
    writeFileSync(tmp, text);
    renameSync(tmp, join(dir, "checkpoint.json"));
    this.last.set(rec.uid, text);
  }

  loadAll(): PodRecord[] {
    const out: PodRecord[] = [];
    for (const uid of readdirSync(this.podsDir)) {
      const f = join(this.podsDir, uid, "checkpoint.json");
      if (!existsSync(f)) continue;
      try {
        const text = readFileSync(f, "utf8");
        out.push(JSON.parse(text));
        this.last.set(uid, text);
      } catch {}
    }
    return out;
  }

  remove(uid: string): void {
    rmSync(this.podDir(uid), { recursive: true, force: true });
    this.last.delete(uid);
  }
}
