// Service ClusterIP/NodePort allocation over a real store: concurrency across two "API servers"
// (two store handles on one SQLite file), requested values, upstream errors, release and leak repair.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Service } from "kubernetes-types/core/v1";
import { createServiceAllocator } from "../../internal/allocator/index.ts";
import { StatusError } from "../../internal/api/status.ts";
import { openSqliteStore } from "../../internal/store/sqlite/index.ts";
import type { Store } from "../../internal/store/types.ts";

let dir: string;
let stores: Store[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kubun-alloc-"));
});
afterEach(async () => {
  for (const s of stores) await s.close();
  stores = [];
  rmSync(dir, { recursive: true, force: true });
});
function open(): Store {
  const s = openSqliteStore(join(dir, "state.db"));
  stores.push(s);
  return s;
}
const svc = (name: string, spec: Service["spec"] = {}): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "default" },
  spec: { ports: [{ port: 80 }], ...spec },
});

describe("service allocator", () => {
  test("two allocators on two store handles never hand out the same IP or port", async () => {
    const a = createServiceAllocator(open(), { serviceCIDR: "10.43.0.0/24", nodePortRange: "30000-30199" });
    const b = createServiceAllocator(open(), { serviceCIDR: "10.43.0.0/24", nodePortRange: "30000-30199" });
    const jobs: Promise<Service>[] = [];
    for (let i = 0; i < 60; i++) {
      const alloc = i % 2 ? a : b;
      jobs.push(alloc.allocate(svc(`s${i}`, { type: "NodePort" })));
    }
    const out = await Promise.all(jobs);
    const ips = out.map((s) => s.spec!.clusterIP!);
    const ports = out.map((s) => s.spec!.ports![0]!.nodePort!);
    expect(new Set(ips).size).toBe(60);
    expect(new Set(ports).size).toBe(60);
    for (const ip of ips) {
      expect(ip.startsWith("10.43.0.")).toBe(true);
      expect(["10.43.0.0", "10.43.0.1", "10.43.0.10", "10.43.0.255"]).not.toContain(ip);
    }
    for (const p of ports) expect(p >= 30000 && p <= 30199).toBe(true);
    expect(out[0]!.spec!.clusterIPs).toEqual([ips[0]!]);
    expect(out[0]!.spec!.ipFamilies).toEqual(["IPv4"]);
  });

  test("requested IP and port are honoured once, then rejected as upstream", async () => {
    const store = open();
    const a = createServiceAllocator(store);
    const k = await a.allocate(svc("kubernetes", { clusterIP: "10.43.0.1" }));
    expect(k.spec!.clusterIP).toBe("10.43.0.1");
    const err = await a.allocate(svc("other", { clusterIP: "10.43.0.1" })).catch((e) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect(err.code).toBe(422);
    expect(err.reason).toBe("Invalid");
    expect(err.message).toContain("provided IP is already allocated");
    expect(err.toStatus().details.causes[0].field).toBe("spec.clusterIPs");

    const out = await a.allocate(svc("np", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] }));
    expect(out.spec!.ports![0]!.nodePort).toBe(30080);
    const perr = await a.allocate(svc("np2", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] })).catch((e) => e);
    expect(perr.code).toBe(422);
    expect(perr.message).toBe(
      'Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    );
    // Addresses outside the CIDR are rejected with the valid range.
    const range = await a.allocate(svc("bad", { clusterIP: "192.168.0.1" })).catch((e) => e);
    expect(range.message).toContain("not in the valid range");
  });

  test("headless and ExternalName services get no IP; a full range answers range is full", async () => {
    const a = createServiceAllocator(open(), { serviceCIDR: "10.43.0.0/28" });
    const h = await a.allocate(svc("h", { clusterIP: "None" }));
    expect(h.spec!.clusterIP).toBe("None");
    expect(h.spec!.clusterIPs).toEqual(["None"]);
    const e = await a.allocate(svc("e", { type: "ExternalName", externalName: "example.com" }));
    expect(e.spec!.clusterIP).toBeUndefined();
    // /28: 16 addresses minus network, broadcast, .1 and .10 = 12 dynamic ones.
    const got = [];
    for (let i = 0; i < 12; i++) got.push((await a.allocate(svc(`s${i}`))).spec!.clusterIP);
    expect(new Set(got).size).toBe(12);
    const full = await a.allocate(svc("one-too-many")).catch((x) => x);
    expect(full.code).toBe(500);
    expect(full.message).toContain("range is full");
    // Explicitly requested reserved addresses still work.
    expect((await a.allocate(svc("dns", { clusterIP: "10.43.0.10" }))).spec!.clusterIP).toBe("10.43.0.10");
  });

  test("release frees; update keeps omitted allocations and frees dropped node ports", async () => {
    const a = createServiceAllocator(open(), { serviceCIDR: "10.43.0.0/29", nodePortRange: "30000-30001" });
    const s1 = await a.allocate(svc("a", { type: "NodePort" }));
    const ip = s1.spec!.clusterIP!;
    const port = s1.spec!.ports![0]!.nodePort!;
    // PUT without clusterIP / nodePort keeps them.
    const upd = await a.allocateUpdate(s1, svc("a", { type: "NodePort", ports: [{ port: 80 }] }));
    expect(upd.spec!.clusterIP).toBe(ip);
    expect(upd.spec!.ports![0]!.nodePort).toBe(port);
    // Back to ClusterIP frees the node port, so two more NodePort services fit in a two-port range.
    const cip = await a.allocateUpdate(upd, svc("a", { type: "ClusterIP", clusterIP: ip }));
    expect(cip.spec!.ports![0]!.nodePort).toBeUndefined();
    const n1 = await a.allocate(svc("n1", { type: "NodePort" }));
    const n2 = await a.allocate(svc("n2", { type: "NodePort" }));
    expect(new Set([n1.spec!.ports![0]!.nodePort, n2.spec!.ports![0]!.nodePort]).size).toBe(2);
    await a.release(n1);
    const n3 = await a.allocate(svc("n3", { type: "NodePort" }));
    expect(n3.spec!.ports![0]!.nodePort).toBe(n1.spec!.ports![0]!.nodePort!);
  });

  test("deferred release: nothing is freed until the update is stored", async () => {
    const a = createServiceAllocator(open(), { serviceCIDR: "10.43.0.0/24", nodePortRange: "30000-30001" });
    const s1 = await a.allocate(svc("a", { type: "NodePort", ports: [{ port: 80, nodePort: 30000 }] }));
    const upd = await a.allocateUpdate(s1, svc("a", { type: "ClusterIP", clusterIP: s1.spec!.clusterIP }), { deferRelease: true });
    expect(upd.spec!.ports![0]!.nodePort).toBeUndefined();
    // The write failed (say, a conflict): 30000 is still held by the live object.
    const taken = await a.allocate(svc("b", { type: "NodePort", ports: [{ port: 80, nodePort: 30000 }] })).catch((e) => e);
    expect(taken.code).toBe(422);
    // Stored: now it is released.
    await a.releaseDropped(s1, upd);
    const ok = await a.allocate(svc("c", { type: "NodePort", ports: [{ port: 80, nodePort: 30000 }] }));
    expect(ok.spec!.ports![0]!.nodePort).toBe(30000);
  });

  test("repair frees leaked allocations after repeated passes and keeps stored ones", async () => {
    const store = open();
    const a = createServiceAllocator(store, { serviceCIDR: "10.43.0.0/24", leakPasses: 2 });
    const kept = await a.allocate(svc("kept"));
    await store.create("/registry/core/services/default/kept", JSON.stringify(kept));
    const leaked = await a.allocate(svc("never-stored"));
    const first = await a.repair();
    expect(first.leakedIPs).toEqual([leaked.spec!.clusterIP!]);
    expect(first.freedIPs).toEqual([]);
    const second = await a.repair();
    expect(second.freedIPs).toEqual([leaked.spec!.clusterIP!]);
    // The leaked IP is free again, the stored one is not.
    const again = await a.allocate(svc("again", { clusterIP: leaked.spec!.clusterIP! }));
    expect(again.spec!.clusterIP).toBe(leaked.spec!.clusterIP!);
    const dup = await a.allocate(svc("dup", { clusterIP: kept.spec!.clusterIP! })).catch((e) => e);
    expect(dup.code).toBe(422);
  });
});
