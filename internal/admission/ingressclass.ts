// DefaultIngressClass admission, as upstream's plugin/pkg/admission/network/defaultingressclass: a new Ingress that
// names no class (no spec.ingressClassName, no kubernetes.io/ingress.class annotation) gets the IngressClass marked
// ingressclass.kubernetes.io/is-default-class: "true" — the newest one when several are marked.
import type { Ingress, IngressClass } from "kubernetes-types/networking/v1";
import type { AdmissionPlugin } from "./types.ts";
import type { Getter } from "./deps.ts";
import { newestDefaultClass } from "../api/defaultclass.ts";
import { DEFAULT_CLASS_ANNOTATION, LEGACY_CLASS_ANNOTATION } from "../api/ingress.ts";

export function pickDefaultIngressClass(classes: IngressClass[]): IngressClass | undefined {
  return newestDefaultClass(classes, (c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true");
}

export function defaultIngressClassAdmission(get: Getter): AdmissionPlugin {
  return {
    name: "DefaultIngressClass",
    async admit(req) {
      if (req.operation !== "CREATE" || req.group !== "networking.k8s.io" || req.resource !== "ingresses" || req.subresource) return;
      const ing = req.object as Ingress | undefined;
      if (!ing || typeof ing !== "object" || (ing.spec != null && typeof ing.spec !== "object")) return;
      if (ing.spec?.ingressClassName != null) return;
      if (ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION] !== undefined) return;
      const def = pickDefaultIngressClass(await get.list<IngressClass>("networking.k8s.io", "ingressclasses"));
      if (def?.metadata?.name) (ing.spec ??= {}).ingressClassName = def.metadata.name;
    },
  };
}
