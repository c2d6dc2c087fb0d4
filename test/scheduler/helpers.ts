// Shared set-up for scheduler tests against a real control plane with hollow nodes.
import type { Pod } from "kubernetes-types/core/v1";
import { ApiError, createClient, refs, type Client } from "../../internal/client/index.ts";
import { pollUntil } from "../helpers/wait.ts";

/** Pods need their ServiceAccount (normally made by the controller manager, which these tests do not run). */
export async function ensureServiceAccount(c: Client, ns = "default"): Promise<void> {
  if (ns !== "default") {
    try {
      await c.resource(refs.namespaces).create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
  }
  try {
    await c.resource(refs.serviceaccounts, ns).create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}

export function podSpec(name: string, extra: { labels?: Record<string, string>; cpu?: string; memory?: string; spec?: any } = {}): Pod {
  const requests: Record<string, string> = {};
  if (extra.cpu) requests.cpu = extra.cpu;
  if (extra.memory) requests.memory = extra.memory;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: extra.labels },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: "c", image: "registry.k8s.io/pause:3.10", resources: Object.keys(requests).length ? { requests } : undefined }],
      ...extra.spec,
    },
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, fn, timeoutMs);
}

export { createClient };
