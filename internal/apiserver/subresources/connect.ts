// CONNECT admission for exec, attach, portforward and proxy, as upstream's connect handler: admission webhooks see
// the request's options object (PodExecOptions, PodAttachOptions, PodPortForwardOptions, Pod/Node/ServiceProxyOptions,
// built from the query) before the connection is made, and may refuse it. The built-in plugins do not act on
// CONNECT here; changes a mutating webhook makes to the options are not applied (the stream uses the query).
import type { Rest } from "../rest.ts";
import type { SubresourceHandler } from "./index.ts";

const CONNECT = new Set(["exec", "attach", "portforward", "proxy"]);

const KINDS: Record<string, string> = {
  "pods/exec": "PodExecOptions",
  "pods/attach": "PodAttachOptions",
  "pods/portforward": "PodPortForwardOptions",
  "pods/proxy": "PodProxyOptions",
  "nodes/proxy": "NodeProxyOptions",
  "services/proxy": "ServiceProxyOptions",
};

const bool = (q: URLSearchParams, k: string) => {
  const v = q.get(k);
  return v !== null && v !== "0" && v.toLowerCase() !== "false";
};

function connectOptions(r: Rest, kind: string): Record<string, unknown> {
  const q = r.q;
  const o: Record<string, unknown> = { kind, apiVersion: "v1" };
  if (kind === "PodExecOptions" || kind === "PodAttachOptions") {
    for (const k of ["stdin", "stdout", "stderr", "tty"]) if (bool(q, k)) o[k] = true;
    if (q.get("container")) o.container = q.get("container");
    if (kind === "PodExecOptions") o.command = q.getAll("command");
  } else if (kind === "PodPortForwardOptions") {
    const ports = q.getAll("ports").flatMap((p) => p.split(",")).map(Number).filter((n) => Number.isInteger(n));
    if (ports.length) o.ports = ports;
  } else {
    const path = new URL(r.c.req.url).pathname;
    const at = path.indexOf(`/${r.subresource}`);
    const rest = at >= 0 ? path.slice(at + r.subresource!.length + 1) : "";
    o.path = rest || "/";
  }
  return o;
}

export function withConnectAdmission(h: SubresourceHandler): SubresourceHandler {
  return async (r, method) => {
    const webhooks = r.deps.webhooks;
    const kind = KINDS[`${r.ri.resource}/${r.subresource}`];
    if (webhooks && r.ri.group === "" && r.subresource && CONNECT.has(r.subresource) && kind) {
      const attrs = {
        ri: r.ri,
        operation: "CONNECT" as const,
        subresource: r.subresource,
        namespace: r.namespace,
        name: r.name,
        object: connectOptions(r, kind),
        dryRun: false,
        user: r.user,
        kind,
      };
      await webhooks.mutate(attrs);
      await webhooks.validate(attrs);
    }
    return h(r, method);
  };
}
