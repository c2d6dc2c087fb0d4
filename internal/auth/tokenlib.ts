// Adapter from the authenticator to the TokenLib the API server calls (internal/auth/types.ts) for
// POST .../serviceaccounts/<name>/token, with upstream's TokenRequest semantics for spec.boundObjectRef
// (pkg/registry/core/serviceaccount/storage/token.go): the bound Pod/Secret/Node must exist, a Pod must run as this
// ServiceAccount, a given uid must match, and pod-bound tokens also record the pod's node.
import type { TokenLib } from "./types.ts";
import { StatusError } from "../api/status.ts";
import type { Store } from "../store/types.ts";
import type { KubunAuthenticator } from "./authenticator.ts";
import { TokenRequestError, type BoundObjectRef } from "./serviceaccount/jwt.ts";

async function getObject(store: Store, key: string): Promise<any | undefined> {
  const { kv } = await store.get(key);
  return kv ? JSON.parse(kv.value) : undefined;
}

function notFound(resource: string, name: string): StatusError {
  return new StatusError(404, "NotFound", `${resource} "${name}" not found`, { name, kind: resource });
}

export function tokenLib(authn: KubunAuthenticator): TokenLib {
  return {
    async issueServiceAccountToken({ namespace, serviceAccount, audiences, expirationSeconds, boundObject }) {
      const saName: string = serviceAccount.metadata.name;
      let bound: BoundObjectRef | undefined;
      let node: { name: string; uid: string } | undefined;
      const store = authn.store;
      if (boundObject && store) {
        const { kind, name } = boundObject;
        const apiVersion = boundObject.apiVersion ?? "v1";
        let obj: any;
        if (apiVersion === "v1" && kind === "Pod") {
          obj = await getObject(store, `/registry/core/pods/${namespace}/${name}`);
          if (!obj) throw notFound("pods", name);
          if ((obj.spec?.serviceAccountName ?? "default") !== saName) {
            throw new StatusError(400, "BadRequest", `cannot bind token for serviceaccount "${saName}" to pod running with different serviceaccount name.`);
          }
          const nodeName = obj.spec?.nodeName;
          if (nodeName) {
            const n = await getObject(store, `/registry/core/nodes/${nodeName}`);
            if (n?.metadata?.uid) node = { name: nodeName, uid: n.metadata.uid };
          }
        } else if (apiVersion === "v1" && kind === "Secret") {
          obj = await getObject(store, `/registry/core/secrets/${namespace}/${name}`);
          if (!obj) throw notFound("secrets", name);
        } else if (apiVersion === "v1" && kind === "Node") {
          obj = await getObject(store, `/registry/core/nodes/${name}`);
          if (!obj) throw notFound("nodes", name);
        } else {
          const gvk = apiVersion.includes("/") ? `${apiVersion}, Kind=${kind}` : `/${apiVersion}, Kind=${kind}`;
          throw new StatusError(400, "BadRequest", `cannot bind token to object of type ${gvk}`);
        }
        const uid: string = obj.metadata?.uid ?? "";
        if (boundObject.uid && boundObject.uid !== uid) {
          throw new StatusError(
            409,
            "Conflict",
            `Operation cannot be fulfilled on ${kind} "${name}": the UID in the bound object reference (${boundObject.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
            { name, kind },
          );
        }
        bound = { kind: kind as BoundObjectRef["kind"], name, uid, apiVersion };
      } else if (boundObject) {
        bound = boundObject as BoundObjectRef;
      }
      try {
        return await authn.issueServiceAccountToken({
          namespace,
          name: saName,
          uid: serviceAccount.metadata.uid,
          audiences,
          expirationSeconds,
          boundObject: bound,
          node,
        });
      } catch (err) {
        if (err instanceof TokenRequestError) {
          const name = saName;
          throw new StatusError(422, "Invalid", `TokenRequest.authentication.k8s.io "${name}" is invalid: ${err.field}: ${err.message}`, {
            name,
            group: "authentication.k8s.io",
            kind: "TokenRequest",
            causes: [{ reason: "FieldValueInvalid", message: err.message, field: err.field }],
          });
        }
        throw err;
      }
    },
  };
}
