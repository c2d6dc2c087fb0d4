// Tables of ingresses and ingressclasses (upstream printers.go: printIngress, printIngressClass).
import { AGE, NAME, age, col, type Obj, type Printer } from "./columns.ts";

/** Up to three rule hosts, "*" when none names one, "+ N more..." past three (upstream formatHosts). */
function formatHosts(rules: Obj[]): string {
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === 3) more = true;
    if (!more && rule?.host) list.push(String(rule.host));
  }
  if (!list.length) return "*";
  return more ? `${list.join(",")} + ${rules.length - 3} more...` : list.join(",");
}

export const ingresses: Printer = {
  columns: [
    NAME,
    col("Class", "string", "The name of the IngressClass resource that should be used for ingress"),
    col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
    col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
  ],
  cells(ing, now) {
    const spec = ing.spec ?? {};
    const address = ((ing.status?.loadBalancer?.ingress ?? []) as Obj[]).map((i) => i?.ip || i?.hostname).filter(Boolean).join(",");
    const ports = Array.isArray(spec.tls) && spec.tls.length ? "80, 443" : "80";
    return [ing.metadata?.name, spec.ingressClassName ?? "<none>", formatHosts(spec.rules ?? []), address, ports, age(ing, now)];
  },
};

export const ingressclasses: Printer = {
  columns: [
    NAME,
    col("Controller", "string", "Controller that is responsible for handling this class"),
    col("Parameters", "string", "A reference to a resource with additional parameters"),
    AGE,
  ],
  cells(ic, now) {
    const p = ic.spec?.parameters;
    const parameters = p ? `${p.kind ?? ""}${p.apiGroup != null ? `.${p.apiGroup}` : ""}/${p.name ?? ""}` : "<none>";
    return [ic.metadata?.name, ic.spec?.controller ?? "", parameters, age(ic, now)];
  },
};
