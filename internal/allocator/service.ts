// ClusterIP and NodePort allocation for Services, done by the API server at create/update/delete time
// as upstream does (so `kubectl create service` returns with its clusterIP).
// State lives in two store keys (bitmaps) changed by compare-and-swap: safe with several API servers.

import type { Service, ServicePort } from "kubernetes-types/core/v1";
import { logger } from "../log/log.ts";
import type { Store } from "../store/types.ts";
import { casBitmap, type Bitmap } from "./bitmap.ts";
import { invalidField, rangeFull } from "./errors.ts";
import { formatCidr4, formatIPv4, offsetIn, parseCidr4, type Cidr4 } from "./ipv4.ts";

export const SERVICE_IPS_KEY = "/registry/ranges/serviceips";
export const NODE_PORTS_KEY = "/registry/ranges/servicenodeports";
const SERVICES_PREFIX = "/registry/core/services/";

export interface ServiceAllocatorOptions {
  /** Default 10.43.0.0/16. */
  serviceCIDR?: string;
  /** "30000-32767" or {min,max}. */
  nodePortRange?: string | { min: number; max: number };
  /** Repair passes an allocation must be seen leaked before it is freed (upstream: 3). */
  leakPasses?: number;
}

export interface ServiceAllocator {
  /**
   * Fills clusterIP(s) and nodePorts of a new Service; honours requested values. Returns a mutated copy.
   * With { dryRun: true } it checks and picks the same way but takes nothing (a dry-run create shows them).
   */
  allocate(service: Service, opts?: { dryRun?: boolean }): Promise<Service>;
  /**
   * For an update: keeps old allocations the new object omits, allocates new ones, frees dropped ones.
   * With { deferRelease: true } nothing is freed here: call releaseDropped(old, stored) once the update is stored,
   * so a failed write (conflict) never frees addresses the live object still holds.
   */
  allocateUpdate(oldService: Service, newService: Service, opts?: { deferRelease?: boolean }): Promise<Service>;
  /** Frees what `oldService` held and `newService` (as stored) no longer does. */
  releaseDropped(oldService: Service, newService: Service): Promise<void>;
  /** Frees everything the Service holds (call after it is deleted from the store). */
  release(service: Service): Promise<void>;
  /** One repair pass: marks allocations of stored Services, frees leaked ones seen leaked `leakPasses` times. */
  repair(): Promise<{ leakedIPs: string[]; leakedPorts: number[]; freedIPs: string[]; freedPorts: number[] }>;
  /** Runs repair() every intervalMs until the signal aborts. */
  startRepairLoop(intervalMs: number, signal: AbortSignal): void;
  readonly serviceCIDR: string;
  readonly nodePortRange: { min: number; max: number };
}

const log = logger("allocator");

function parsePortRange(r: ServiceAllocatorOptions["nodePortRange"]): { min: number; max: number } {
  if (!r) return { min: 30000, max: 32767 };
  if (typeof r === "object") return r;
  const m = /^(\d+)-(\d+)$/.exec(r.trim());
  if (!m) throw new Error(`invalid node port range ${JSON.stringify(r)}`);
  return { min: Number(m[1]), max: Number(m[2]) };
}

function needsClusterIP(s: Service): boolean {
  return s.spec?.type !== "ExternalName" && s.spec?.clusterIP !== "None";
}

function needsNodePorts(s: Service): boolean {
  const t = s.spec?.type;
  if (t === "NodePort") return true;
  return t === "LoadBalancer" && s.spec?.allocateLoadBalancerNodePorts !== false;
}

function needsHealthCheckPort(s: Service): boolean {
  return s.spec?.type === "LoadBalancer" && s.spec?.externalTrafficPolicy === "Local";
}

/** Every node port the Service holds (nodePorts + healthCheckNodePort). */
function heldPorts(s: Service): number[] {
  const out = new Set<number>();
  for (const p of s.spec?.ports ?? []) if (p.nodePort) out.add(p.nodePort);
  if (s.spec?.healthCheckNodePort) out.add(s.spec.healthCheckNodePort);
  return [...out];
}

function heldIPs(s: Service): string[] {
  const ips = new Set<string>();
  if (s.spec?.clusterIP && s.spec.clusterIP !== "None") ips.add(s.spec.clusterIP);
  for (const ip of s.spec?.clusterIPs ?? []) if (ip && ip !== "None") ips.add(ip);
  return [...ips];
}

export function createServiceAllocator(store: Store, opts: ServiceAllocatorOptions = {}): ServiceAllocator {
  const cidrText = opts.serviceCIDR ?? "10.43.0.0/16";
  const cidr: Cidr4 = parseCidr4(cidrText);
  const ports = parsePortRange(opts.nodePortRange);
  const portCount = ports.max - ports.min + 1;
  const leakPasses = opts.leakPasses ?? 3;
  const cidrString = formatCidr4(cidr);
  // Offsets never handed out dynamically: network/broadcast (never), .1 kubernetes, .10 cluster DNS.
  const reservedDynamic = new Set([1, 10]);
  const unusable = (off: number) => off === 0 || (cidr.size > 2 && off === cidr.size - 1);

  const ipLeaks = new Map<number, number>();
  const portLeaks = new Map<number, number>();

  function pickFree(b: Bitmap, size: number, skip: (i: number) => boolean): number | undefined {
    const start = Math.floor(Math.random() * size);
    for (let k = 0; k < size; k++) {
      const i = (start + k) % size;
      if (!b.has(i) && !skip(i)) return i;
    }
    return undefined;
  }

  /** Allocates IPs: requested ones exactly, `dynamicCount` random ones. Returns offsets. */
  async function takeIP(name: string, requested: string | undefined, dryRun = false): Promise<string> {
    let reqOff: number | undefined;
    if (requested) {
      reqOff = offsetIn(cidr, requested);
      if (reqOff === undefined || unusable(reqOff)) {
        throw invalidField(
          name,
          "spec.clusterIPs",
          `[]string{"${requested}"}`,
          `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${cidrString}`,
        );
      }
    }
    const off = await casBitmap(store, SERVICE_IPS_KEY, cidrString, cidr.size, (b) => {
      if (reqOff !== undefined) {
        if (b.has(reqOff)) return { write: false, result: -1 };
        b.set(reqOff);
        return { write: !dryRun, result: reqOff };
      }
      const i = pickFree(b, cidr.size, (i) => unusable(i) || reservedDynamic.has(i));
      if (i === undefined) return { write: false, result: -2 };
      b.set(i);
      return { write: !dryRun, result: i };
    });
    if (off === -1) {
      throw invalidField(
        name,
        "spec.clusterIPs",
        `[]string{"${requested}"}`,
        `failed to allocate IP ${requested}: provided IP is already allocated`,
      );
    }
    if (off === -2) throw rangeFull("serviceIP");
    if (!dryRun) ipLeaks.delete(off);
    return formatIPv4((cidr.base + off) >>> 0);
  }

  async function freeIPs(ips: string[]): Promise<void> {
    const offs = ips.map((ip) => offsetIn(cidr, ip)).filter((o): o is number => o !== undefined);
    if (!offs.length) return;
    await casBitmap(store, SERVICE_IPS_KEY, cidrString, cidr.size, (b) => {
      let write = false;
      for (const o of offs) if (b.has(o)) (b.clear(o), (write = true));
      return { write, result: undefined };
    });
  }

  /** Allocates node ports: `requested` exactly (with their field paths for errors) plus `dynamic` new ones. */
  async function takePorts(name: string, requested: { port: number; field: string }[], dynamic: number, dryRun = false): Promise<number[]> {
    for (const r of requested) {
      if (r.port < ports.min || r.port > ports.max) {
        throw invalidField(
          name,
          r.field,
          String(r.port),
          `provided port is not in the valid range. The range of valid ports is ${ports.min}-${ports.max}`,
        );
      }
    }
    type Outcome = { taken?: { port: number; field: string }; full?: boolean; got?: number[] };
    const result = await casBitmap<Outcome>(store, NODE_PORTS_KEY, `${ports.min}-${ports.max}`, portCount, (b) => {
      for (const r of requested) {
        if (b.has(r.port - ports.min)) return { write: false, result: { taken: r } };
      }
      for (const r of requested) b.set(r.port - ports.min);
      const got: number[] = [];
      for (let k = 0; k < dynamic; k++) {
        const i = pickFree(b, portCount, () => false);
        if (i === undefined) return { write: false, result: { full: true } };
        b.set(i);
        got.push(i + ports.min);
      }
      return { write: !dryRun, result: { got } };
    });
    if (result.taken) throw invalidField(name, result.taken.field, String(result.taken.port), "provided port is already allocated");
    if (result.full || !result.got) throw rangeFull("nodePort");
    if (dryRun) return result.got;
    for (const p of result.got) portLeaks.delete(p - ports.min);
    for (const r of requested) portLeaks.delete(r.port - ports.min);
    return result.got;
  }

  async function freePorts(list: number[]): Promise<void> {
    const offs = list.filter((p) => p >= ports.min && p <= ports.max).map((p) => p - ports.min);
    if (!offs.length) return;
    await casBitmap(store, NODE_PORTS_KEY, `${ports.min}-${ports.max}`, portCount, (b) => {
      let write = false;
      for (const o of offs) if (b.has(o)) (b.clear(o), (write = true));
      return { write, result: undefined };
    });
  }

  /** Fills node ports of `svc` (mutated), allocating those not in `alreadyHeld`. Returns the newly taken ports. */
  async function fillNodePorts(svc: Service, alreadyHeld: Set<number>, dryRun = false): Promise<number[]> {
    const name = svc.metadata?.name ?? "";
    const specPorts: ServicePort[] = svc.spec?.ports ?? [];
    const requested: { port: number; field: string }[] = [];
    const seen = new Set<number>();
    const missing: ServicePort[] = [];
    specPorts.forEach((p, i) => {
      if (p.nodePort) {
        if (!alreadyHeld.has(p.nodePort) && !seen.has(p.nodePort)) requested.push({ port: p.nodePort, field: `spec.ports[${i}].nodePort` });
        seen.add(p.nodePort);
      } else missing.push(p);
    });
    const wantHC = needsHealthCheckPort(svc);
    const hc = svc.spec?.healthCheckNodePort;
    if (wantHC && hc && !alreadyHeld.has(hc) && !seen.has(hc)) requested.push({ port: hc, field: "spec.healthCheckNodePort" });
    const dynamic = missing.length + (wantHC && !hc ? 1 : 0);
    if (!requested.length && !dynamic) return [];
    const got = await takePorts(name, requested, dynamic, dryRun);
    missing.forEach((p, i) => (p.nodePort = got[i]));
    if (wantHC && !hc) svc.spec!.healthCheckNodePort = got[missing.length];
    return [...requested.map((r) => r.port), ...got];
  }

  function setIPFields(svc: Service, ip: string | undefined): void {
    const spec = (svc.spec ??= {});
    if (ip) {
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      spec.ipFamilies ??= ["IPv4"];
      spec.ipFamilyPolicy ??= "SingleStack";
    }
  }

  const self: ServiceAllocator = {
    serviceCIDR: cidrString,
    nodePortRange: ports,

    async allocate(service, allocOpts = {}) {
      const dryRun = allocOpts.dryRun === true;
      const svc: Service = structuredClone(service);
      const name = svc.metadata?.name ?? "";
      svc.spec ??= {};
      if (svc.spec.clusterIP === "None") {
        svc.spec.clusterIPs = ["None"];
        svc.spec.ipFamilies ??= ["IPv4"];
        svc.spec.ipFamilyPolicy ??= "SingleStack";
      }
      let ip: string | undefined;
      if (needsClusterIP(svc)) {
        ip = await takeIP(name, svc.spec.clusterIP || svc.spec.clusterIPs?.[0] || undefined, dryRun);
        setIPFields(svc, ip);
      }
      if (needsNodePorts(svc) || needsHealthCheckPort(svc)) {
        try {
          await fillNodePorts(svc, new Set(), dryRun);
        } catch (e) {
          if (ip && !dryRun) await freeIPs([ip]);
          throw e;
        }
      }
      return svc;
    },

    async allocateUpdate(oldService, newService, updOpts = {}) {
      const svc: Service = structuredClone(newService);
      const name = svc.metadata?.name ?? "";
      svc.spec ??= {};
      const oldIPs = heldIPs(oldService);
      const newlyTakenIPs: string[] = [];
      let newlyTakenPorts: number[] = [];
      try {
        if (needsClusterIP(svc)) {
          // As upstream: an update that omits clusterIP keeps the allocated one.
          if (!svc.spec.clusterIP && oldIPs.length) setIPFields(svc, oldIPs[0]);
          else if (!svc.spec.clusterIP || !oldIPs.includes(svc.spec.clusterIP)) {
            const ip = await takeIP(name, svc.spec.clusterIP || undefined);
            newlyTakenIPs.push(ip);
            setIPFields(svc, ip);
          }
        }
        const oldPorts = new Set(heldPorts(oldService));
        if (needsNodePorts(svc)) {
          // Keep node ports of ports the update omits, matched by port number + protocol as upstream.
          for (const p of svc.spec.ports ?? []) {
            if (p.nodePort) continue;
            const prev = oldService.spec?.ports?.find(
              (o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP") && o.nodePort,
            );
            if (prev) p.nodePort = prev.nodePort;
          }
        } else {
          for (const p of svc.spec.ports ?? []) delete p.nodePort;
        }
        if (needsHealthCheckPort(svc)) {
          if (!svc.spec.healthCheckNodePort && oldService.spec?.healthCheckNodePort) {
            svc.spec.healthCheckNodePort = oldService.spec.healthCheckNodePort;
          }
        } else delete svc.spec.healthCheckNodePort;
        if (needsNodePorts(svc) || needsHealthCheckPort(svc)) newlyTakenPorts = await fillNodePorts(svc, oldPorts);
      } catch (e) {
        await freeIPs(newlyTakenIPs);
        await freePorts(newlyTakenPorts);
        throw e;
      }
      if (!updOpts.deferRelease) await self.releaseDropped(oldService, svc);
      return svc;
    },

    async releaseDropped(oldService, newService) {
      const nowIPs = new Set(heldIPs(newService));
      await freeIPs(heldIPs(oldService).filter((ip) => !nowIPs.has(ip)));
      const nowPorts = new Set(heldPorts(newService));
      await freePorts(heldPorts(oldService).filter((p) => !nowPorts.has(p)));
    },

    async release(service) {
      await freeIPs(heldIPs(service));
      await freePorts(heldPorts(service));
    },

    async repair() {
      const usedIPs = new Set<number>();
      const usedPorts = new Set<number>();
      let after: string | undefined;
      for (;;) {
        const page = await store.list(SERVICES_PREFIX, { limit: 500, startAfter: after });
        for (const kv of page.items) {
          let svc: Service;
          try {
            svc = JSON.parse(kv.value);
          } catch {
            continue;
          }
          for (const ip of heldIPs(svc)) {
            const o = offsetIn(cidr, ip);
            if (o !== undefined) usedIPs.add(o);
          }
          for (const p of heldPorts(svc)) if (p >= ports.min && p <= ports.max) usedPorts.add(p - ports.min);
        }
        if (!page.remaining || !page.items.length) break;
        after = page.items[page.items.length - 1]!.key;
      }
      const out = { leakedIPs: [] as string[], leakedPorts: [] as number[], freedIPs: [] as string[], freedPorts: [] as number[] };
      const sweep = (b: Bitmap, size: number, used: Set<number>, leaks: Map<number, number>, onLeak: (i: number, freed: boolean) => void) => {
        let write = false;
        for (const i of used) if (!b.has(i)) (b.set(i), (write = true));
        for (let i = 0; i < size; i++) {
          if (!b.has(i) || used.has(i)) {
            leaks.delete(i);
            continue;
          }
          const n = (leaks.get(i) ?? 0) + 1;
          if (n >= leakPasses) {
            b.clear(i);
            leaks.delete(i);
            write = true;
            onLeak(i, true);
          } else {
            leaks.set(i, n);
            onLeak(i, false);
          }
        }
        return write;
      };
      await casBitmap(store, SERVICE_IPS_KEY, cidrString, cidr.size, (b) => {
        out.leakedIPs = [];
        out.freedIPs = [];
        const snapshot = new Map(ipLeaks);
        const write = sweep(b, cidr.size, usedIPs, snapshot, (i, freed) => {
          const ip = formatIPv4((cidr.base + i) >>> 0);
          (freed ? out.freedIPs : out.leakedIPs).push(ip);
        });
        ipLeaks.clear();
        for (const [k, v] of snapshot) ipLeaks.set(k, v);
        return { write, result: undefined };
      });
      await casBitmap(store, NODE_PORTS_KEY, `${ports.min}-${ports.max}`, portCount, (b) => {
        out.leakedPorts = [];
        out.freedPorts = [];
        const snapshot = new Map(portLeaks);
        const write = sweep(b, portCount, usedPorts, snapshot, (i, freed) => (freed ? out.freedPorts : out.leakedPorts).push(i + ports.min));
        portLeaks.clear();
        for (const [k, v] of snapshot) portLeaks.set(k, v);
        return { write, result: undefined };
      });
      if (out.freedIPs.length || out.freedPorts.length) log.info("freed leaked service allocations", { ips: out.freedIPs, ports: out.freedPorts });
      return out;
    },

    startRepairLoop(intervalMs, signal) {
      const timer = setInterval(() => {
        self.repair().catch((e) => log.warn("service allocation repair failed", { err: e }));
      }, intervalMs);
      signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    },
  };
  return self;
}
