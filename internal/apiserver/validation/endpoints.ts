// Addresses of Endpoints and EndpointSlices, as upstream's validateEndpointAddress / discovery validateEndpoints:
// a valid IP that is not unspecified, loopback or link-local (see endpointip.ts).
import { Errors, child, idx } from "./errors.ts";
import { endpointIPErrors, isIPv4, isIPv6 } from "./endpointip.ts";
import { isObj, type Obj } from "./util.ts";

const INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/**
 * The control plane publishes its own address for the `kubernetes` Service in default/kubernetes; on a machine
 * with no network but loopback (and in tests) that address is 127.0.0.1. Only that loopback case is let through:
 * the proxy refuses loopback targets anyway (subresources/proxy.ts), so it cannot be used to reach the host.
 */
function ownAPIEndpoints(obj: Obj): boolean {
  return obj.metadata?.namespace === "default" && obj.metadata?.name === "kubernetes";
}

function checkIP(e: Errors, field: string, ip: unknown, own: boolean, syntax?: "IPv4" | "IPv6") {
  if (typeof ip !== "string" || ip === "") return e.required(field);
  if (syntax === "IPv4" && !isIPv4(ip)) return e.invalid(field, ip, "must be a valid IPv4 address");
  if (syntax === "IPv6" && !isIPv6(ip)) return e.invalid(field, ip, "must be a valid IPv6 address");
  if (!syntax && !isIPv4(ip) && !isIPv6(ip)) return e.invalid(field, ip, INVALID_IP);
  for (const m of endpointIPErrors(ip)) {
    if (own && m.startsWith("may not be in the loopback range")) continue;
    e.invalid(field, ip, m);
  }
}

export function validateEndpoints(e: Errors, ep: Obj) {
  if (!Array.isArray(ep.subsets)) return;
  const own = ownAPIEndpoints(ep);
  ep.subsets.forEach((s: Obj, i: number) => {
    if (!isObj(s)) return;
    for (const list of ["addresses", "notReadyAddresses"]) {
      if (!Array.isArray(s[list])) continue;
      s[list].forEach((a: Obj, j: number) => {
        if (isObj(a)) checkIP(e, child(idx(child(idx("subsets", i), list), j), "ip"), a.ip, own);
      });
    }
  });
}

export function validateEndpointSliceAddresses(e: Errors, es: Obj) {
  const type = es.addressType;
  if ((type !== "IPv4" && type !== "IPv6") || !Array.isArray(es.endpoints)) return;
  const own = ownAPIEndpoints({ metadata: { namespace: es.metadata?.namespace, name: es.metadata?.labels?.["kubernetes.io/service-name"] } });
  es.endpoints.forEach((ep: Obj, i: number) => {
    if (!isObj(ep) || !Array.isArray(ep.addresses)) return;
    ep.addresses.forEach((a: unknown, j: number) => checkIP(e, idx(child(idx("endpoints", i), "addresses"), j), a, own, type));
  });
}
