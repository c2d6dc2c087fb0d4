// The namespace filter: every namespace the token may list, or a typed name when listing is forbidden.
import { KINDS, listPath } from "../api.ts";
import { html } from "../html.ts";
import { useWatch } from "../watch.ts";

export function NamespaceSelect({ ns, onChange }: { ns: string; onChange: (ns: string) => void }) {
  const all = useWatch(listPath(KINDS.namespaces!, ""));
  if (all.status === "error")
    return html`<input name="namespace" aria-label="Namespace" placeholder="namespace" value=${ns} onChange=${(e: any) => onChange(e.target.value.trim())} />`;
  const names = all.items.map((n: any) => n.metadata.name).sort();
  if (ns && !names.includes(ns)) names.push(ns);
  return html`<select name="namespace" aria-label="Namespace" value=${ns} onChange=${(e: any) => onChange(e.target.value)}>
    <option value="">All namespaces</option>
    ${names.map((n: string) => html`<option value=${n}>${n}</option>`)}
  </select>`;
}
