// The cluster zone as the Kubernetes DNS specification (schema 1.1.0) describes it, answered straight from the
// Service and EndpointSlice informer caches: nothing is copied into a second table except a reverse (PTR) map,
// rebuilt lazily on the first PTR query after a change.
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Answer } from "dns-packet";
import { isIP } from "node:net";
import type { Informer } from "../client/informer.ts";
import { dashedIP, reverseName, undashIP } from "./names.ts";

export const TTL = 5;
export const SCHEMA_VERSION = "1.1.0";
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export type Rcode = "NOERROR" | "SERVFAIL" | "NXDOMAIN" | "REFUSED";

export interface Lookup {
  rcode: Rcode;
  answers: Answer[];
  /** SOA for NXDOMAIN / NODATA (negative caching, RFC 2308). */
  authorities: Answer[];
  additionals: Answer[];
  /** false: not ours (forward or refuse). */
  authoritative: boolean;
}

interface Endpoint {
  ip: string;
  /** endpoint hostname, or the dashed IP when it has none */
  host: string;
}

/** byService index key of a slice: "<ns>/<service>". */
export function sliceServiceKey(s: EndpointSlice): string[] {
  const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc && s.metadata?.namespace ? [`${s.metadata.namespace}/${svc}`] : [];
}

export class ClusterZone {
  private ptr?: Map<string, string[]>;
  /** SOA serial: seconds of the last change seen, so secondaries/caches could notice (none do in-cluster). */
  private serial = Math.floor(Date.now() / 1000);

  constructor(
    readonly zone: string,
    private services: Informer<Service>,
    private slices: Informer<EndpointSlice>,
  ) {
    const changed = () => {
      this.ptr = undefined;
      this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
    };
    for (const inf of [services, slices] as Informer<any>[]) inf.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  /** Answers need a full view: a first list, or the saved one of an earlier run (offline restart). */
  synced(): boolean {
    return this.services.hasData() && this.slices.hasData();
  }

  /** Answers name (lowercase, no trailing dot) for qtype, or says it is not ours. */
  lookup(name: string, qtype: string): Lookup {
    this.chasing = false;
    return this.resolve(name, qtype);
  }

  private chasing = false;
  private lookupNoChase(name: string, qtype: string): Lookup | undefined {
    if (this.chasing) return undefined;
    this.chasing = true;
    try {
      return this.resolve(name, qtype);
    } finally {
      this.chasing = false;
    }
  }

  private resolve(name: string, qtype: string): Lookup {
    const zone = this.zone;
    if (name.endsWith(".in-addr.arpa") || name.endsWith(".ip6.arpa")) return this.reverse(name, qtype);
    if (name !== zone && !name.endsWith("." + zone)) return notOurs();
    if (!this.synced()) return { rcode: "SERVFAIL", answers: [], authorities: [], additionals: [], authoritative: true };
    const labels = name === zone ? [] : name.slice(0, -zone.length - 1).split(".");
    const kind = labels.pop();
    if (kind === undefined) {
      if (qtype === "SOA" || qtype === "ANY") return this.found([this.soa()], qtype);
      return this.found([], qtype);
    }
    if (kind === "dns-version" && labels.length === 0)
      return this.found([{ name, type: "TXT", ttl: TTL, data: SCHEMA_VERSION }], qtype);
    if (kind === "svc") return this.service(name, labels, qtype);
    if (kind === "pod") return this.pod(name, labels, qtype);
    return this.nx();
  }

  // <svc>.<ns>.svc.<zone>, <host>.<svc>.<ns>.svc.<zone>, _<port>._<proto>.<svc>.<ns>.svc.<zone>
  private service(name: string, labels: string[], qtype: string): Lookup {
    if (labels.length === 0) return this.found([], qtype); // svc.<zone>: an empty non-terminal
    const ns = labels.pop()!;
    if (labels.length === 0) return this.services.byIndex("namespace", ns).length ? this.found([], qtype) : this.nx();
    const svcName = labels.pop()!;
    const svc = this.services.getByName(ns, svcName);
    if (!svc) return this.nx();
    const fqdn = `${svcName}.${ns}.svc.${this.zone}`;
    const headless = isHeadless(svc);
    if (labels.length === 0) {
      if (svc.spec?.type === "ExternalName") {
        const target = svc.spec.externalName?.toLowerCase().replace(/\.$/, "");
        if (!target) return this.found([], qtype);
        const cname: Answer = { name, type: "CNAME", ttl: TTL, data: target };
        // A target inside the zone is followed once here, so the client needs no second query (as CoreDNS does).
        const chased = qtype !== "CNAME" && target !== name && target.endsWith("." + this.zone) ? this.lookupNoChase(target, qtype) : undefined;
        return this.found([cname, ...(chased?.answers.filter((a) => a.type !== "CNAME") ?? [])], qtype);
      }
      const ips = headless ? this.endpoints(svc).map((e) => e.ip) : clusterIPs(svc);
      return this.found(addressRecords(name, [...new Set(ips)]), qtype);
    }
    if (labels.length === 1) {
      const label = labels[0]!;
      if (label.startsWith("_")) {
        // _<proto>.<svc>: exists (empty non-terminal) when some named port uses that protocol
        const has = (svc.spec?.ports ?? []).some((p) => p.name && `_${(p.protocol ?? "TCP").toLowerCase()}` === label);
        return has ? this.found([], qtype) : this.nx();
      }
      if (!headless) return this.nx();
      const ips = this.endpoints(svc).filter((e) => e.host === label).map((e) => e.ip);
      return ips.length ? this.found(addressRecords(name, ips), qtype) : this.nx();
    }
    if (labels.length === 2 && labels[0]!.startsWith("_") && labels[1]!.startsWith("_")) {
      const portName = labels[0]!.slice(1);
      const proto = labels[1]!.slice(1);
      const port = (svc.spec?.ports ?? []).find((p) => p.name === portName && (p.protocol ?? "TCP").toLowerCase() === proto);
      if (!port) return this.nx();
      if (!headless) {
        const srv: Answer = { name, type: "SRV", ttl: TTL, data: { priority: 0, weight: 100, port: port.port, target: fqdn } };
        return this.found([srv], qtype, addressRecords(fqdn, clusterIPs(svc)));
      }
      // Headless: one SRV per ready endpoint, the port as its slice lists it (the target port).
      const answers: Answer[] = [];
      const extra: Answer[] = [];
      const eps = this.endpoints(svc, portName, port.protocol ?? "TCP");
      const weight = Math.max(1, Math.floor(100 / Math.max(1, eps.length)));
      for (const e of eps) {
        const target = `${e.host}.${fqdn}`;
        answers.push({ name, type: "SRV", ttl: TTL, data: { priority: 0, weight, port: e.port!, target } });
        extra.push(...addressRecords(target, [e.ip]));
      }
      return answers.length ? this.found(answers, qtype, extra) : this.found([], qtype);
    }
    return this.nx();
  }

  // <a-b-c-d>.<ns>.pod.<zone>: answered from the name alone, as kube-dns and CoreDNS "pods insecure" do.
  private pod(name: string, labels: string[], qtype: string): Lookup {
    if (labels.length === 0) return this.found([], qtype);
    if (labels.length === 1) return this.found([], qtype); // <ns>.pod.<zone>
    if (labels.length !== 2) return this.nx();
    const ip = undashIP(labels[0]!);
    return ip ? this.found(addressRecords(name, [ip]), qtype) : this.nx();
  }

  private reverse(name: string, qtype: string): Lookup {
    if (!this.synced()) return notOurs();
    this.ptr ??= this.buildPTR();
    const targets = this.ptr.get(name);
    if (!targets) return notOurs(); // pod and node IPs are not ours: forward like CoreDNS's fallthrough
    return this.found(
      targets.map((t) => ({ name, type: "PTR", ttl: TTL, data: t })),
      qtype,
    );
  }

  private buildPTR(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    const add = (ip: string, target: string) => {
      const k = reverseName(ip);
      const l = m.get(k);
      if (!l) m.set(k, [target]);
      else if (!l.includes(target)) l.push(target);
    };
    for (const svc of this.services.values()) {
      const fqdn = `${svc.metadata!.name}.${svc.metadata!.namespace}.svc.${this.zone}`;
      if (isHeadless(svc)) for (const e of this.endpoints(svc)) add(e.ip, `${e.host}.${fqdn}`);
      else for (const ip of clusterIPs(svc)) add(ip, fqdn);
    }
    return m;
  }

  /** Ready endpoints of a service (all of them with publishNotReadyAddresses), optionally with one named port. */
  private endpoints(svc: Service, portName?: string, protocol?: string): (Endpoint & { port?: number })[] {
    const out: (Endpoint & { port?: number })[] = [];
    const all = svc.spec?.publishNotReadyAddresses === true;
    for (const s of this.slices.byIndex("service", `${svc.metadata!.namespace}/${svc.metadata!.name}`)) {
      let port: number | undefined;
      if (portName !== undefined) {
        port = s.ports?.find((p) => (p.name ?? "") === portName && (p.protocol ?? "TCP") === protocol)?.port ?? undefined;
        if (port === undefined) continue;
      }
      for (const ep of s.endpoints ?? []) {
        if (!all && ep.conditions?.ready === false) continue;
        for (const ip of ep.addresses ?? []) out.push({ ip, host: (ep.hostname ?? dashedIP(ip)).toLowerCase(), port });
      }
    }
    return out;
  }

  soa(): Answer {
    const z = this.zone;
    return {
      name: z,
      type: "SOA",
      ttl: TTL,
      data: { mname: `ns.dns.${z}`, rname: `hostmaster.${z}`, serial: this.serial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL },
    };
  }

  private nx(): Lookup {
    return { rcode: "NXDOMAIN", answers: [], authorities: [this.soa()], additionals: [], authoritative: true };
  }

  /** The name exists: the records of qtype (CNAME answers any type), or NODATA with the SOA. */
  private found(records: Answer[], qtype: string, extra: Answer[] = []): Lookup {
    const answers = records.filter((r) => qtype === "ANY" || r.type === qtype || r.type === "CNAME");
    return {
      rcode: "NOERROR",
      answers,
      authorities: answers.length ? [] : [this.soa()],
      additionals: answers.length ? extra : [],
      authoritative: true,
    };
  }
}

function notOurs(): Lookup {
  return { rcode: "REFUSED", answers: [], authorities: [], additionals: [], authoritative: false };
}

function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === "None";
}

function clusterIPs(svc: Service): string[] {
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter((ip) => isIP(ip) !== 0);
}

function addressRecords(name: string, ips: string[]): Answer[] {
  return ips.map((ip) => ({ name, type: isIP(ip) === 6 ? "AAAA" : "A", ttl: TTL, data: ip }) as Answer);
}
