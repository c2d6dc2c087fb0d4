import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentFlags, serverFlags } from "../../internal/config/flags.ts";
import { checkUnknownFlags, resolve, UsageError } from "../../internal/config/load.ts";

const dir = mkdtempSync(join(tmpdir(), "kubun-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const empty = join(dir, "empty.yaml");
writeFileSync(empty, "");

function cfg(yaml: string): string {
  const p = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, yaml);
  return p;
}

describe("settings precedence: flag > env > config file > default", () => {
  test("defaults apply when nothing is set", () => {
    const s = resolve(serverFlags, {}, [], { KUBUN_CONFIG_FILE: empty } as any);
    expect(s["https-listen-port"]).toBe(6443);
    expect(s["data-dir"]).toBe("/var/lib/kubun");
    expect(s["service-cidr"]).toBe("10.43.0.0/16");
    expect(s["disable-agent"]).toBe(false);
  });

  test("config file beats defaults, env beats config file, flags beat env", () => {
    const file = cfg("https-listen-port: 7443\ndata-dir: /srv/kubun\nnode-label: [a=b, c=d]\ndisable-agent: true\n");
    const env = { KUBUN_DATA_DIR: "/env/dir" } as any;
    const raw = ["--config", file, "--https-listen-port", "8443"];
    const s = resolve(serverFlags, { config: file, "https-listen-port": "8443" }, raw, env);
    expect(s["https-listen-port"]).toBe(8443);
    expect(s["data-dir"]).toBe("/env/dir");
    expect(s["node-label"]).toEqual(["a=b", "c=d"]);
    expect(s["disable-agent"]).toBe(true);
  });

  test("a relative data dir is made absolute, as k3s does", () => {
    const s = resolve(serverFlags, { "data-dir": "state/kubun" }, ["--data-dir", "state/kubun"], { KUBUN_CONFIG_FILE: empty } as any);
    expect(s["data-dir"]).toBe(join(process.cwd(), "state/kubun"));
    const e = resolve(agentFlags, {}, [], { KUBUN_CONFIG_FILE: empty, KUBUN_DATA_DIR: "./x/../y" } as any);
    expect(e["data-dir"]).toBe(join(process.cwd(), "y"));
  });

  test("repeated list flags collect every value", () => {
    const raw = ["--node-label", "a=1", "--node-label", "b=2"];
    const s = resolve(agentFlags, { "node-label": ["a=1", "b=2"] }, raw, { KUBUN_CONFIG_FILE: empty } as any);
    expect(s["node-label"]).toEqual(["a=1", "b=2"]);
  });

  test("env booleans and numbers are typed", () => {
    const s = resolve(serverFlags, {}, [], { KUBUN_DISABLE_AGENT: "true", KUBUN_HTTPS_LISTEN_PORT: "9443", KUBUN_CONFIG_FILE: empty } as any);
    expect(s["disable-agent"]).toBe(true);
    expect(s["https-listen-port"]).toBe(9443);
  });

  test("bad values are usage errors naming their source", () => {
    expect(() => resolve(serverFlags, {}, [], { KUBUN_HTTPS_LISTEN_PORT: "http", KUBUN_CONFIG_FILE: empty } as any)).toThrow(
      /invalid value "http" for --https-listen-port from \$KUBUN_HTTPS_LISTEN_PORT/,
    );
    const file = cfg("disable-agent: maybe\n");
    expect(() => resolve(serverFlags, { config: file }, ["--config", file], {} as any)).toThrow(/from the config file/);
  });

  test("an explicit config file must exist and be a mapping", () => {
    expect(() => resolve(serverFlags, { config: "/nope.yaml" }, ["--config", "/nope.yaml"], {} as any)).toThrow(UsageError);
    const list = cfg("- a\n- b\n");
    expect(() => resolve(serverFlags, { config: list }, ["--config", list], {} as any)).toThrow(/want a mapping/);
    const broken = cfg("a: [\n");
    expect(() => resolve(serverFlags, { config: broken }, ["--config", broken], {} as any)).toThrow(UsageError);
  });

  test("unknown flags are rejected, known ones and --no-<bool> pass", () => {
    expect(() => checkUnknownFlags("kubun server", serverFlags, ["--bogus"])).toThrow("kubun server: unknown flag --bogus");
    expect(() => checkUnknownFlags("kubun server", serverFlags, ["--data-dir=/x", "-t", "abc", "--no-disable-agent"])).not.toThrow();
    expect(() => checkUnknownFlags("kubun agent", agentFlags, ["--disable-agent"])).toThrow(/unknown flag --disable-agent/);
  });
});
