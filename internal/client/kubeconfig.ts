// Reads a kubeconfig file (the one `kubun server` writes, or any token-based one) into a ClientConfig.

import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { ClientConfig } from "./types.ts";

export function fromKubeconfig(path: string, context?: string): ClientConfig {
  const text = readFileSync(path, "utf8");
  return parseKubeconfig(text, context, path);
}

export function parseKubeconfig(text: string, context?: string, source = "kubeconfig"): ClientConfig {
  const doc = parse(text) ?? {};
  const ctxName = context ?? doc["current-context"];
  const ctx = (doc.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? doc.contexts?.[0]?.context;
  if (!ctx) throw new Error(`${source}: no context ${ctxName ?? ""}`.trim());
  const cluster = (doc.clusters ?? []).find((c: any) => c.name === ctx.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`${source}: cluster ${ctx.cluster} has no server`);
  const user = (doc.users ?? []).find((u: any) => u.name === ctx.user)?.user ?? {};
  let caPEM: string | undefined;
  if (cluster["certificate-authority-data"]) {
    caPEM = Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8");
  } else if (cluster["certificate-authority"]) {
    caPEM = readFileSync(cluster["certificate-authority"], "utf8");
  }
  let token: string = user.token ?? "";
  if (!token && user.tokenFile) token = readFileSync(user.tokenFile, "utf8").trim();
  if (!token) throw new Error(`${source}: user ${ctx.user} has no token (kubun's client uses bearer tokens only)`);
  return { server: cluster.server, token, caPEM };
}
