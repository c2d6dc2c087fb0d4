// The dashboard's static files on the API port: public, small, self-contained (no CDN), with a strict CSP,
// while every data call still needs a token; `--disable dashboard` (ControlPlaneOptions.dashboard=false) removes it.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { buildClient } from "../../internal/dashboard/bundle.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);

let cluster: TestCluster;
let off: TestCluster;

beforeAll(async () => {
  [cluster, off] = await Promise.all([startTestCluster(), startTestCluster({ dashboard: false })]);
});
afterAll(async () => {
  await Promise.all([cluster?.stop(), off?.stop()]);
});

test("GET /dashboard redirects to /dashboard/, which serves the page without a token", async () => {
  const r = await cluster.api("/dashboard", { token: null, redirect: "manual" });
  expect(r.status).toBe(301);
  expect(r.headers.get("location")).toBe("/dashboard/");
  const page = await cluster.api("/dashboard/", { token: null });
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toStartWith("text/html");
  expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
  expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
  const body = await page.text();
  expect(body).toContain('<script type="module" src="app.js">');
  expect(body).not.toContain(cluster.adminToken);
});

test("app.js is gzipped, at most 300 KB compressed, and loads nothing from the internet", async () => {
  const r = await cluster.api("/dashboard/app.js", { token: null, headers: { "Accept-Encoding": "gzip" }, decompress: false } as RequestInit);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-encoding")).toBe("gzip");
  const gz = new Uint8Array(await r.arrayBuffer());
  expect(gz.length).toBeLessThanOrEqual(300 * 1024);
  const js = new TextDecoder().decode(Bun.gunzipSync(gz));
  expect(js).toContain("kubun.dashboard.token");
  // No fetched fonts, scripts or styles: every URL the bundle could load is relative to this server.
  expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z]/i);
  const etag = r.headers.get("etag")!;
  expect((await cluster.api("/dashboard/app.js", { token: null, headers: { "If-None-Match": etag } })).status).toBe(304);
});

test("the bundle a build embeds is the one a checkout serves", async () => {
  const served = await (await cluster.api("/dashboard/app.js", { token: null })).text();
  expect(served).toBe(await buildClient());
});

test("unknown dashboard paths are 404; API data still needs a token", async () => {
  expect((await cluster.api("/dashboard/secret.txt", { token: null })).status).toBe(404);
  expect((await cluster.api("/api/v1/nodes", { token: null })).status).toBe(401);
});

test("--disable dashboard: nothing is served under /dashboard/", async () => {
  expect((await off.api("/dashboard/", { token: null })).status).toBe(401);
  expect((await off.api("/dashboard/app.js")).status).toBe(404);
});
