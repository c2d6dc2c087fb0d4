// A LIST as kubectl pages it: whole (limit 0) or in pages of `limit`, following continue tokens to the end.
/** The number of items listed and the bytes of the responses. */
export async function listAllPages(api: (path: string) => Promise<Response>, path: string, limit: number): Promise<{ items: number; bytes: number }> {
  let items = 0;
  let bytes = 0;
  let cont = "";
  do {
    const q = new URLSearchParams();
    if (limit) q.set("limit", String(limit));
    if (cont) q.set("continue", cont);
    const res = await api(`${path}${q.size ? "?" + q : ""}`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`list ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text);
    bytes += text.length;
    items += body.items.length;
    cont = body.metadata.continue ?? "";
  } while (cont);
  return { items, bytes };
}
