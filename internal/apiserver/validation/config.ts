// ConfigMap and Secret validation (keys, total size, per-type required keys).
import { Errors, idx } from "./errors.ts";
import { isConfigMapKey } from "./names.ts";
import { isObj, type Obj } from "./util.ts";

const MAX_DATA_SIZE = 1024 * 1024;

export function validateConfigMap(e: Errors, cm: Obj) {
  let size = 0;
  const data = isObj(cm.data) ? cm.data : {};
  const bin = isObj(cm.binaryData) ? cm.binaryData : {};
  for (const [k, v] of Object.entries(data)) {
    e.invalidEach(idx("data", k), k, isConfigMapKey(k));
    size += k.length + String(v ?? "").length;
  }
  for (const [k, v] of Object.entries(bin)) {
    e.invalidEach(idx("binaryData", k), k, isConfigMapKey(k));
    if (k in data) e.invalid(idx("binaryData", k), k, "duplicate of key present in data");
    size += k.length + base64Size(String(v ?? ""));
  }
  if (size > MAX_DATA_SIZE) e.tooLong("", MAX_DATA_SIZE);
}

/** Decoded size of a base64 string. */
function base64Size(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

export function validateSecret(e: Errors, s: Obj) {
  let size = 0;
  for (const [k, v] of Object.entries(isObj(s.data) ? s.data : {})) {
    e.invalidEach(idx("data", k), k, isConfigMapKey(k));
    size += base64Size(String(v ?? ""));
  }
  // stringData is merged into data (overriding it) on write.
  for (const [k, v] of Object.entries(isObj(s.stringData) ? s.stringData : {})) {
    e.invalidEach(idx("stringData", k), k, isConfigMapKey(k));
    size += String(v ?? "").length;
  }
  if (size > MAX_DATA_SIZE) e.tooLong("data", MAX_DATA_SIZE);
  const data = { ...(s.data ?? {}), ...(s.stringData ?? {}) };
  switch (s.type) {
    case "kubernetes.io/tls":
      for (const k of ["tls.crt", "tls.key"]) if (!(k in data)) e.required(idx("data", k));
      break;
    case "kubernetes.io/dockerconfigjson":
      if (!(".dockerconfigjson" in data)) e.required(idx("data", ".dockerconfigjson"));
      break;
    case "kubernetes.io/dockercfg":
      if (!(".dockercfg" in data)) e.required(idx("data", ".dockercfg"));
      break;
    case "kubernetes.io/service-account-token":
      if (!s.metadata?.annotations?.["kubernetes.io/service-account.name"]) e.required("metadata.annotations[kubernetes.io/service-account.name]");
      break;
    case "kubernetes.io/basic-auth":
      if (!("username" in data) && !("password" in data)) e.required(idx("data", "username"));
      break;
    case "kubernetes.io/ssh-auth":
      if (!("ssh-privatekey" in data)) e.required(idx("data", "ssh-privatekey"));
      break;
  }
}

