// Container environment as upstream's kubelet builds it: service env for the kubernetes Service, envFrom, then
// env (value with $(VAR) expansion, configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef).
import type { Container, EnvVar, ObjectFieldSelector, Pod, ResourceFieldSelector } from "kubernetes-types/core/v1";
import { quantityValue } from "../api/quantity.ts";
import { decodeSecret, type PodRefs } from "./refs.ts";

export class ConfigError extends Error {} // CreateContainerConfigError

/** $(VAR) references resolved against vars; $$ escapes; unknown references stay as written (upstream expansion). */
export function expand(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => (m === "$$" ? "$" : (vars.get(name) ?? m)));
}

export function fieldValue(pod: Pod, sel: ObjectFieldSelector): string {
  const p = sel.fieldPath;
  const md = pod.metadata ?? {};
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(p);
  if (m) return ((md as any)[m[1]!] ?? {})[m[2]!] ?? "";
  switch (p) {
    case "metadata.name": return md.name ?? "";
    case "metadata.namespace": return md.namespace ?? "";
    case "metadata.uid": return md.uid ?? "";
    case "metadata.labels": return Object.entries(md.labels ?? {}).map(([k, v]) => `${k}="${v}"`).sort().join("\n");
    case "metadata.annotations": return Object.entries(md.annotations ?? {}).map(([k, v]) => `${k}="${v}"`).sort().join("\n");
    case "spec.nodeName": return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName": return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP": return pod.status?.hostIP ?? "";
    case "status.hostIPs": return (pod.status?.hostIPs ?? []).map((i) => i.ip).join(",");
    case "status.podIP": return pod.status?.podIP ?? "";
    case "status.podIPs": return (pod.status?.podIPs ?? []).map((i) => i.ip).join(",");
  }
  throw new ConfigError(`unsupported fieldPath: ${p}`);
}

/** resourceFieldRef: limits default to the node's allocatable when unset, as upstream. */
export function resourceValue(pod: Pod, containerName: string | undefined, sel: ResourceFieldSelector, nodeAllocatable: Record<string, string>): string {
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === (sel.containerName || containerName));
  if (!c) throw new ConfigError(`resourceFieldRef: container ${sel.containerName} not found`);
  const [kind, res] = sel.resource.split(".") as ["limits" | "requests", string];
  let q = (c.resources as any)?.[kind]?.[res];
  if (q === undefined && kind === "limits") q = nodeAllocatable[res];
  if (q === undefined) q = "0";
  const divisor = quantityValue(sel.divisor ?? (res === "cpu" ? "1" : "1"));
  return String(Math.ceil(quantityValue(q) / divisor));
}

export async function buildEnv(
  pod: Pod,
  c: Container,
  refs: PodRefs,
  nodeAllocatable: Record<string, string>,
): Promise<string[]> {
  const ns = pod.metadata!.namespace!;
  const vars = new Map<string, string>();
  if (pod.spec?.enableServiceLinks !== false || ns === "default") {
    // The one Service every pod can count on; others are found through DNS.
    vars.set("KUBERNETES_SERVICE_HOST", "10.43.0.1");
    vars.set("KUBERNETES_SERVICE_PORT", "443");
    vars.set("KUBERNETES_SERVICE_PORT_HTTPS", "443");
    vars.set("KUBERNETES_PORT", "tcp://10.43.0.1:443");
    vars.set("KUBERNETES_PORT_443_TCP", "tcp://10.43.0.1:443");
    vars.set("KUBERNETES_PORT_443_TCP_PROTO", "tcp");
    vars.set("KUBERNETES_PORT_443_TCP_PORT", "443");
    vars.set("KUBERNETES_PORT_443_TCP_ADDR", "10.43.0.1");
  }
  for (const src of c.envFrom ?? []) {
    const prefix = src.prefix ?? "";
    if (src.configMapRef) {
      const cm = await refs.configMap(ns, src.configMapRef.name!);
      if (!cm) {
        if (src.configMapRef.optional) continue;
        throw new ConfigError(`configmap "${src.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) vars.set(prefix + k, v);
    } else if (src.secretRef) {
      const s = await refs.secret(ns, src.secretRef.name!);
      if (!s) {
        if (src.secretRef.optional) continue;
        throw new ConfigError(`secret "${src.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(s.data ?? {})) vars.set(prefix + k, decodeSecret(v).toString());
    }
  }
  for (const e of c.env ?? []) {
    const v = await envValue(pod, c, e, vars, refs, nodeAllocatable);
    if (v !== undefined) vars.set(e.name, v);
  }
  return [...vars].map(([k, v]) => `${k}=${v}`);
}

async function envValue(pod: Pod, c: Container, e: EnvVar, vars: Map<string, string>, refs: PodRefs, alloc: Record<string, string>): Promise<string | undefined> {
  const ns = pod.metadata!.namespace!;
  if (!e.valueFrom) return expand(e.value ?? "", vars);
  const f = e.valueFrom;
  if (f.configMapKeyRef) {
    const cm = await refs.configMap(ns, f.configMapKeyRef.name!);
    const v = cm?.data?.[f.configMapKeyRef.key] ?? (cm?.binaryData?.[f.configMapKeyRef.key] !== undefined ? decodeSecret(cm.binaryData[f.configMapKeyRef.key]!).toString() : undefined);
    if (v === undefined) {
      if (f.configMapKeyRef.optional) return undefined;
      throw new ConfigError(cm ? `couldn't find key ${f.configMapKeyRef.key} in ConfigMap ${ns}/${f.configMapKeyRef.name}` : `configmap "${f.configMapKeyRef.name}" not found`);
    }
    return v;
  }
  if (f.secretKeyRef) {
    const s = await refs.secret(ns, f.secretKeyRef.name!);
    const raw = s?.data?.[f.secretKeyRef.key];
    if (raw === undefined) {
      if (f.secretKeyRef.optional) return undefined;
      throw new ConfigError(s ? `couldn't find key ${f.secretKeyRef.key} in Secret ${ns}/${f.secretKeyRef.name}` : `secret "${f.secretKeyRef.name}" not found`);
    }
    return decodeSecret(raw).toString();
  }
  if (f.fieldRef) return fieldValue(pod, f.fieldRef);
  if (f.resourceFieldRef) return resourceValue(pod, c.name, f.resourceFieldRef, alloc);
  return undefined;
}
