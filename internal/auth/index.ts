// Public surface of kubun's authentication/authorization package (see README section in each file).
export { ensurePKI, defaultSANs, tlsDir, PKI_FILES, parseCertificate } from "./pki.ts";
export type { PKI, PKIOptions } from "./pki.ts";
export { ensureTokens, parseToken, formatToken, caHash, adminTokenPath, joinTokenPath } from "./tokens.ts";
export type { Tokens, ParsedToken } from "./tokens.ts";
export { writeKubeconfig, kubeconfigYAML } from "./kubeconfig.ts";
export type { KubeconfigOptions } from "./kubeconfig.ts";
