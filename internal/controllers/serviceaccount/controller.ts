// ServiceAccount controller + root-ca-cert-publisher: every active namespace has a `default` ServiceAccount
// and a `kube-root-ca.crt` ConfigMap holding the cluster CA (key ca.crt), recreated if deleted, as upstream.

import type { ConfigMap, Namespace, ServiceAccount } from "kubernetes-types/core/v1";
import type { Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";

export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

export function newServiceAccountController(ctx: ControllerContext): Controller {
  const nsInf: Informer<Namespace> = ctx.informers.informerFor<Namespace>(refs.namespaces);
  const saInf: Informer<ServiceAccount> = ctx.informers.informerFor<ServiceAccount>(refs.serviceaccounts);
  // Only the one ConfigMap per namespace we publish: user ConfigMaps can be large.
  const cmInf: Informer<ConfigMap> = ctx.informers.informerFor<ConfigMap>(refs.configmaps, { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
  const { queue, run } = controllerQueue(ctx, "serviceaccount");
  const caPEM = ctx.cfg.caPEM;

  nsInf.addEventHandler({ onAdd: (n) => queue.add(n.metadata!.name!), onUpdate: (_o, n) => queue.add(n.metadata!.name!) });
  saInf.addEventHandler({
    onDelete: (sa) => {
      if (sa.metadata?.name === "default") queue.add(sa.metadata.namespace!);
    },
  });
  const cmChanged = (cm: ConfigMap) => {
    if (cm.metadata?.name === ROOT_CA_CONFIGMAP) queue.add(cm.metadata.namespace!);
  };
  cmInf.addEventHandler({ onUpdate: (_o, cm) => cmChanged(cm), onDelete: cmChanged });

  const ignorable = (e: unknown) =>
    e instanceof ApiError && (e.code === 409 || e.code === 404 || (e.code === 403 && /terminat/i.test(e.message)));

  async function sync(ns: string): Promise<void> {
    const n = nsInf.get(ns);
    if (!n || n.metadata?.deletionTimestamp || n.status?.phase === "Terminating") return;
    if (!saInf.getByName(ns, "default")) {
      try {
        await ctx.client.resource<ServiceAccount>(refs.serviceaccounts, ns).create({
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: "default", namespace: ns },
        });
      } catch (e) {
        if (!ignorable(e)) throw e;
      }
    }
    if (!caPEM) return;
    const cms = ctx.client.resource<ConfigMap>(refs.configmaps, ns);
    const cm = cmInf.getByName(ns, ROOT_CA_CONFIGMAP);
    try {
      if (!cm) {
        await cms.create({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: ROOT_CA_CONFIGMAP, namespace: ns, annotations: { "kubernetes.io/description": DESCRIPTION } },
          data: { "ca.crt": caPEM },
        });
      } else if (cm.data?.["ca.crt"] !== caPEM) {
        await cms.update({ ...structuredClone(cm), data: { ...(cm.data ?? {}), "ca.crt": caPEM } });
      }
    } catch (e) {
      if (!ignorable(e)) throw e;
    }
  }

  return { name: "serviceaccount", run: () => run(sync) };
}
