// Services and Ingresses: how traffic reaches the workloads.
import { KINDS, listPath } from "../api.ts";
import { age, byName } from "../format.ts";
import { html } from "../html.ts";
import { useWatch } from "../watch.ts";
import { Live, WatchErrors, YamlLink } from "./common.ts";

const ports = (s: any) =>
  (s.spec?.ports ?? []).map((p: any) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}${p.name ? ` (${p.name})` : ""}`).join(", ");
const selector = (s: any) =>
  Object.entries(s.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
const external = (s: any) =>
  [...(s.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip ?? i.hostname), ...(s.spec?.externalIPs ?? [])].join(", ") || (s.spec?.type === "ExternalName" ? s.spec.externalName : "-");

function backend(b: any): string {
  if (b?.service) return `${b.service.name}:${b.service.port?.number ?? b.service.port?.name ?? ""}`;
  if (b?.resource) return `${b.resource.kind}/${b.resource.name}`;
  return "-";
}

export function Network({ ns }: { ns: string }) {
  const services = useWatch(listPath(KINDS.services!, ns));
  const ingresses = useWatch(listPath(KINDS.ingresses!, ns));
  return html`<div>
    <div class="toolbar"><strong>Services and Ingresses</strong><span class="spacer"></span><${Live} states=${[services, ingresses]} /></div>
    <${WatchErrors} states=${[services, ingresses]} />
    <h2>Services <span class="muted">(${services.items.length})</span></h2>
    <div class="tablewrap"><table>
      <thead><tr><th>namespace</th><th>name</th><th>type</th><th>cluster IP</th><th>external</th><th>ports</th><th>selector</th><th>age</th><th></th></tr></thead>
      <tbody>${[...services.items].sort(byName).map(
        (s: any) => html`<tr key=${s.metadata.uid} data-service=${s.metadata.name}>
          <td>${s.metadata.namespace}</td><td>${s.metadata.name}</td><td>${s.spec?.type}</td><td>${s.spec?.clusterIP}</td>
          <td>${external(s)}</td><td>${ports(s)}</td><td>${selector(s)}</td><td>${age(s.metadata.creationTimestamp)}</td>
          <td><${YamlLink} kind="services" o=${s} /></td>
        </tr>`,
      )}</tbody>
    </table></div>
    <h2>Ingresses <span class="muted">(${ingresses.items.length})</span></h2>
    <div class="tablewrap"><table>
      <thead><tr><th>namespace</th><th>name</th><th>class</th><th>rules</th><th>address</th><th>age</th><th></th></tr></thead>
      <tbody>${[...ingresses.items].sort(byName).map((i: any) => {
        const rules = (i.spec?.rules ?? []).flatMap((r: any) => (r.http?.paths ?? []).map((p: any) => `${r.host ?? "*"}${p.path ?? "/"} → ${backend(p.backend)}`));
        if (i.spec?.defaultBackend) rules.push(`default → ${backend(i.spec.defaultBackend)}`);
        return html`<tr key=${i.metadata.uid} data-ingress=${i.metadata.name}>
          <td>${i.metadata.namespace}</td><td>${i.metadata.name}</td><td>${i.spec?.ingressClassName ?? "-"}</td>
          <td class="wrap">${rules.map((r: string) => html`<div>${r}</div>`)}</td>
          <td>${(i.status?.loadBalancer?.ingress ?? []).map((x: any) => x.ip ?? x.hostname).join(", ") || "-"}</td>
          <td>${age(i.metadata.creationTimestamp)}</td>
          <td><${YamlLink} kind="ingresses" o=${i} /></td>
        </tr>`;
      })}</tbody>
    </table></div>
  </div>`;
}
