// registries.yaml (k3s format) → containerd hosts directory for `ctr images pull --hosts-dir`.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRegistries } from "../../internal/runtime/registries.ts";
import { normalizeRef } from "../../internal/runtime/ctr.ts";

const dir = mkdtempSync(join(tmpdir(), "kubun-reg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("mirrors, plain-HTTP endpoints, TLS skip-verify and auth are rendered for containerd", () => {
  const cfg = join(dir, "registries.yaml");
  writeFileSync(
    cfg,
    `mirrors:
  docker.io:
    endpoint:
      - "http://mirror.local:5000"
  registry.lan:5443:
    endpoint:
      - "https://registry.lan:5443"
configs:
  "registry.lan:5443":
    tls:
      insecure_skip_verify: true
    auth:
      username: bob
      password: pw
`,
  );
  const r = loadRegistries(cfg, join(dir, "hosts"));
  expect(r.hostsDir).toBe(join(dir, "hosts"));
  expect(r.plainHttp).toEqual(["mirror.local:5000"]);
  expect(r.auth).toEqual({ "registry.lan:5443": "bob:pw" });
  const docker = readFileSync(join(dir, "hosts", "docker.io", "hosts.toml"), "utf8");
  expect(docker).toContain('server = "https://registry-1.docker.io"');
  expect(docker).toContain('[host."http://mirror.local:5000"]');
  expect(docker).toContain('capabilities = ["pull","resolve"]');
  const lan = readFileSync(join(dir, "hosts", "registry.lan:5443", "hosts.toml"), "utf8");
  expect(lan).toContain('[host."https://registry.lan:5443"]');
  expect(lan).toContain("skip_verify = true");
});

test("no registries.yaml: nothing configured", () => {
  expect(loadRegistries(join(dir, "missing.yaml"), join(dir, "h2"))).toEqual({ plainHttp: [], auth: {} });
});

test("invalid YAML is a clear error", () => {
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "mirrors: [unclosed");
  expect(() => loadRegistries(bad, join(dir, "h3"))).toThrow(/bad\.yaml: invalid YAML/);
});

test("image references are normalised as containerd does", () => {
  expect(normalizeRef("busybox")).toBe("docker.io/library/busybox:latest");
  expect(normalizeRef("busybox:1.36")).toBe("docker.io/library/busybox:1.36");
  expect(normalizeRef("user/app")).toBe("docker.io/user/app:latest");
  expect(normalizeRef("localhost:5000/app")).toBe("localhost:5000/app:latest");
  expect(normalizeRef("ghcr.io/o/app@sha256:abc")).toBe("ghcr.io/o/app@sha256:abc");
});
