// Every call the dashboard makes: the ordinary Kubernetes API with the user's bearer token, so RBAC decides.
// The token lives in sessionStorage only (gone when the tab closes; logout clears it).

const TOKEN_KEY = "kubun.dashboard.token";

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  login: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  logout: () => sessionStorage.removeItem(TOKEN_KEY),
};

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void) {
  onUnauthorized = f;
}

export class ApiError extends Error {
  constructor(
    public code: number,
    message: string,
    public reason = "",
  ) {
    super(message);
  }
}

/** The API's Status message (or the body text) of a failed response. */
export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  try {
    const s = JSON.parse(text);
    if (s && s.kind === "Status") return new ApiError(res.status, s.message || s.reason || `HTTP ${res.status}`, s.reason ?? "");
  } catch {}
  return new ApiError(res.status, text.trim() || `HTTP ${res.status} ${res.statusText}`);
}

export async function request(path: string, init: RequestInit = {}, token = session.token()): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (!headers.has("Accept")) headers.set("Accept", "application/json");
  const res = await fetch(path, { ...init, headers, cache: "no-store", credentials: "omit" });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && token === session.token()) onUnauthorized();
    throw err;
  }
  return res;
}

export const getJSON = async (path: string, token?: string): Promise<any> => (await request(path, {}, token ?? session.token())).json();

export async function patch(path: string, body: unknown, type = "application/merge-patch+json"): Promise<any> {
  const res = await request(path, { method: "PATCH", headers: { "Content-Type": type }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return res.json();
}

export async function remove(path: string): Promise<void> {
  await request(path, { method: "DELETE" });
}

/** Server-side apply as the dashboard's own field manager; force takes over fields other managers own. */
export async function applyYAML(path: string, yamlText: string): Promise<any> {
  const res = await request(`${path}?fieldManager=kubun-dashboard&force=true`, {
    method: "PATCH",
    headers: { "Content-Type": "application/apply-patch+yaml" },
    body: yamlText,
  });
  return res.json();
}

export interface Kind {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

const k = (group: string, version: string, resource: string, kind: string, namespaced = true): Kind => ({ group, version, resource, kind, namespaced });

export const KINDS: Record<string, Kind> = {
  nodes: k("", "v1", "nodes", "Node", false),
  namespaces: k("", "v1", "namespaces", "Namespace", false),
  pods: k("", "v1", "pods", "Pod"),
  services: k("", "v1", "services", "Service"),
  events: k("", "v1", "events", "Event"),
  configmaps: k("", "v1", "configmaps", "ConfigMap"),
  leases: k("coordination.k8s.io", "v1", "leases", "Lease"),
  deployments: k("apps", "v1", "deployments", "Deployment"),
  statefulsets: k("apps", "v1", "statefulsets", "StatefulSet"),
  daemonsets: k("apps", "v1", "daemonsets", "DaemonSet"),
  replicasets: k("apps", "v1", "replicasets", "ReplicaSet"),
  jobs: k("batch", "v1", "jobs", "Job"),
  cronjobs: k("batch", "v1", "cronjobs", "CronJob"),
  ingresses: k("networking.k8s.io", "v1", "ingresses", "Ingress"),
};

const base = (kd: Kind) => (kd.group ? `/apis/${kd.group}/${kd.version}` : `/api/${kd.version}`);

/** Collection path; namespace "" means all namespaces. */
export function listPath(kd: Kind, ns: string): string {
  return kd.namespaced && ns ? `${base(kd)}/namespaces/${encodeURIComponent(ns)}/${kd.resource}` : `${base(kd)}/${kd.resource}`;
}

export function objectPath(kd: Kind, ns: string | undefined, name: string): string {
  const coll = kd.namespaced ? `${base(kd)}/namespaces/${encodeURIComponent(ns ?? "default")}/${kd.resource}` : `${base(kd)}/${kd.resource}`;
  return `${coll}/${encodeURIComponent(name)}`;
}

/** The KINDS key of an object by its apiVersion and kind (for YAML links from events and owners). */
export function kindKeyOf(apiVersion: string | undefined, kind: string | undefined): string | undefined {
  const group = apiVersion?.includes("/") ? apiVersion.split("/")[0] : "";
  return Object.keys(KINDS).find((key) => KINDS[key]!.kind === kind && KINDS[key]!.group === group);
}
