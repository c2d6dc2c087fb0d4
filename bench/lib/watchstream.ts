// A watch response read as upstream's JSON stream: one event object per line, handed over with the time its chunk
// arrived (the benches measure delivery delays from it). Returns when the server ends the stream; an abort or a
// broken connection rejects, and each caller decides whether that was expected.
export interface WatchEvent<T = any> {
  type: string;
  object: T;
}

export async function readWatchEvents<T = any>(res: Response, onEvent: (ev: WatchEvent<T>, at: number) => void): Promise<void> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const at = performance.now();
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) onEvent(JSON.parse(line) as WatchEvent<T>, at);
    }
  }
}
