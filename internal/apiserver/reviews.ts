// The review APIs (create-only, never stored): TokenReview, SelfSubjectReview and the access reviews,
// computed with the same authenticator and authorizer that guard every request.
import type { RequestAttributes, UserInfo } from "../auth/types.ts";
import { readObject } from "./body.ts";
import type { Rest } from "./rest.ts";
import { json } from "./respond.ts";
import { groupVersion } from "../api/resources.ts";
import { badRequest, invalid } from "../api/status.ts";

function userInfoOut(u: UserInfo): Record<string, unknown> {
  const o: Record<string, unknown> = { username: u.username, groups: u.groups };
  if (u.uid) o.uid = u.uid;
  if (u.extra && Object.keys(u.extra).length) o.extra = u.extra;
  return o;
}

function attributes(user: UserInfo, spec: any, forcedNamespace?: string): RequestAttributes {
  const ra = spec?.resourceAttributes;
  const nra = spec?.nonResourceAttributes;
  if (ra) {
    return {
      user,
      verb: ra.verb ?? "",
      resourceRequest: true,
      apiGroup: ra.group ?? "",
      apiVersion: ra.version,
      resource: ra.resource ?? "",
      subresource: ra.subresource || undefined,
      namespace: forcedNamespace ?? (ra.namespace || undefined),
      name: ra.name || undefined,
    };
  }
  return { user, verb: nra?.verb ?? "", resourceRequest: false, path: nra?.path ?? "" };
}

export async function handleReview(r: Rest): Promise<Response> {
  const body = (await readObject(r.c)) as any;
  const gv = groupVersion(r.ri);
  if (body.apiVersion && body.apiVersion !== gv) {
    throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${gv})`);
  }
  if (body.kind && body.kind !== r.ri.kind) throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${r.ri.kind})`);
  const out: any = { kind: r.ri.kind, apiVersion: gv, metadata: { ...(body.metadata ?? {}) }, spec: body.spec ?? {} };
  const spec = out.spec;

  switch (r.ri.resource) {
    case "tokenreviews": {
      if (!spec.token) throw invalid(r.ri, "", [{ reason: "FieldValueRequired", message: "Required value: token must be specified", field: "spec.token" }]);
      // reviewToken (auth) checks the requested audiences and reports the accepted ones, as upstream.
      const authn = r.deps.authenticator as { reviewToken?: (t: string, a?: string[]) => Promise<{ user: UserInfo; audiences: string[] } | null> };
      const audiences: string[] | undefined = spec.audiences?.length ? spec.audiences : undefined;
      const review = authn.reviewToken
        ? await authn.reviewToken(spec.token, audiences)
        : await r.deps.authenticator.authenticateToken(spec.token).then((u) => (u ? { user: u, audiences: audiences ?? [] } : null));
      out.status = review
        ? { authenticated: true, user: userInfoOut(review.user), audiences: review.audiences }
        : { authenticated: false, user: {}, error: "invalid bearer token" };
      break;
    }
    case "selfsubjectreviews":
      out.status = { userInfo: userInfoOut(r.user) };
      delete out.spec;
      break;
    case "selfsubjectaccessreviews":
    case "subjectaccessreviews":
    case "localsubjectaccessreviews": {
      if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
        throw invalid(r.ri, "", [{ reason: "FieldValueRequired", message: "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified", field: "spec.resourceAttributes" }]);
      }
      let subject = r.user;
      if (r.ri.resource !== "selfsubjectaccessreviews") {
        if (!spec.user && !(spec.groups ?? []).length) {
          throw invalid(r.ri, "", [{ reason: "FieldValueRequired", message: "Required value: at least one of user or group must be specified", field: "spec.user" }]);
        }
        subject = { username: spec.user ?? "", groups: spec.groups ?? [], uid: spec.uid, extra: spec.extra };
      }
      let ns: string | undefined;
      if (r.ri.resource === "localsubjectaccessreviews") {
        ns = r.namespace;
        const given = spec.resourceAttributes?.namespace;
        if (given !== undefined && given !== "" && given !== ns) {
          throw invalid(r.ri, "", [{ reason: "FieldValueInvalid", message: `Invalid value: "${given}": must match metadata.namespace`, field: "spec.resourceAttributes.namespace" }]);
        }
        out.metadata.namespace = ns;
      }
      const d = await r.deps.authorizer.authorize(attributes(subject, spec, ns));
      out.status = { allowed: d.decision === "allow" };
      if (d.decision === "deny") out.status.denied = true;
      if (d.reason) out.status.reason = d.reason;
      break;
    }
    case "selfsubjectrulesreview":
    case "selfsubjectrulesreviews": {
      const ns = spec.namespace ?? "";
      const rules = (r.deps.authorizer as any).rulesFor
        ? await (r.deps.authorizer as any).rulesFor(r.user, ns)
        : { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: "rule listing not supported by the authorizer" };
      out.status = rules;
      break;
    }
    default:
      throw badRequest(`unsupported review ${r.ri.resource}`);
  }
  return json(r.c, out, 201);
}
