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
});
