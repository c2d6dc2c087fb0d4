// Fleet: every node as a tile, grouped by a label (topology.kubernetes.io/zone unless the user picks another):
// Ready / NotReady / offline and for how long, heartbeat age (its Lease), pods, kubelet version, taints,
// CPU and memory from metrics.k8s.io when the API serves it. Offline and pressure stand out.
import { useEffect, useState } from "preact/hooks";
import { ApiError, getJSON, KINDS, listPath } from "../api.ts";
import { age, bytes, condition, cores, quantity } from "../format.ts";
import { html } from "../html.ts";
import { useTick, useWatch } from "../watch.ts";
import { Live, WatchErrors, yamlHref } from "./common.ts";

const PRESSURES = ["MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"];
const GROUP_KEY = "kubun.dashboard.groupBy";

/** metrics.k8s.io node usage; it has no watch, so it is read every 15 s (undefined while unavailable). */
function useNodeMetrics(): { usage?: Map<string, { cpu: number; memory: number }>; note?: string } {
  const [state, setState] = useState<{ usage?: Map<string, { cpu: number; memory: number }>; note?: string }>({});
  useEffect(() => {
    let stop = false;
    let timer: any;
    const load = async () => {
      try {
        const list = await getJSON("/apis/metrics.k8s.io/v1beta1/nodes");
        const m = new Map<string, { cpu: number; memory: number }>();
        for (const it of list.items ?? []) m.set(it.metadata.name, { cpu: quantity(it.usage?.cpu), memory: quantity(it.usage?.memory) });
        if (!stop) setState({ usage: m });
      } catch (e) {
        const why = e instanceof ApiError && e.code === 404 ? "metrics.k8s.io is not served" : e instanceof ApiError && e.code === 403 ? "no permission to read node metrics" : "node metrics unavailable";
        if (!stop) setState({ note: why });
      }
      if (!stop) timer = setTimeout(load, 15000);
    };
    void load();
    return () => ((stop = true), clearTimeout(timer));
  }, []);
  return state;
}

export function nodeState(n: any): { state: "ready" | "notready" | "offline"; since?: string } {
  const ready = condition(n, "Ready");
  if (!ready || ready.status === "Unknown") return { state: "offline", since: ready?.lastTransitionTime };
  if (ready.status === "False") return { state: "notready", since: ready.lastTransitionTime };
  return { state: "ready", since: ready.lastTransitionTime };
}

function Tile({ n, lease, pods, usage, now }: { n: any; lease: any; pods: number; usage?: { cpu: number; memory: number }; now: number }) {
  const heartbeat = lease?.spec?.renewTime ?? condition(n, "Ready")?.lastHeartbeatTime;
  const { state, since } = nodeState(n);
  const pressures = PRESSURES.filter((p) => condition(n, p)?.status === "True");
  const alloc = n.status?.allocatable ?? {};
  const cpuAlloc = quantity(alloc.cpu);
  const memAlloc = quantity(alloc.memory);
  const label = { ready: "Ready", notready: "NotReady", offline: "Offline" }[state];
  // Ready but silent for longer than its Lease: the node lifecycle controller has not caught up (or is not running).
  const late = state === "ready" && !!lease?.spec?.renewTime && now - Date.parse(lease.spec.renewTime) > (lease.spec.leaseDurationSeconds ?? 40) * 1000;
  const cls = state === "ready" ? (pressures.length || late ? "pressure" : "") : state;
  const bar = (v: number, of: number) => html`<div class="bar"><span style=${{ width: `${Math.min(100, Math.round((v / of) * 100)) || 0}%` }}></span></div>`;
  return html`<div class=${`tile ${cls}`} data-node=${n.metadata.name} data-state=${state}>
    <h3><a href=${yamlHref("nodes", n)}>${n.metadata.name}</a><span class=${`badge ${state === "ready" ? "ok" : "bad"}`} data-testid="node-state">${label}</span></h3>
    <div class="row"><span class="muted">${state === "ready" ? "ready for" : state === "offline" ? "offline for" : "not ready for"}</span><span>${age(since, now)}</span></div>
    <div class="row"><span class="muted">heartbeat</span><span data-testid="heartbeat">${heartbeat ? `${age(heartbeat, now)} ago` : "never"}</span></div>
    <div class="row"><span class="muted">pods</span><span data-testid="pods">${pods}${alloc.pods ? ` / ${alloc.pods}` : ""}</span></div>
    <div class="row"><span class="muted">kubelet</span><span>${n.status?.nodeInfo?.kubeletVersion ?? "-"}</span></div>
    ${usage &&
    html`<div class="row"><span class="muted">CPU</span><span>${cores(usage.cpu)} / ${cores(cpuAlloc)}</span></div>${bar(usage.cpu, cpuAlloc)}
      <div class="row"><span class="muted">memory</span><span>${bytes(usage.memory)} / ${bytes(memAlloc)}</span></div>${bar(usage.memory, memAlloc)}`}
    <div>
      ${late && html`<span class="badge warn" data-testid="heartbeat-late">heartbeat late</span>`}
      ${n.spec?.unschedulable && html`<span class="badge warn">cordoned</span>`}
      ${pressures.map((p) => html`<span class="badge warn" data-testid="pressure">${p}</span>`)}
      ${(n.spec?.taints ?? []).map((t: any) => html`<span class="badge" title="taint">${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}</span>`)}
    </div>
  </div>`;
}

export function Fleet({ ns }: { ns: string }) {
  const nodes = useWatch(listPath(KINDS.nodes!, ""));
  const leases = useWatch(listPath(KINDS.leases!, "kube-node-lease"));
  const pods = useWatch(listPath(KINDS.pods!, ns));
  const metrics = useNodeMetrics();
  const [groupBy, setGroupBy] = useState(localStorage.getItem(GROUP_KEY) ?? "topology.kubernetes.io/zone");
  useTick(5000);
  const now = Date.now();
  const leaseOf = new Map(leases.items.map((l: any) => [l.metadata.name, l]));
  const podsOn = new Map<string, number>();
  for (const p of pods.items) if (p.spec?.nodeName && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed") podsOn.set(p.spec.nodeName, (podsOn.get(p.spec.nodeName) ?? 0) + 1);
  const keys = [...new Set(nodes.items.flatMap((n: any) => Object.keys(n.metadata?.labels ?? {})))].sort();
  if (groupBy && !keys.includes(groupBy)) keys.unshift(groupBy);
  const groups = new Map<string, any[]>();
  for (const n of [...nodes.items].sort((a: any, b: any) => a.metadata.name.localeCompare(b.metadata.name, undefined, { numeric: true }))) {
    const g = groupBy ? (n.metadata?.labels?.[groupBy] ?? `(no ${groupBy})`) : "all nodes";
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(n);
  }
  const counts = { ready: 0, notready: 0, offline: 0 };
  for (const n of nodes.items) counts[nodeState(n).state]++;
  const pick = (e: any) => (localStorage.setItem(GROUP_KEY, e.target.value), setGroupBy(e.target.value));
  return html`<div>
    <div class="toolbar">
      <strong>${nodes.items.length} nodes</strong>
      <span class="badge ok">${counts.ready} ready</span>
      ${counts.notready > 0 && html`<span class="badge bad">${counts.notready} not ready</span>`}
      ${counts.offline > 0 && html`<span class="badge bad" data-testid="offline-count">${counts.offline} offline</span>`}
      <label>group by <select name="groupBy" value=${groupBy} onChange=${pick}>
        <option value="">(none)</option>
        ${keys.map((k) => html`<option value=${k}>${k}</option>`)}
      </select></label>
      ${metrics.note && html`<span class="muted" data-testid="metrics-note">${metrics.note}</span>`}
      <span class="spacer"></span><${Live} states=${[nodes, leases, pods]} />
    </div>
    <${WatchErrors} states=${[nodes, leases, pods]} />
    ${[...groups].map(
      ([g, ns2]) => html`<section data-group=${g}><h2>${g} <span class="muted">(${ns2.length})</span></h2>
        <div class="tiles">${ns2.map((n) => html`<${Tile} key=${n.metadata.name} n=${n} lease=${leaseOf.get(n.metadata.name)} pods=${podsOn.get(n.metadata.name) ?? 0} usage=${metrics.usage?.get(n.metadata.name)} now=${now} />`)}</div>
      </section>`,
    )}
  </div>`;
}
