// Small pieces every view shares: the live/reconnecting marker, the error banner, YAML links, actions.
import { useState } from "preact/hooks";
import { html } from "../html.ts";
import type { WatchState } from "../watch.ts";

export function Live({ states }: { states: WatchState<any>[] }) {
  const worst = states.find((s) => s.status === "error") ?? states.find((s) => s.status === "reconnecting") ?? states.find((s) => s.status === "loading") ?? states[0];
  const label = { live: "● live", loading: "loading…", reconnecting: "reconnecting…", error: "error" }[worst?.status ?? "loading"];
  return html`<span class=${`status-${worst?.status}`} data-status=${worst?.status}>${label}</span>`;
}

export function WatchErrors({ states }: { states: WatchState<any>[] }) {
  const errs = [...new Set(states.filter((s) => s.status === "error" && s.error).map((s) => s.error))];
  return errs.length ? html`<div class="alert" role="alert">${errs.join("\n")}</div>` : null;
}

export function yamlHref(kind: string, o: any): string {
  return `#/yaml/${kind}/${encodeURIComponent(o.metadata?.namespace || "_")}/${encodeURIComponent(o.metadata?.name)}`;
}

export const YamlLink = ({ kind, o }: { kind: string; o: any }) => html`<a href=${yamlHref(kind, o)}>YAML</a>`;

/** Runs an API action; its error (the API's Status message) is shown by <ActionError>. */
export function useAction(): { error: string; note: string; run: (label: string, f: () => Promise<unknown>) => Promise<void>; clear: () => void } {
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  return {
    error,
    note,
    clear: () => (setError(""), setNote("")),
    run: async (label, f) => {
      setError("");
      setNote("");
      try {
        await f();
        setNote(`${label}: done`);
      } catch (e: any) {
        setError(`${label}: ${e?.message ?? String(e)}`);
      }
    },
  };
}

export function ActionResult({ a }: { a: ReturnType<typeof useAction> }) {
  if (a.error) return html`<div class="alert" role="alert" data-testid="action-error">${a.error} <button type="button" onClick=${a.clear}>×</button></div>`;
  if (a.note) return html`<div class="note" data-testid="action-note">${a.note}</div>`;
  return null;
}

export function Conditions({ o, bad = [] as string[] }: { o: any; bad?: string[] }) {
  return (o.status?.conditions ?? []).map((c: any) => {
    const cls = c.status === "True" ? (bad.includes(c.type) ? "bad" : "ok") : bad.includes(c.type) ? "ok" : "warn";
    return html`<span class=${`badge ${cls}`} title=${c.message ?? ""}>${c.type}${c.status === "True" ? "" : "=" + c.status}</span>`;
  });
}
