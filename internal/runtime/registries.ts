// /etc/kubun/registries.yaml (k3s's format: mirrors.<registry>.endpoint[], configs.<host>.tls/auth) rendered
// into a containerd hosts directory (<dir>/<registry>/hosts.toml) that `ctr images pull --hosts-dir` reads.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { logger } from "../log/log.ts";

const log = logger("registries");

export interface RegistriesConfig {
  mirrors?: Record<string, { endpoint?: string[]; rewrite?: Record<string, string> }>;
  configs?: Record<string, { tls?: { insecure_skip_verify?: boolean; ca_file?: string; cert_file?: string; key_file?: string }; auth?: { username?: string; password?: string } }>;
}

export interface Registries {
  hostsDir?: string;
  plainHttp: string[];
  /** "user:password" per registry host, from configs.<host>.auth. */
  auth: Record<string, string>;
}

function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}

export function loadRegistries(path: string, hostsDir: string): Registries {
  const out: Registries = { plainHttp: [], auth: {} };
  if (!existsSync(path)) return out;
  let cfg: RegistriesConfig;
  try {
    cfg = (YAML.parse(readFileSync(path, "utf8")) ?? {}) as RegistriesConfig;
  } catch (e) {
    throw new Error(`${path}: invalid YAML: ${(e as Error).message}`);
  }
  rmSync(hostsDir, { recursive: true, force: true });
  const hostBlock = (endpoint: string, caps: string[]) => {
    const c = cfg.configs?.[hostOf(endpoint)];
    let s = `[host.${JSON.stringify(endpoint.replace(/\/+$/, ""))}]\n  capabilities = ${JSON.stringify(caps)}\n`;
    if (c?.tls?.insecure_skip_verify) s += "  skip_verify = true\n";
    if (c?.tls?.ca_file) s += `  ca = ${JSON.stringify(c.tls.ca_file)}\n`;
    if (c?.tls?.cert_file && c?.tls?.key_file) s += `  client = [[${JSON.stringify(c.tls.cert_file)}, ${JSON.stringify(c.tls.key_file)}]]\n`;
    return s;
  };
  const registries = new Set([...Object.keys(cfg.mirrors ?? {}), ...Object.keys(cfg.configs ?? {})]);
  for (const reg of registries) {
    if (reg === "*") continue;
    const server = reg === "docker.io" ? "https://registry-1.docker.io" : `https://${reg}`;
    let toml = `server = ${JSON.stringify(server)}\n\n`;
    for (const ep of cfg.mirrors?.[reg]?.endpoint ?? []) {
      toml += hostBlock(ep, ["pull", "resolve"]) + "\n";
      if (ep.startsWith("http://")) out.plainHttp.push(hostOf(ep));
    }
    const own = cfg.configs?.[reg];
    if (own?.tls?.insecure_skip_verify) toml += hostBlock(server, ["pull", "resolve", "push"]);
    mkdirSync(join(hostsDir, reg), { recursive: true });
    writeFileSync(join(hostsDir, reg, "hosts.toml"), toml);
    if (own?.auth?.username) out.auth[reg] = `${own.auth.username}:${own.auth.password ?? ""}`;
  }
  out.hostsDir = hostsDir;
  log.info("registries configured", { path, registries: [...registries] });
  return out;
}
