// Pods: phase, ready, restarts, node, age, last termination reason; live logs (follow, container, previous); delete.
import { useEffect, useRef, useState } from "preact/hooks";
import { KINDS, listPath, objectPath, remove, request } from "../api.ts";
import { age, byName, lastTermination, podReady, podStatus, restarts } from "../format.ts";
import { html } from "../html.ts";
import { textChunks, useTick, useWatch } from "../watch.ts";
import { ActionResult, Live, useAction, WatchErrors, YamlLink } from "./common.ts";

const MAX_LOG_CHARS = 512 * 1024; // keep the page light on a phone: older lines fall off the top

function Logs({ ns, name, pod }: { ns: string; name: string; pod: any }) {
  const containers: string[] = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].map((c: any) => c.name);
  const [container, setContainer] = useState("");
  const [follow, setFollow] = useState(true);
  const [previous, setPrevious] = useState(false);
  const [text, setText] = useState("");
  const [state, setState] = useState("");
  const pre = useRef<HTMLPreElement>(null);
  const chosen = container || pod?.spec?.containers?.[0]?.name || "";
  useEffect(() => {
    if (!chosen) return;
    const ac = new AbortController();
    setText("");
    setState("connecting…");
    void (async () => {
      const q = new URLSearchParams({ container: chosen, tailLines: "1000" });
      if (follow && !previous) q.set("follow", "true");
      if (previous) q.set("previous", "true");
      try {
        const res = await request(`${objectPath(KINDS.pods!, ns, name)}/log?${q}`, { signal: ac.signal, headers: { Accept: "*/*" } });
        setState(follow && !previous ? "following" : "");
        let buf = "";
        for await (const chunk of textChunks(res)) {
          buf += chunk;
          if (buf.length > MAX_LOG_CHARS) buf = buf.slice(buf.length - MAX_LOG_CHARS);
          setText(buf);
        }
        setState(follow && !previous ? "stream ended" : "");
      } catch (e: any) {
        if (!ac.signal.aborted) setState(`error: ${e?.message ?? e}`);
      }
    })();
    return () => ac.abort();
  }, [ns, name, chosen, follow, previous]);
  useEffect(() => {
    const el = pre.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [text]);
  return html`<div class="panel" data-testid="logs">
    <div class="toolbar">
      <strong>Logs of ${ns}/${name}</strong>
      <select name="container" aria-label="container" value=${chosen} onChange=${(e: any) => setContainer(e.target.value)}>
        ${containers.map((c) => html`<option value=${c}>${c}</option>`)}
      </select>
      <label><input type="checkbox" name="follow" checked=${follow} onChange=${(e: any) => setFollow(e.target.checked)} /> follow</label>
      <label><input type="checkbox" name="previous" checked=${previous} onChange=${(e: any) => setPrevious(e.target.checked)} /> previous</label>
      <span class=${state.startsWith("error") ? "status-error" : "muted"} data-testid="log-state">${state}</span>
      <span class="spacer"></span><a href="#/pods">close</a>
    </div>
    <pre class="log" ref=${pre} data-testid="log-text">${text}</pre>
  </div>`;
}

export function Pods({ ns, logs }: { ns: string; logs?: string[] }) {
  const pods = useWatch(listPath(KINDS.pods!, ns));
  const act = useAction();
  const [filter, setFilter] = useState("");
  useTick(5000);
  const shown = pods.items
    .filter((p: any) => !filter || `${p.metadata.namespace}/${p.metadata.name} ${p.spec?.nodeName ?? ""} ${podStatus(p)}`.includes(filter))
    .sort(byName);
  const logPod = logs && pods.items.find((p: any) => p.metadata.namespace === logs[0] && p.metadata.name === logs[1]);
  const del = (p: any) => {
    if (!confirm(`Delete pod ${p.metadata.namespace}/${p.metadata.name}?`)) return;
    void act.run(`delete ${p.metadata.name}`, () => remove(objectPath(KINDS.pods!, p.metadata.namespace, p.metadata.name)));
  };
  return html`<div>
    ${logs && logs[1] && html`<${Logs} key=${logs.join("/")} ns=${logs[0]} name=${logs[1]} pod=${logPod} />`}
    <div class="toolbar">
      <strong>${shown.length} pods</strong>
      <input type="search" name="filter" placeholder="filter (name, node, status)" value=${filter} onInput=${(e: any) => setFilter(e.target.value)} />
      <span class="spacer"></span><${Live} states=${[pods]} />
    </div>
    <${ActionResult} a=${act} />
    <${WatchErrors} states=${[pods]} />
    <div class="tablewrap"><table>
      <thead><tr><th class="ns-col">namespace</th><th>name</th><th>ready</th><th>status</th><th>restarts</th><th>node</th><th>age</th><th>last termination</th><th>actions</th></tr></thead>
      <tbody>${shown.map((p: any) => {
        const [r, t] = podReady(p);
        const st = podStatus(p);
        const bad = /BackOff|Error|Failed|OOMKilled|ErrImage|Unknown/.test(st);
        return html`<tr key=${p.metadata.uid} data-pod=${p.metadata.name}>
          <td class="ns-col">${p.metadata.namespace}</td>
          <td>${p.metadata.name}</td>
          <td>${r}/${t}</td>
          <td><span class=${`badge ${bad ? "bad" : st === "Running" || st === "Completed" ? "ok" : "warn"}`} data-testid="pod-status">${st}</span></td>
          <td>${restarts(p)}</td>
          <td>${p.spec?.nodeName ?? "-"}</td>
          <td>${age(p.metadata.creationTimestamp)}</td>
          <td>${lastTermination(p)}</td>
          <td>
            <a href=${`#/pods/logs/${encodeURIComponent(p.metadata.namespace)}/${encodeURIComponent(p.metadata.name)}`} data-action="logs">Logs</a>
            ${" "}<${YamlLink} kind="pods" o=${p} />
            ${" "}<button type="button" class="danger" data-action="delete" onClick=${() => del(p)}>Delete</button>
          </td>
        </tr>`;
      })}</tbody>
    </table></div>
  </div>`;
}
