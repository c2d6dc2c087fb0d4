// String formats upstream's CRD validator checks (k8s.io/kube-openapi strfmt registry, the subset
// apiextensions accepts). Unknown formats are not checked, as upstream.
import { isIP } from "node:net";

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOSTNAME = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*\.?$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$/;
const DURATION = /^([+-]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w))+$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const BASE64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAC = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;

function validDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(s + "T00:00:00Z");
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

function cidr(s: string): boolean {
  const [ip, bits, extra] = s.split("/");
  if (extra !== undefined || !ip || bits === undefined || !/^\d+$/.test(bits)) return false;
  const v = isIP(ip);
  return v !== 0 && Number(bits) <= (v === 4 ? 32 : 128);
}

const CHECKS: Record<string, (s: string) => boolean> = {
  "date": validDate,
  "date-time": (s) => DATETIME.test(s) && !Number.isNaN(Date.parse(s.replace(" ", "T"))),
  "datetime": (s) => DATETIME.test(s) && !Number.isNaN(Date.parse(s.replace(" ", "T"))),
  "duration": (s) => DURATION.test(s),
  "byte": (s) => BASE64.test(s),
  "uuid": (s) => UUID.test(s),
  "uuid3": (s) => UUID.test(s),
  "uuid4": (s) => UUID.test(s),
  "uuid5": (s) => UUID.test(s),
  "email": (s) => EMAIL.test(s),
  "hostname": (s) => s.length <= 255 && HOSTNAME.test(s),
  "ipv4": (s) => isIP(s) === 4,
  "ipv6": (s) => isIP(s) === 6,
  "cidr": cidr,
  "mac": (s) => MAC.test(s),
  "uri": (s) => URL.canParse(s),
  "isbn": () => true,
  "password": () => true,
};

/** True when the string is valid for the format (or the format is not one upstream checks). */
export function checkStringFormat(format: string, s: string): boolean {
  const f = CHECKS[format];
  if (format === "dns1123subdomain" || format === "k8s-short-name") return DNS1123_SUBDOMAIN.test(s) && s.length <= 253;
  return f ? f(s) : true;
}

/** Integer formats: the value must fit the width. */
export function checkNumberFormat(format: string, n: number): boolean {
  if (format === "int32") return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647;
  if (format === "int64") return Number.isInteger(n);
  return true;
}
