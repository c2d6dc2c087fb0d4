// Networking tables: services, endpoints, endpointslices.
import { formatLabels, formatSelector } from "./format.ts";
import { AGE, NAME, age, col, selectorCol, type Obj, type Printer } from "./columns.ts";

function lbIngress(lb: Obj | undefined): string {
  return (lb?.ingress ?? []).map((i: Obj) => i.ip || i.hostname).filter(Boolean).join(",");
}

function serviceExternalIP(svc: Obj): string {
  const spec = svc.spec ?? {};
  const ext: string[] = spec.externalIPs ?? [];
  switch (spec.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return ext.length ? ext.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = lbIngress(svc.status?.loadBalancer);
      if (ext.length) return [...(lb ? lb.split(",") : []), ...ext].join(",");
      return lb || "<pending>";
    }
    case "ExternalName":
      return spec.externalName ?? "";
  }
  return "<unknown>";
}

export const services: Printer = {
  columns: [
    NAME,
    col("Type", "string", "type determines how the Service is exposed."),
    col("Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly."),
    col("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    col("Port(s)", "string", "The list of ports that are exposed by this service."),
    AGE,
    selectorCol("Route service traffic to pods with label keys and values matching this selector."),
  ],
  cells(svc, now) {
    const spec = svc.spec ?? {};
    const ports: Obj[] = spec.ports ?? [];
    const portStr = ports.length
      ? ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`)).join(",")
      : "<none>";
    const clusterIP = spec.clusterIPs?.[0] ?? spec.clusterIP ?? "<none>";
    return [svc.metadata?.name, spec.type ?? "ClusterIP", clusterIP || "<none>", serviceExternalIP(svc), portStr, age(svc, now), formatLabels(spec.selector)];
  },
};

function joinHostPort(ip: string, port: number) {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export const endpoints: Printer = {
  columns: [NAME, col("Endpoints", "string", "The set of all endpoints is the union of all subsets."), AGE],
  cells(ep, now) {
    const subsets: Obj[] = ep.subsets ?? [];
    let text = "<none>";
    if (subsets.length) {
      const list: string[] = [];
      let count = 0;
      let more = false;
      for (const ss of subsets) {
        const addrs: Obj[] = ss.addresses ?? [];
        const ports: Obj[] = ss.ports ?? [];
        if (ports.length === 0) {
          count += addrs.length;
          for (const a of addrs) {
            if (list.length === 3) {
              more = true;
              break;
            }
            list.push(a.ip);
          }
          continue;
        }
        for (const p of ports) {
          count += addrs.length;
          for (const a of addrs) {
            if (list.length === 3) {
              more = true;
              break;
            }
            list.push(joinHostPort(a.ip, p.port));
          }
        }
      }
      text = list.join(",");
      if (more) text = `${text} + ${count - 3} more...`;
    }
    return [ep.metadata?.name, text, age(ep, now)];
  },
};

export const endpointslices: Printer = {
  columns: [
    NAME,
    col("AddressType", "string", "addressType specifies the type of address carried by this EndpointSlice."),
    col("Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice."),
    col("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
    AGE,
  ],
  cells(es, now) {
    const ports: Obj[] = es.ports ?? [];
    let portStr = "<unset>";
    if (ports.length) {
      const shown = ports.slice(0, 3).map((p) => (p.port === undefined || p.port === null ? "<unset>" : String(p.port)));
      portStr = shown.join(",") + (ports.length > 3 ? ` + ${ports.length - 3} more...` : "");
    }
    const addrs: string[] = (es.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? []);
    let epStr = "<unset>";
    if (addrs.length) epStr = addrs.slice(0, 3).join(",") + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : "");
    return [es.metadata?.name, es.addressType ?? "", portStr, epStr, age(es, now)];
  },
};


export const networkpolicies: Printer = {
  columns: [
    NAME,
    col("Pod-Selector", "string", "podSelector selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace."),
    AGE,
  ],
  cells: (np, now) => [np.metadata?.name, formatSelector(np.spec?.podSelector), age(np, now)],
};
