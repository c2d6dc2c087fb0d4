// Workloads: Deployments, StatefulSets, DaemonSets, Jobs and CronJobs with ready counts, images and
// conditions, and kubectl's everyday fixes: scale, rollout restart, pause/resume (suspend for CronJobs), undo.
import { useState } from "preact/hooks";
import { getJSON, KINDS, listPath, objectPath, patch } from "../api.ts";
import { age, byName, images } from "../format.ts";
import { html } from "../html.ts";
import { useTick, useWatch } from "../watch.ts";
import { ActionResult, Conditions, Live, useAction, WatchErrors, YamlLink } from "./common.ts";

type Action = ReturnType<typeof useAction>;

/** kubectl rollout restart: a new template annotation makes the controller roll every pod. */
const restart = (kind: string, o: any) =>
  patch(objectPath(KINDS[kind]!, o.metadata.namespace, o.metadata.name), {
    spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } } } },
  });

const scale = (kind: string, o: any, replicas: number) =>
  patch(objectPath(KINDS[kind]!, o.metadata.namespace, o.metadata.name) + "/scale", { spec: { replicas } });

/** kubectl rollout undo: the template of the ReplicaSet with the previous revision goes back into the Deployment. */
async function undo(d: any): Promise<void> {
  const ns = d.metadata.namespace;
  const sel = Object.entries(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const list = await getJSON(`${listPath(KINDS.replicasets!, ns)}?labelSelector=${encodeURIComponent(sel)}`);
  const rev = (o: any) => Number(o.metadata?.annotations?.["deployment.kubernetes.io/revision"] ?? 0);
  const current = rev(d);
  const owned = (list.items ?? []).filter((rs: any) => (rs.metadata?.ownerReferences ?? []).some((r: any) => r.uid === d.metadata.uid));
  const previous = owned.filter((rs: any) => rev(rs) > 0 && rev(rs) < current).sort((a: any, b: any) => rev(b) - rev(a))[0];
  if (!previous) throw new Error(`no rollout history found for deployment "${d.metadata.name}" (no earlier revision)`);
  const template = structuredClone(previous.spec.template);
  delete template.metadata?.labels?.["pod-template-hash"];
  await patch(objectPath(KINDS.deployments!, ns, d.metadata.name), [{ op: "replace", path: "/spec/template", value: template }], "application/json-patch+json");
}

function ScaleControl({ kind, o, act }: { kind: string; o: any; act: Action }) {
  const [n, setN] = useState<string>(String(o.spec?.replicas ?? 1));
  return html`<span class="scale">
    <input type="number" min="0" name="replicas" aria-label="replicas" style=${{ width: "4.5em" }} value=${n} onInput=${(e: any) => setN(e.target.value)} />
    <button type="button" data-action="scale" onClick=${() => act.run(`scale ${o.metadata.name}`, () => scale(kind, o, Number(n)))}>Scale</button>
  </span>`;
}

function Row({ kind, o, act }: { kind: string; o: any; act: Action }) {
  const s = o.status ?? {};
  const name = o.metadata.name;
  const ns = o.metadata.namespace;
  let ready = "";
  if (kind === "deployments" || kind === "statefulsets") ready = `${s.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`;
  else if (kind === "daemonsets") ready = `${s.numberReady ?? 0}/${s.desiredNumberScheduled ?? 0}`;
  else if (kind === "jobs") ready = `${s.succeeded ?? 0}/${o.spec?.completions ?? 1}${s.failed ? ` (${s.failed} failed)` : ""}`;
  else if (kind === "cronjobs") ready = `${(s.active ?? []).length} active, last ${s.lastScheduleTime ? age(s.lastScheduleTime) + " ago" : "never"}`;
  const spec = kind === "cronjobs" ? o.spec?.jobTemplate?.spec?.template?.spec : o.spec?.template?.spec;
  const paused = kind === "cronjobs" ? !!o.spec?.suspend : !!o.spec?.paused;
  const togglePause = () =>
    act.run(`${paused ? "resume" : "pause"} ${name}`, () => patch(objectPath(KINDS.deployments!, ns, name), { spec: { paused: !paused } }));
  const toggleSuspend = () =>
    act.run(`${paused ? "resume" : "suspend"} ${name}`, () => patch(objectPath(KINDS.cronjobs!, ns, name), { spec: { suspend: !paused } }));
  return html`<tr data-kind=${kind} data-name=${name}>
    <td class="ns-col">${ns}</td>
    <td><strong>${name}</strong>${paused && html` <span class="badge warn">${kind === "cronjobs" ? "suspended" : "paused"}</span>`}</td>
    <td data-testid="ready">${ready}</td>
    <td class="wrap">${images(spec)}</td>
    <td class="wrap"><${Conditions} o=${o} bad=${["ReplicaFailure", "Failed"]} /></td>
    <td>${age(o.metadata.creationTimestamp)}</td>
    <td>
      ${(kind === "deployments" || kind === "statefulsets") && html`<${ScaleControl} kind=${kind} o=${o} act=${act} />`}
      ${kind !== "jobs" && kind !== "cronjobs" && html` <button type="button" data-action="restart" onClick=${() => act.run(`restart ${name}`, () => restart(kind, o))}>Restart</button>`}
      ${kind === "deployments" &&
      html` <button type="button" data-action="pause" onClick=${togglePause}>${paused ? "Resume" : "Pause"}</button>
        <button type="button" data-action="undo" onClick=${() => act.run(`undo ${name}`, () => undo(o))}>Undo</button>`}
      ${kind === "cronjobs" && html` <button type="button" data-action="suspend" onClick=${toggleSuspend}>${paused ? "Resume" : "Suspend"}</button>`}
      ${" "}<${YamlLink} kind=${kind} o=${o} />
    </td>
  </tr>`;
}

const SECTIONS: [string, string][] = [
  ["deployments", "Deployments"],
  ["statefulsets", "StatefulSets"],
  ["daemonsets", "DaemonSets"],
  ["jobs", "Jobs"],
  ["cronjobs", "CronJobs"],
];

export function Workloads({ ns, kind }: { ns: string; kind?: string }) {
  const act = useAction();
  // One kind at a time: browsers allow 6 HTTP/1.1 connections per server, and every live list holds one.
  const current = SECTIONS.some(([k]) => k === kind) ? kind! : "deployments";
  const state = useWatch(listPath(KINDS[current]!, ns));
  useTick(10000);
  const items = [...state.items].sort(byName);
  return html`<div>
    <div class="toolbar">
      <nav class="tabs">${SECTIONS.map(([k, title]) => html`<a href=${`#/workloads/${k}`} class=${k === current ? "on" : ""} data-tab=${k}>${title}</a>`)}</nav>
      <span class="spacer"></span><${Live} states=${[state]} />
    </div>
    <${ActionResult} a=${act} />
    <${WatchErrors} states=${[state]} />
    <section data-section=${current}>
      ${items.length === 0
        ? html`<p class="muted">no ${current}${ns ? ` in ${ns}` : ""}</p>`
        : html`<div class="tablewrap"><table>
            <thead><tr><th class="ns-col">namespace</th><th>name</th><th>ready</th><th>images</th><th>conditions</th><th>age</th><th>actions</th></tr></thead>
            <tbody>${items.map((o: any) => html`<${Row} key=${o.metadata.uid} kind=${current} o=${o} act=${act} />`)}</tbody>
          </table></div>`}
    </section>
  </div>`;
}
