// Subresources other than status/finalize (which the generic handlers serve), by name.
import type { Rest } from "../rest.ts";
import { handleBinding } from "./binding.ts";
import { handleEviction } from "./eviction.ts";
import { handleKubeletSubresource } from "./kubelet.ts";
import { handleScale } from "./scale.ts";
import { handleToken } from "./token.ts";
import { withConnectAdmission } from "./connect.ts";

export type SubresourceHandler = (r: Rest, method: string) => Promise<Response>;

export const SUBRESOURCE_HANDLERS: Record<string, SubresourceHandler> = {
  scale: handleScale,
  binding: handleBinding,
  eviction: handleEviction,
  token: handleToken,
  log: handleKubeletSubresource,
  exec: withConnectAdmission(handleKubeletSubresource),
  attach: withConnectAdmission(handleKubeletSubresource),
  portforward: withConnectAdmission(handleKubeletSubresource),
  proxy: withConnectAdmission(handleKubeletSubresource),
};
export { handleBinding };
