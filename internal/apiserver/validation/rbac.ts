// RBAC validation: role rules and bindings.
import { Errors, child, idx } from "./errors.ts";
import { isValidPathSegmentName } from "./names.ts";
import { isObj, type Obj } from "./util.ts";

export function validateRoleRules(e: Errors, rules: unknown, path: string) {
  if (!Array.isArray(rules)) return;
  rules.forEach((r: Obj, i: number) => {
    const p = idx(path, i);
    if (!isObj(r)) return;
    if (!Array.isArray(r.verbs) || r.verbs.length === 0) e.required(child(p, "verbs"), "verbs must contain at least one value");
    const hasNonResource = Array.isArray(r.nonResourceURLs) && r.nonResourceURLs.length > 0;
    if (hasNonResource) {
      if (r.apiGroups?.length || r.resources?.length) e.invalid(child(p, "nonResourceURLs"), r.nonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs");
      return;
    }
    if (!Array.isArray(r.apiGroups) || r.apiGroups.length === 0) e.required(child(p, "apiGroups"), "resource rules must supply at least one api group");
    if (!Array.isArray(r.resources) || r.resources.length === 0) e.required(child(p, "resources"), "resource rules must supply at least one resource");
  });
}

export function validateBinding(e: Errors, b: Obj, namespaced: boolean) {
  const ref = b.roleRef;
  if (!isObj(ref)) e.required("roleRef");
  else {
    const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
    if (!kinds.includes(ref.kind)) e.notSupported("roleRef.kind", ref.kind ?? "", kinds);
    if (ref.apiGroup !== "rbac.authorization.k8s.io") e.notSupported("roleRef.apiGroup", ref.apiGroup ?? "", ["rbac.authorization.k8s.io"]);
    if (!ref.name) e.required("roleRef.name");
    else e.invalidEach("roleRef.name", ref.name, isValidPathSegmentName(String(ref.name)));
  }
  if (Array.isArray(b.subjects)) {
    b.subjects.forEach((s: Obj, i: number) => {
      const p = idx("subjects", i);
      const kinds = ["Group", "ServiceAccount", "User"];
      if (!isObj(s)) return;
      if (!kinds.includes(s.kind)) e.notSupported(child(p, "kind"), s.kind ?? "", kinds);
      if (!s.name) e.required(child(p, "name"));
      if (s.kind === "ServiceAccount" && !namespaced && !s.namespace) e.required(child(p, "namespace"));
    });
  }
}

