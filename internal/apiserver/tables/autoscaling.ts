// `kubectl get hpa` columns as upstream's printer (1.32): Reference, Targets ("cpu: 250%/50%"), MinPods,
// MaxPods, Replicas. Objects without spec.metrics show the API default (cpu at 80 %).
import { AGE, age, col, NAME, type Obj, type Printer } from "./columns.ts";

function metricName(spec: Obj): string {
  return spec.type === "ContainerResource" ? spec.containerResource?.name : spec.type === "Resource" ? spec.resource?.name : spec[lower(spec.type)]?.metric?.name;
}

function lower(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/** Upstream's formatHPAMetrics: at most two metrics, then "+ N more...". */
export function formatHPAMetrics(specs: Obj[] | undefined, statuses: Obj[] | undefined): string {
  const list = specs?.length ? specs : [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }];
  const out: string[] = [];
  const max = 2;
  for (let i = 0; i < list.length && out.length < max; i++) {
    const spec = list[i]!;
    const st = statuses?.[i];
    const src = spec.type === "ContainerResource" ? spec.containerResource : spec.type === "Resource" ? spec.resource : spec[lower(spec.type)];
    const stSrc = st ? (st.type === "ContainerResource" ? st.containerResource : st.type === "Resource" ? st.resource : st[lower(st.type)]) : undefined;
    const target = src?.target ?? {};
    const name = metricName(spec) ?? "<unknown>";
    if (target.averageUtilization !== undefined || (target.type === "Utilization" && target.averageValue === undefined)) {
      const current = stSrc?.current?.averageUtilization !== undefined ? `${stSrc.current.averageUtilization}%` : "<unknown>";
      const tgt = target.averageUtilization !== undefined ? `${target.averageUtilization}%` : "<auto>";
      out.push(`${name}: ${current}/${tgt}`);
    } else if (target.averageValue !== undefined) {
      const current = stSrc?.current?.averageValue !== undefined ? String(stSrc.current.averageValue) : "<unknown>";
      out.push(`${name}: ${current}/${target.averageValue}`);
    } else {
      const current = stSrc?.current?.value !== undefined ? String(stSrc.current.value) : "<unknown>";
      out.push(`${name}: ${current}/${target.value ?? "<unknown>"}`);
    }
  }
  const ret = out.join(", ");
  return list.length > max ? `${ret} + ${list.length - max} more...` : ret;
}

export const horizontalpodautoscalers: Printer = {
  columns: [
    NAME,
    col("Reference", "string", "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count."),
    col("Targets", "string", "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used)."),
    col("MinPods", "string", "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down. It defaults to 1 pod."),
    col("MaxPods", "string", "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas."),
    col("Replicas", "string", "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler."),
    AGE,
  ],
  cells(h, now) {
    const ref = h.spec?.scaleTargetRef ?? {};
    // autoscaling/v1 objects carry one CPU target in other fields.
    const specs = h.spec?.metrics ?? (h.spec?.targetCPUUtilizationPercentage !== undefined ? [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: h.spec.targetCPUUtilizationPercentage } } }] : undefined);
    const statuses = h.status?.currentMetrics ?? (h.status?.currentCPUUtilizationPercentage !== undefined ? [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: h.status.currentCPUUtilizationPercentage } } }] : undefined);
    return [
      h.metadata?.name,
      `${ref.kind}/${ref.name}`,
      formatHPAMetrics(specs, statuses),
      h.spec?.minReplicas !== undefined ? String(h.spec.minReplicas) : "<unset>",
      h.spec?.maxReplicas ?? 0,
      h.status?.currentReplicas ?? 0,
      age(h, now),
    ];
  },
};
