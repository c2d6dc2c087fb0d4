// The service allocator's errors reach clients as upstream's Status (422 Invalid with the field cause):
// the allocator throws internal/api's StatusError, not the client's ApiError (issue 11: no component borrows
// another's error type).
import { describe, expect, test } from "bun:test";
import type { Service } from "kubernetes-types/core/v1";
import { refs } from "../../internal/client/refs.ts";
import { useSharedCluster } from "../helpers/shared-cluster.ts";

const env = useSharedCluster();

const svc = (name: string, clusterIP: string): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { clusterIP, ports: [{ port: 80 }] },
});

describe("service allocation errors", () => {
  test("a ClusterIP already in use is 422 Invalid on spec.clusterIPs", async () => {
    const services = env.client.resource<Service>(refs.services, "default");
    await services.create(svc("first", "10.43.7.7"));
    const err: any = await services.create(svc("second", "10.43.7.7")).catch((e) => e);
    expect(err.code).toBe(422);
    expect(err.reason).toBe("Invalid");
    expect(err.status.kind).toBe("Status");
    expect(err.status.message).toBe(
      'Service "second" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.7.7"}: failed to allocate IP 10.43.7.7: provided IP is already allocated',
    );
    expect(err.status.details).toMatchObject({ name: "second", kind: "Service" });
    expect(err.status.details.causes[0]).toMatchObject({ reason: "FieldValueInvalid", field: "spec.clusterIPs" });
  });

  test("an update to a NodePort already in use is 422 Invalid on that port", async () => {
    const services = env.client.resource<Service>(refs.services, "default");
    const nodePort = (name: string, port?: number): Service => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name },
      spec: { type: "NodePort", ports: [{ port: 80, ...(port ? { nodePort: port } : {}) }] },
    });
    await services.create(nodePort("np-a", 30555));
    const b = await services.create(nodePort("np-b"));
    b.spec!.ports![0]!.nodePort = 30555;
    const err: any = await services.update(b).catch((e) => e);
    expect(err.code).toBe(422);
    expect(err.status.message).toBe(
      'Service "np-b" is invalid: spec.ports[0].nodePort: Invalid value: 30555: provided port is already allocated',
    );
    expect(err.status.details.causes[0]).toMatchObject({ reason: "FieldValueInvalid", field: "spec.ports[0].nodePort" });
  });
});
