// Events: a live stream (watch) with filters on type, reason, object and message; newest first.
import { useState } from "preact/hooks";
import { KINDS, kindKeyOf, listPath } from "../api.ts";
import { age } from "../format.ts";
import { html } from "../html.ts";
import { useTick, useWatch } from "../watch.ts";
import { Live, WatchErrors } from "./common.ts";

const SHOWN = 500;
const when = (e: any) => e.lastTimestamp ?? e.eventTime ?? e.series?.lastObservedTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;

export function Events({ ns }: { ns: string }) {
  const events = useWatch(listPath(KINDS.events!, ns));
  const [type, setType] = useState("");
  const [text, setText] = useState("");
  useTick(5000);
  const needle = text.toLowerCase();
  const shown = events.items
    .filter((e: any) => !type || e.type === type)
    .filter((e: any) => !needle || `${e.reason} ${e.involvedObject?.kind}/${e.involvedObject?.name} ${e.message} ${e.source?.component ?? e.reportingComponent ?? ""}`.toLowerCase().includes(needle))
    .sort((a: any, b: any) => String(when(b) ?? "").localeCompare(String(when(a) ?? "")));
  return html`<div>
    <div class="toolbar">
      <strong>${shown.length} events</strong>
      <select name="type" aria-label="type" value=${type} onChange=${(e: any) => setType(e.target.value)}>
        <option value="">all types</option><option value="Normal">Normal</option><option value="Warning">Warning</option>
      </select>
      <input type="search" name="filter" placeholder="filter (reason, object, message)" value=${text} onInput=${(e: any) => setText(e.target.value)} />
      <span class="spacer"></span><${Live} states=${[events]} />
    </div>
    <${WatchErrors} states=${[events]} />
    <div class="tablewrap"><table>
      <thead><tr><th>last seen</th><th>type</th><th>reason</th><th>object</th><th>message</th><th>count</th><th>source</th></tr></thead>
      <tbody>${shown.slice(0, SHOWN).map((e: any) => {
        const o = e.involvedObject ?? {};
        const key = kindKeyOf(o.apiVersion, o.kind);
        const ref = `${(o.kind ?? "").toLowerCase()}/${o.name ?? ""}`;
        const href = key && `#/yaml/${key}/${encodeURIComponent(o.namespace || "_")}/${encodeURIComponent(o.name)}`;
        return html`<tr key=${e.metadata.uid} data-reason=${e.reason}>
          <td>${age(when(e))}</td>
          <td><span class=${`badge ${e.type === "Warning" ? "warn" : ""}`}>${e.type}</span></td>
          <td>${e.reason}</td>
          <td>${o.namespace ? `${o.namespace}/` : ""}${href ? html`<a href=${href}>${ref}</a>` : ref}</td>
          <td class="wrap">${e.message}</td>
          <td>${e.count ?? e.series?.count ?? 1}</td>
          <td>${e.source?.component ?? e.reportingComponent ?? ""}</td>
        </tr>`;
      })}</tbody>
    </table></div>
    ${shown.length > SHOWN && html`<p class="muted">showing the newest ${SHOWN}; narrow the filter to see others</p>`}
  </div>`;
}
