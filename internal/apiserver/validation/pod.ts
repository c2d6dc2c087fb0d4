// Pod spec validation (pkg/apis/core/validation: ValidatePodSpec and friends), shared by pods and the
// pod templates of workloads. Messages and field paths follow upstream.
import { Errors, child, idx } from "./errors.ts";
import { isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isValidPortName, isValidPortNum } from "./names.ts";
import { isQuantity, quantityValue } from "../../api/quantity.ts";
import { validateLabels, validateObjectMetaLabelsAndAnnotations } from "./meta.ts";

type Obj = Record<string, any>;

const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"];

export interface PodSpecOptions {
  /** Restart policies a template may use (Deployment: Always only; Job: OnFailure, Never). */
  restartPolicies?: string[];
  /** Volume names provided from outside the pod spec (a StatefulSet's volumeClaimTemplates). */
  extraVolumes?: string[];
}

function isObj(v: unknown): v is Obj {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function validateResources(e: Errors, r: unknown, path: string) {
  if (r === undefined || r === null) return;
  if (!isObj(r)) return e.invalid(path, r, "must be an object");
  const limits = isObj(r.limits) ? r.limits : {};
  const requests = isObj(r.requests) ? r.requests : {};
  for (const [kind, list] of [["limits", limits], ["requests", requests]] as const) {
    for (const [name, q] of Object.entries(list)) {
      const p = idx(child(path, kind), name);
      if (!isQuantity(q)) {
        e.invalid(p, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        continue;
      }
      if (quantityValue(q as string) < 0) e.invalid(p, String(q), "must be greater than or equal to 0");
    }
  }
  for (const [name, q] of Object.entries(requests)) {
    const lim = limits[name];
    if (lim === undefined || !isQuantity(q) || !isQuantity(lim)) continue;
    if (quantityValue(q as string) > quantityValue(lim as string)) {
      e.invalid(idx(child(path, "requests"), name), String(q), `must be less than or equal to ${name} limit of ${lim}`);
    }
  }
}

function validatePorts(e: Errors, ports: unknown, path: string) {
  if (ports === undefined || ports === null) return;
  if (!Array.isArray(ports)) return e.invalid(path, ports, "must be a list");
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p: Obj, i) => {
    const pp = idx(path, i);
    if (!isObj(p)) return e.invalid(pp, p, "must be an object");
    if (p.name !== undefined && p.name !== "") {
      e.invalidEach(child(pp, "name"), p.name, isValidPortName(String(p.name)));
      if (names.has(p.name)) e.duplicate(child(pp, "name"), p.name);
      names.add(p.name);
    }
    if (p.containerPort === undefined || p.containerPort === 0) e.required(child(pp, "containerPort"));
    else e.invalidEach(child(pp, "containerPort"), p.containerPort, isValidPortNum(p.containerPort));
    if (p.hostPort !== undefined && p.hostPort !== 0) e.invalidEach(child(pp, "hostPort"), p.hostPort, isValidPortNum(p.hostPort));
    if (p.protocol === undefined || p.protocol === "") e.required(child(pp, "protocol"));
    else if (!PROTOCOLS.includes(p.protocol)) e.notSupported(child(pp, "protocol"), p.protocol, PROTOCOLS);
    const key = `${p.containerPort}/${p.protocol}/${p.hostIP ?? ""}/${p.hostPort ?? ""}`;
    if (p.containerPort && seen.has(key)) e.duplicate(pp, `${p.containerPort}/${p.protocol}`);
    seen.add(key);
  });
}

function validateProbe(e: Errors, probe: unknown, path: string) {
  if (!isObj(probe)) return;
  const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => probe[h] !== undefined);
  if (handlers.length === 0) e.required(path, "must specify a handler type");
  else if (handlers.length > 1) e.forbidden(child(path, handlers[1]!), "may not specify more than 1 handler type");
  for (const f of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    if (typeof probe[f] === "number" && probe[f] < 0) e.invalid(child(path, f), probe[f], "must be greater than or equal to 0");
  }
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
  const portPath = child(child(path, probe.httpGet ? "httpGet" : "tcpSocket"), "port");
  if (typeof port === "number") e.invalidEach(portPath, port, isValidPortNum(port));
  else if (typeof port === "string") e.invalidEach(portPath, port, isValidPortName(port));
}

function validateContainer(e: Errors, c: Obj, path: string, volumes: Set<string>, init: boolean) {
  if (!c.name) e.required(child(path, "name"));
  else e.invalidEach(child(path, "name"), c.name, isDNS1123Label(String(c.name)));
  if (!c.image) e.required(child(path, "image"));
  else if (typeof c.image === "string" && c.image.trim() !== c.image) e.invalid(child(path, "image"), c.image, "must not have leading or trailing whitespace");
  if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(c.imagePullPolicy)) e.notSupported(child(path, "imagePullPolicy"), c.imagePullPolicy, PULL_POLICIES);
  if (c.terminationMessagePolicy !== undefined && !TERMINATION_MESSAGE_POLICIES.includes(c.terminationMessagePolicy)) {
    e.notSupported(child(path, "terminationMessagePolicy"), c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES);
  }
  validatePorts(e, c.ports, child(path, "ports"));
  if (Array.isArray(c.env)) {
    c.env.forEach((ev: Obj, i: number) => {
      const p = idx(child(path, "env"), i);
      if (!isObj(ev) || !ev.name) return e.required(child(p, "name"));
      if (String(ev.name).includes("=")) e.invalid(child(p, "name"), ev.name, "a valid environment variable name must consist only of printable ASCII characters other than '='");
      if (ev.value !== undefined && ev.value !== "" && ev.valueFrom !== undefined) {
        e.invalid(child(p, "valueFrom"), "", "may not be specified when `value` is not empty");
      }
    });
  }
  if (Array.isArray(c.volumeMounts)) {
    const paths = new Set<string>();
    c.volumeMounts.forEach((m: Obj, i: number) => {
      const p = idx(child(path, "volumeMounts"), i);
      if (!isObj(m)) return;
      if (!m.name) e.required(child(p, "name"));
      else if (!volumes.has(m.name)) e.notFound(child(p, "name"), m.name);
      if (!m.mountPath) e.required(child(p, "mountPath"));
      else if (paths.has(m.mountPath)) e.invalid(child(p, "mountPath"), m.mountPath, "must be unique");
      paths.add(m.mountPath);
    });
  }
  validateResources(e, c.resources, child(path, "resources"));
  if (!init) {
    validateProbe(e, c.livenessProbe, child(path, "livenessProbe"));
    validateProbe(e, c.readinessProbe, child(path, "readinessProbe"));
    validateProbe(e, c.startupProbe, child(path, "startupProbe"));
    if (isObj(c.livenessProbe) && c.livenessProbe.successThreshold !== undefined && c.livenessProbe.successThreshold !== 1) {
      e.invalid(child(child(path, "livenessProbe"), "successThreshold"), c.livenessProbe.successThreshold, "must be 1");
    }
  }
}

function validateVolumes(e: Errors, volumes: unknown, path: string): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(volumes)) return names;
  volumes.forEach((v: Obj, i) => {
    const p = idx(path, i);
    if (!isObj(v)) return;
    if (!v.name) e.required(child(p, "name"));
    else {
      e.invalidEach(child(p, "name"), v.name, isDNS1123Label(String(v.name)));
      if (names.has(v.name)) e.duplicate(child(p, "name"), v.name);
      names.add(v.name);
    }
    const sources = Object.keys(v).filter((k) => k !== "name");
    if (sources.length === 0) e.required(p, "must specify a volume type");
    else if (sources.length > 1) e.forbidden(child(p, sources[1]!), "may not specify more than 1 volume type");
    for (const src of ["configMap", "secret"] as const) {
      const items = v[src]?.items;
      if (Array.isArray(items)) {
        items.forEach((it: Obj, j: number) => {
          const ip = idx(child(child(p, src), "items"), j);
          if (!it?.key) e.required(child(ip, "key"));
          else e.invalidEach(child(ip, "key"), it.key, isConfigMapKey(String(it.key)));
          if (!it?.path) e.required(child(ip, "path"));
        });
      }
    }
  });
  return names;
}

export function validatePodSpec(e: Errors, spec: unknown, path: string, opts: PodSpecOptions = {}) {
  if (!isObj(spec)) return e.required(path);
  const volumes = validateVolumes(e, spec.volumes, child(path, "volumes"));
  for (const v of opts.extraVolumes ?? []) volumes.add(v);
  const containers = spec.containers;
  const names = new Map<string, string>();
  const checkName = (c: Obj, p: string) => {
    if (!c?.name) return;
    if (names.has(c.name)) e.duplicate(child(p, "name"), c.name);
    names.set(c.name, p);
  };
  if (Array.isArray(spec.initContainers)) {
    spec.initContainers.forEach((c: Obj, i: number) => {
      const p = idx(child(path, "initContainers"), i);
      if (!isObj(c)) return e.invalid(p, c, "must be an object");
      validateContainer(e, c, p, volumes, true);
      checkName(c, p);
    });
  }
  if (!Array.isArray(containers) || containers.length === 0) e.required(child(path, "containers"));
  else {
    containers.forEach((c: Obj, i: number) => {
      const p = idx(child(path, "containers"), i);
      if (!isObj(c)) return e.invalid(p, c, "must be an object");
      validateContainer(e, c, p, volumes, false);
      checkName(c, p);
    });
  }
  const allowed = opts.restartPolicies ?? RESTART_POLICIES;
  if (spec.restartPolicy === undefined || spec.restartPolicy === "") e.required(child(path, "restartPolicy"));
  else if (!allowed.includes(spec.restartPolicy)) e.notSupported(child(path, "restartPolicy"), spec.restartPolicy, allowed);
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(spec.dnsPolicy)) e.notSupported(child(path, "dnsPolicy"), spec.dnsPolicy, DNS_POLICIES);
  if (spec.dnsPolicy === "None" && !isObj(spec.dnsConfig)) e.required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None");
  if (typeof spec.terminationGracePeriodSeconds === "number" && spec.terminationGracePeriodSeconds < 0) {
    // Upstream tolerates negative values on old objects and rewrites them to 1; new values must be >= 0.
    e.invalid(child(path, "terminationGracePeriodSeconds"), spec.terminationGracePeriodSeconds, "must be greater than or equal to 0");
  }
  if (spec.activeDeadlineSeconds !== undefined && !(typeof spec.activeDeadlineSeconds === "number" && spec.activeDeadlineSeconds > 0)) {
    e.invalid(child(path, "activeDeadlineSeconds"), spec.activeDeadlineSeconds, "must be between 1 and 2147483647, inclusive");
  }
  if (spec.nodeName !== undefined && spec.nodeName !== "") e.invalidEach(child(path, "nodeName"), spec.nodeName, isDNS1123Subdomain(String(spec.nodeName)));
  if (spec.serviceAccountName) e.invalidEach(child(path, "serviceAccountName"), spec.serviceAccountName, isDNS1123Subdomain(String(spec.serviceAccountName)));
  if (spec.hostname) e.invalidEach(child(path, "hostname"), spec.hostname, isDNS1123Label(String(spec.hostname)));
  if (spec.subdomain) e.invalidEach(child(path, "subdomain"), spec.subdomain, isDNS1123Label(String(spec.subdomain)));
  if (isObj(spec.nodeSelector)) validateLabels(e, spec.nodeSelector, child(path, "nodeSelector"));
  if (Array.isArray(spec.tolerations)) {
    spec.tolerations.forEach((t: Obj, i: number) => {
      const p = idx(child(path, "tolerations"), i);
      if (!isObj(t)) return;
      const ops = ["Equal", "Exists"];
      // An empty operator means Equal.
      if (t.operator !== undefined && t.operator !== "" && !ops.includes(t.operator)) e.notSupported(child(p, "operator"), t.operator, ops);
      if (t.operator === "Exists" && t.value) e.invalid(child(p, "operator"), t.value, "value must be empty when `operator` is 'Exists'");
      if (!t.key && t.operator !== "Exists") e.invalid(child(p, "operator"), t.operator ?? "", "operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
      const effects = ["NoExecute", "NoSchedule", "PreferNoSchedule"];
      if (t.effect && !effects.includes(t.effect)) e.notSupported(child(p, "effect"), t.effect, effects);
      if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
        e.invalid(child(p, "effect"), t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set");
      }
    });
  }
}

/** metadata + spec of a pod template; `selectorLabels` (if given) must be matched by the template labels. */
export function validatePodTemplate(e: Errors, tpl: unknown, path: string, opts: PodSpecOptions = {}) {
  if (!isObj(tpl)) return e.required(path);
  if (isObj(tpl.metadata)) validateObjectMetaLabelsAndAnnotations(e, tpl.metadata, child(path, "metadata"));
  validatePodSpec(e, tpl.spec, child(path, "spec"), opts);
}
