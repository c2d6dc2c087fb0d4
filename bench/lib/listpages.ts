// A LIST as kubectl pages it: whole (limit 0) or in pages of `limit`, following continue tokens to the end.
// Two times per list: until the last byte of every page has arrived (the figure: what the server delivers, as an
// outside load generator sees it), and decoding the pages in this client (JSON.parse of ~23 MB costs Bun about as
// much as the server's whole answer, and a Go or Python client's decoder costs something else again). Every page
// is decoded, after its last byte and outside the receive time, for its continue token and the item count.

export interface Listed {
  items: number;
  bytes: number;
  /** Request sent → last byte received, summed over the pages. */
  receiveMs: number;
  /** JSON.parse of the pages in this client, summed. */
  decodeMs: number;
}

export async function listAllPages(api: (path: string) => Promise<Response>, path: string, limit: number): Promise<Listed> {
  const out: Listed = { items: 0, bytes: 0, receiveMs: 0, decodeMs: 0 };
  let cont = "";
  do {
    const q = new URLSearchParams();
    if (limit) q.set("limit", String(limit));
    if (cont) q.set("continue", cont);
    const t0 = performance.now();
    const res = await api(`${path}${q.size ? "?" + q : ""}`);
    // Chunks as they come, joined only after the clock stops: Response.text() would copy and convert in the timing.
    const chunks: Uint8Array[] = [];
    for await (const c of res.body!) chunks.push(c);
    const t1 = performance.now();
    const text = Buffer.concat(chunks).toString("utf8");
    if (res.status !== 200) throw new Error(`list ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text);
    out.decodeMs += performance.now() - t1;
    out.receiveMs += t1 - t0;
    out.bytes += text.length;
    out.items += body.items.length;
    cont = body.metadata.continue ?? "";
  } while (cont);
  return out;
}

/** `runs` lists one after another: items and bytes of the last, and each run's receive and decode times. */
export async function listRuns(api: (path: string) => Promise<Response>, path: string, limit: number, runs: number): Promise<{ items: number; bytes: number; receiveMs: number[]; decodeMs: number[] }> {
  const out = { items: 0, bytes: 0, receiveMs: [] as number[], decodeMs: [] as number[] };
  for (let run = 0; run < runs; run++) {
    const listed = await listAllPages(api, path, limit);
    out.items = listed.items;
    out.bytes = listed.bytes;
    out.receiveMs.push(listed.receiveMs);
    out.decodeMs.push(listed.decodeMs);
  }
  return out;
}
