// Well-known names of kubun's built-in ingress: its default IngressClass, controller name and annotations.
export const INGRESS_CLASS = "kubun";
export const INGRESS_CONTROLLER = "kubun.dev/ingress";
export const DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";
/** The pre-IngressClass way of naming a class; an Ingress carrying it is not given the default class. */
export const LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class";
/** "true" on an Ingress: plain-HTTP requests for its TLS hosts are redirected to HTTPS (308). */
export const SSL_REDIRECT_ANNOTATION = "kubun.dev/ssl-redirect";
/** The identity of the agents' ingress proxy (credentials issued at join, like kube-proxy's). */
export const INGRESS_USER = "system:kubun-ingress";

/** Where Ingresses and IngressClasses are served (a client ResourceRef's fields). */
export const INGRESS_REFS = {
  ingresses: { group: "networking.k8s.io", version: "v1", resource: "ingresses", namespaced: true },
  ingressclasses: { group: "networking.k8s.io", version: "v1", resource: "ingressclasses", namespaced: false },
} as const;

/** Node label set by every agent: "false" when its ingress proxy is off (`--disable ingress`). */
export const INGRESS_NODE_LABEL = "kubun.dev/ingress";
