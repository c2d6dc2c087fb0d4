// YAML of any object, edited through server-side apply (fieldManager kubun-dashboard, force): the API's
// error (validation, conflict, RBAC) is shown inline, the edit stays in the box to be fixed.
import { useEffect, useState } from "preact/hooks";
import { parse, stringify } from "yaml";
import { applyYAML, getJSON, KINDS, objectPath } from "../api.ts";
import { html } from "../html.ts";

/** What the editor shows: the object without managedFields (apply refuses them) and without status on apply. */
function forEditing(o: any): string {
  const c = structuredClone(o);
  if (c.metadata) delete c.metadata.managedFields;
  return stringify(c, { lineWidth: 0 });
}

export function YamlView({ kind, ns, name }: { kind: string; ns: string; name: string }) {
  const kd = KINDS[kind];
  const path = kd && objectPath(kd, ns || undefined, name);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const load = async () => {
    if (!path) return;
    setError("");
    try {
      setText(forEditing(await getJSON(path)));
    } catch (e: any) {
      setError(e?.message ?? String(e));
    }
  };
  useEffect(() => {
    setNote("");
    void load();
  }, [path]);
  if (!kd) return html`<div class="alert" role="alert">unknown kind ${kind}</div>`;
  const apply = async () => {
    setBusy(true);
    setError("");
    setNote("");
    try {
      const doc = parse(text);
      if (!doc || typeof doc !== "object") throw new Error("the YAML is not an object");
      delete doc.status; // the status belongs to the controllers; applying it would only make this manager own it
      // Like kubectl apply of a file: no resourceVersion (the controllers update status all the time, which would
      // turn every edit into a conflict); force takes the edited fields over from their previous managers.
      if (doc.metadata) delete doc.metadata.managedFields, delete doc.metadata.resourceVersion;
      const saved = await applyYAML(path!, stringify(doc));
      setText(forEditing(saved));
      setNote(`applied: resourceVersion ${saved?.metadata?.resourceVersion}`);
    } catch (e: any) {
      setError(e?.message ?? String(e));
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="panel">
    <div class="toolbar">
      <strong>${kd.kind} ${ns ? `${ns}/` : ""}${name}</strong>
      <span class="spacer"></span>
      <button type="button" onClick=${load}>Reload</button>
      <button type="button" class="primary" data-action="apply" disabled=${busy} onClick=${apply}>Apply</button>
      <button type="button" onClick=${() => history.back()}>Back</button>
    </div>
    ${error && html`<div class="alert" role="alert" data-testid="yaml-error">${error}</div>`}
    ${note && html`<div class="note" data-testid="yaml-note">${note}</div>`}
    <textarea class="yaml" name="yaml" spellcheck="false" aria-label="YAML" value=${text} onInput=${(e: any) => setText(e.target.value)}></textarea>
  </div>`;
}
