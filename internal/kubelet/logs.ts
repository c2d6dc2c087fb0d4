// Serving container logs from CRI-format files: tailLines, sinceSeconds/sinceTime, timestamps, limitBytes and
// follow (until the container instance stops), with partial (P) lines joined as upstream's kuberuntime logs.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { queryBool } from "../api/querybool.ts";

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  since?: Date;
  limitBytes?: number;
}

function int(q: URLSearchParams, k: string): number | undefined {
  const v = q.get(k);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`invalid ${k}: ${v}`);
  return n;
}

// As the API server reads them: clients send follow=True (python) as well as follow=true.
const bool = (q: URLSearchParams, k: string) => queryBool(q, k) === true;

export function parseLogOptions(q: URLSearchParams): LogOptions {
  const o: LogOptions = { follow: bool(q, "follow"), previous: bool(q, "previous"), timestamps: bool(q, "timestamps") };
  o.tailLines = int(q, "tailLines");
  if (o.tailLines !== undefined && o.tailLines < 0) throw new Error("tailLines must be greater than or equal to 0");
  const since = int(q, "sinceSeconds");
  if (since !== undefined) {
    if (since < 1) throw new Error("sinceSeconds must be greater than 0");
    o.since = new Date(Date.now() - since * 1000);
  }
  const st = q.get("sinceTime");
  if (st) {
    const d = new Date(st);
    if (Number.isNaN(d.getTime())) throw new Error(`invalid sinceTime: ${st}`);
    o.since = d;
  }
  o.limitBytes = int(q, "limitBytes");
  if (o.limitBytes !== undefined && o.limitBytes < 1) throw new Error("limitBytes must be greater than 0");
  return o;
}

interface Entry {
  ts: string;
  text: string;
}

/** Parses complete CRI lines; returns entries (P lines joined with what follows) and the unparsed remainder. */
function parse(chunk: string, partial: { text: string }): { entries: Entry[]; rest: string } {
  const entries: Entry[] = [];
  let start = 0;
  let nl: number;
  while ((nl = chunk.indexOf("\n", start)) >= 0) {
    const line = chunk.slice(start, nl);
    start = nl + 1;
    const a = line.indexOf(" ");
    const b = line.indexOf(" ", a + 1);
    const c = line.indexOf(" ", b + 1);
    if (a < 0 || b < 0) continue;
    const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
    const msg = c < 0 ? "" : line.slice(c + 1);
    if (tag.startsWith("P")) {
      partial.text += msg;
      continue;
    }
    entries.push({ ts: line.slice(0, a), text: partial.text + msg });
    partial.text = "";
  }
  return { entries, rest: chunk.slice(start) };
}

export function streamLogs(path: string, o: LogOptions, stillRunning: () => boolean, signal: AbortSignal): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async start(ctrl) {
      let fd = openSync(path, "r");
      let ino = fstatSync(fd).ino;
      let pos = 0;
      let rest = "";
      const partial = { text: "" };
      const readMore = (): Entry[] => {
        const out: Entry[] = [];
        const buf = Buffer.allocUnsafe(64 * 1024);
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, pos);
          if (n <= 0) break;
          pos += n;
          const r = parse(rest + buf.toString("utf8", 0, n), partial);
          rest = r.rest;
          out.push(...r.entries);
        }
        return out;
      };
      let done = false;
      const emit = (entries: Entry[]) => {
        for (const e of entries) {
          if (done) return;
          if (o.since && new Date(e.ts) < o.since) continue;
          let line = (o.timestamps ? `${e.ts} ` : "") + e.text + "\n";
          if (o.limitBytes !== undefined && sent + line.length > o.limitBytes) {
            line = line.slice(0, o.limitBytes - sent);
            done = true;
          }
          sent += line.length;
          ctrl.enqueue(enc.encode(line));
        }
      };
      let first = readMore();
      if (o.tailLines !== undefined) first = o.tailLines === 0 ? [] : first.slice(-o.tailLines);
      emit(first);
      while (o.follow && !done && !signal.aborted) {
        await Bun.sleep(250);
        emit(readMore());
        // Rotation: the path now names a new file; finish the old one and continue with the new.
        if (existsSync(path)) {
          const st = statSync(path);
          if (st.ino !== ino) {
            emit(readMore());
            closeSync(fd);
            fd = openSync(path, "r");
            ino = st.ino;
            pos = 0;
            continue;
          }
        }
        if (!stillRunning()) {
          await Bun.sleep(300); // the last lines may still be on their way through the FIFO
          emit(readMore());
          break;
        }
      }
      closeSync(fd);
      try {
        ctrl.close();
      } catch {}
    },
  });
}
