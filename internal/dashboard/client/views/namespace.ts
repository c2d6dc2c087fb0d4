// The namespace filter: every namespace the token may list, or a typed name when listing is forbidden.
// Read on load and whenever the picker gets focus, not watched: a watch would hold one of the browser's six
// connections to the server for a list that rarely changes.
import { useEffect, useState } from "preact/hooks";
import { getJSON, KINDS, listPath } from "../api.ts";
import { html } from "../html.ts";

export function NamespaceSelect({ ns, onChange }: { ns: string; onChange: (ns: string) => void }) {
  const [names, setNames] = useState<string[] | null>([]);
  const load = async () => {
    try {
      const list = await getJSON(listPath(KINDS.namespaces!, ""));
      setNames((list.items ?? []).map((n: any) => n.metadata.name).sort());
    } catch {
      setNames(null); // forbidden (a namespaced token): type the name instead
    }
  };
  useEffect(() => void load(), []);
  if (names === null)
    return html`<input name="namespace" aria-label="Namespace" placeholder="namespace" value=${ns} onChange=${(e: any) => onChange(e.target.value.trim())} />`;
  const shown = ns && !names.includes(ns) ? [...names, ns] : names;
  return html`<select name="namespace" aria-label="Namespace" value=${ns} onFocus=${load} onChange=${(e: any) => onChange(e.target.value)}>
    <option value="">All namespaces</option>
    ${shown.map((n: string) => html`<option value=${n}>${n}</option>`)}
  </select>`;
}
