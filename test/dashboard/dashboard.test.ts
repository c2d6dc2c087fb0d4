// The dashboard in a real browser (headless Debian chromium, playwright-core) against a real control plane with a
// controller manager, the scheduler and hollow nodes in two zones: login, node tiles, a node going offline,
// scaling a Deployment, YAML apply with the API's validation error, a view-only token's 403, events, services,
// logout, a phone-sized dark screen, and live lists that survive a server restart. Screenshots of every view go
// to .tmp/dashboard-screenshots/.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { createClient, refs, type Client } from "../../internal/client/index.ts";
import type { ClientConfig } from "../../internal/client/types.ts";
import { startControllerManager } from "../../internal/controllers/index.ts";
import { runHollowNodes, type HollowNodes } from "../../internal/hollow/index.ts";
import { startScheduler } from "../../internal/scheduler/index.ts";
import { deployment } from "../controllers/env.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { pollUntil } from "../helpers/wait.ts";
import { launch, login, newPage, shot, type IsolatedBrowser } from "./browser.ts";

setDefaultTimeout(90_000);

const TMP = join(import.meta.dir, "../../.tmp");
mkdirSync(TMP, { recursive: true });
const dataDir = mkdtempSync(join(TMP, "dashboard-"));
const ac = new AbortController();
let cluster: TestCluster;
let client: Client;
let hollow: HollowNodes;
let isolated: IsolatedBrowser;
let browser: Browser;
let page: Page;
let base: string;
let viewerToken: string;
const running: Promise<unknown>[] = [];

const rowOf = (kind: string, name: string) => `tr[data-kind="${kind}"][data-name="${name}"]`;

beforeAll(async () => {
  cluster = await startTestCluster({ dataDir });
  base = cluster.localURL;
  const admin: ClientConfig = { server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM };
  client = createClient(admin);
  running.push(
    startControllerManager(cluster.componentConfig("controller-manager"), {
      identity: "test-cm",
      serviceCIDR: "10.43.0.0/16",
      clusterCIDR: "10.42.0.0/16",
      apiServerEndpoints: cluster.endpoints,
      leaderElection: false,
      signingCA: cluster.signingCA,
      // A stopped node turns Unknown ("offline") after 3 s instead of 40 s.
      nodeMonitorGracePeriodSeconds: 3,
      nodeMonitorPeriodMs: 500,
      signal: ac.signal,
    }),
    startScheduler(cluster.componentConfig("scheduler"), { identity: "test-sched", leaderElection: false, signal: ac.signal }),
  );
  hollow = runHollowNodes(admin, {
    count: 4,
    prefix: "pi",
    signal: ac.signal,
    renewIntervalSeconds: 0.5,
    labels: (i) => ({ "topology.kubernetes.io/zone": i < 2 ? "shelf-a" : "shelf-b" }),
    taints: (i) => (i === 3 ? [{ key: "dedicated", value: "edge", effect: "PreferNoSchedule" }] : undefined),
  });
  running.push(hollow);
  await hollow.ready;
  await client.resource(refs.deployments, "default").create(deployment("web", 1));
  // A view-only ServiceAccount, as an operator would hand out with kubectl.
  expect((await cluster.kubectl(["create", "serviceaccount", "viewer"])).code).toBe(0);
  expect((await cluster.kubectl(["create", "clusterrolebinding", "viewer", "--clusterrole=view", "--serviceaccount=default:viewer"])).code).toBe(0);
  const tok = await cluster.kubectl(["create", "token", "viewer"]);
  expect(tok.code).toBe(0);
  viewerToken = tok.stdout.trim();
  isolated = await launch(Number(new URL(base).port));
  browser = isolated.browser;
  page = (await newPage(browser)).page;
});

afterAll(async () => {
  await isolated?.close();
  ac.abort();
  await Promise.allSettled(running);
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("dashboard in chromium", () => {
  test("login with the admin token shows every node as a tile, grouped by zone", async () => {
    await page.goto(`${base}/dashboard/`);
    await page.waitForSelector("textarea[name=token]");
    await shot(page, "00-login");
    await page.fill("textarea[name=token]", "not-a-token");
    await page.click("button[type=submit]");
    await page.waitForSelector(".login [role=alert]");
    expect(await page.textContent(".login [role=alert]")).toContain("401");
    await login(page, base, cluster.adminToken);
    // The token is in sessionStorage only.
    expect(await page.evaluate(() => sessionStorage.getItem("kubun.dashboard.token"))).toBe(cluster.adminToken);
    expect(await page.evaluate(() => localStorage.getItem("kubun.dashboard.token"))).toBeNull();
    for (const n of ["pi-0", "pi-1", "pi-2", "pi-3"]) await page.waitForSelector(`.tile[data-node="${n}"][data-state="ready"]`);
    expect(await page.$$eval('section[data-group="shelf-a"] .tile', (t) => t.map((e) => e.getAttribute("data-node")))).toEqual(["pi-0", "pi-1"]);
    expect(await page.$$eval('section[data-group="shelf-b"] .tile', (t) => t.map((e) => e.getAttribute("data-node")))).toEqual(["pi-2", "pi-3"]);
    const tile = await page.textContent('.tile[data-node="pi-3"]');
    expect(tile).toContain("dedicated=edge:PreferNoSchedule");
    expect(tile).toMatch(/heartbeat\s*\d+s ago/);
    await shot(page, "01-fleet");
  });

  test("a stopped hollow node turns offline on its tile", async () => {
    hollow.stopNode("pi-2");
    await page.waitForSelector('.tile[data-node="pi-2"][data-state="offline"]', { timeout: 60_000 });
    expect(await page.textContent('.tile[data-node="pi-2"] [data-testid=node-state]')).toBe("Offline");
    expect(await page.textContent('.tile[data-node="pi-2"]')).toContain("offline for");
    expect(await page.getAttribute('.tile[data-node="pi-2"]', "class")).toContain("offline");
    expect(await page.textContent("[data-testid=offline-count]")).toContain("1 offline");
    await shot(page, "02-fleet-offline");
    hollow.startNode("pi-2");
    await page.waitForSelector('.tile[data-node="pi-2"][data-state="ready"]', { timeout: 60_000 });
  });

  test("scaling a Deployment from the workloads view brings its pods into the pods view", async () => {
    await page.goto(`${base}/dashboard/#/workloads`);
    await page.waitForSelector(rowOf("deployments", "web"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "1/1", `${rowOf("deployments", "web")} [data-testid=ready]`, { timeout: 60_000 });
    await page.fill(`${rowOf("deployments", "web")} input[name=replicas]`, "3");
    await page.click(`${rowOf("deployments", "web")} button[data-action=scale]`);
    await page.waitForSelector("[data-testid=action-note]");
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "3/3", `${rowOf("deployments", "web")} [data-testid=ready]`, { timeout: 60_000 });
    await shot(page, "03-workloads");
    await page.click('nav a[href="#/pods"]');
    await page.waitForFunction(() => [...document.querySelectorAll("tr[data-pod^=web-] [data-testid=pod-status]")].filter((e) => e.textContent === "Running").length === 3, undefined, { timeout: 60_000 });
    const nodes = await page.$$eval("tr[data-pod^=web-] td:nth-child(6)", (tds) => tds.map((t) => t.textContent));
    expect(nodes.every((n) => /^pi-\d$/.test(n ?? ""))).toBe(true);
    await shot(page, "04-pods");
  });

  test("rollout restart, pause/resume and undo go through the API", async () => {
    await page.goto(`${base}/dashboard/#/workloads`);
    await page.click(`${rowOf("deployments", "web")} button[data-action=restart]`);
    await page.waitForSelector("[data-testid=action-note]");
    const d = await client.resource<Deployment>(refs.deployments, "default").get("web");
    expect(d.spec?.template?.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"]).toBeString();
    await page.click(`${rowOf("deployments", "web")} button[data-action=pause]`);
    await page.waitForSelector(`${rowOf("deployments", "web")} .badge.warn >> text=paused`);
    expect((await client.resource<Deployment>(refs.deployments, "default").get("web")).spec?.paused).toBe(true);
    await page.click(`${rowOf("deployments", "web")} button[data-action=pause]`);
    await pollUntil("resumed", async () => (await client.resource<Deployment>(refs.deployments, "default").get("web")).spec?.paused !== true || undefined, 20_000);
    // Undo: the restart made revision 2; undo puts revision 1's template (without restartedAt) back.
    await pollUntil("revision 2", async () => (await client.resource<Deployment>(refs.deployments, "default").get("web")).metadata?.annotations?.["deployment.kubernetes.io/revision"] === "2" || undefined, 30_000);
    await page.click(`${rowOf("deployments", "web")} button[data-action=undo]`);
    await page.waitForSelector("[data-testid=action-note] >> text=undo web: done");
    const undone = await client.resource<Deployment>(refs.deployments, "default").get("web");
    expect(undone.spec?.template?.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"]).toBeUndefined();
    await pollUntil("revision 3", async () => (await client.resource<Deployment>(refs.deployments, "default").get("web")).metadata?.annotations?.["deployment.kubernetes.io/revision"] === "3" || undefined, 30_000);
  });

  test("YAML edit goes through server-side apply; the API's validation error is shown inline", async () => {
    await page.goto(`${base}/dashboard/#/yaml/deployments/default/web`);
    await page.waitForFunction(() => (document.querySelector("textarea[name=yaml]") as HTMLTextAreaElement)?.value.includes("replicas: 3"));
    const text = await page.inputValue("textarea[name=yaml]");
    expect(text).not.toContain("managedFields");
    await page.fill("textarea[name=yaml]", text.replace(/^  replicas: 3$/m, "  replicas: -1"));
    await page.click("button[data-action=apply]");
    await page.waitForSelector("[data-testid=yaml-error]");
    const err = await page.textContent("[data-testid=yaml-error]");
    expect(err).toContain("spec.replicas: Invalid value: -1");
    expect(err).toContain("must be greater than or equal to 0");
    await shot(page, "05-yaml-error");
    expect((await client.resource<Deployment>(refs.deployments, "default").get("web")).spec?.replicas).toBe(3);
    await page.fill("textarea[name=yaml]", text.replace(/^  replicas: 3$/m, "  replicas: 2"));
    await page.click("button[data-action=apply]");
    await page.waitForSelector("[data-testid=yaml-note]");
    const d = await client.resource<Deployment>(refs.deployments, "default").get("web");
    expect(d.spec?.replicas).toBe(2);
    expect(d.metadata?.managedFields?.some((f) => f.manager === "kubun-dashboard" && f.operation === "Apply")).toBe(true);
    await shot(page, "06-yaml");
  });

  test("events stream live and filter by type and text", async () => {
    await page.goto(`${base}/dashboard/#/events`);
    await page.waitForSelector("tr[data-reason=ScalingReplicaSet]", { timeout: 30_000 });
    await page.fill("input[name=filter]", "no-such-event-text");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 0);
    await page.fill("input[name=filter]", "web");
    await page.waitForSelector("tr[data-reason=ScalingReplicaSet]");
    await page.selectOption("select[name=type]", "Warning");
    await page.waitForFunction(() => ![...document.querySelectorAll("tbody tr")].some((r) => r.textContent?.includes("Normal")));
    await page.selectOption("select[name=type]", "");
    // A new event appears without a reload (watch).
    await client.resource(refs.deployments, "default").patch("web", "merge", { spec: { replicas: 1 } });
    await page.waitForFunction(() => [...document.querySelectorAll("tr[data-reason=ScalingReplicaSet]")].some((r) => r.textContent?.includes("to 1")), undefined, { timeout: 30_000 });
    await shot(page, "07-events");
  });

  test("services and ingresses", async () => {
    expect((await cluster.kubectl(["create", "service", "clusterip", "web", "--tcp=80:8080"])).code).toBe(0);
    await client.resource({ group: "networking.k8s.io", version: "v1", resource: "ingresses", namespaced: true }, "default").create({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "web" },
      spec: { rules: [{ host: "pi.example.lan", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
    });
    await page.goto(`${base}/dashboard/#/network`);
    await page.waitForSelector("tr[data-service=web]");
    expect(await page.textContent("tr[data-service=web]")).toContain("80/TCP");
    await page.waitForSelector("tr[data-ingress=web]");
    expect(await page.textContent("tr[data-ingress=web]")).toContain("pi.example.lan/ → web:80");
    await shot(page, "08-services");
  });

  test("the namespace filter narrows every list", async () => {
    expect((await cluster.kubectl(["create", "namespace", "other"])).code).toBe(0);
    await page.goto(`${base}/dashboard/#/workloads`);
    await page.waitForSelector(rowOf("deployments", "web"));
    await page.focus("select[name=namespace]"); // the picker rereads the namespaces when it gets focus
    await page.waitForSelector("select[name=namespace] option[value=other]", { state: "attached" });
    await page.selectOption("select[name=namespace]", "other");
    await page.waitForFunction(() => !document.querySelector('tr[data-name="web"]'));
    await page.click('nav a[href="#/network"]');
    await page.waitForSelector('[data-status="live"]');
    expect(await page.$("tr[data-service=web]")).toBeNull();
    await page.selectOption("select[name=namespace]", "default");
    await page.waitForSelector("tr[data-service=web]");
    await page.selectOption("select[name=namespace]", "");
  });

  test("logout clears the token; a view-only token cannot scale and sees the API's 403", async () => {
    await page.click("header button >> text=Log out");
    await page.waitForSelector("textarea[name=token]");
    expect(await page.evaluate(() => sessionStorage.getItem("kubun.dashboard.token"))).toBeNull();
    await login(page, base, viewerToken);
    await page.goto(`${base}/dashboard/#/workloads`);
    await page.waitForSelector(rowOf("deployments", "web"));
    await page.fill(`${rowOf("deployments", "web")} input[name=replicas]`, "5");
    await page.click(`${rowOf("deployments", "web")} button[data-action=scale]`);
    await page.waitForSelector("[data-testid=action-error]");
    const err = await page.textContent("[data-testid=action-error]");
    expect(err).toContain('deployments.apps "web" is forbidden');
    expect(err).toContain("system:serviceaccount:default:viewer");
    await shot(page, "09-viewer-forbidden");
    expect((await client.resource<Deployment>(refs.deployments, "default").get("web")).spec?.replicas).toBe(1);
    // The view role cannot list nodes: the fleet view says so instead of showing nothing.
    await page.click('nav a[href="#/fleet"]');
    await page.waitForSelector(".alert >> text=forbidden");
    await page.click("header button >> text=Log out");
  });

  test("phone-sized, dark", async () => {
    const { context, page: phone } = await newPage(browser, { phone: true, dark: true });
    await login(phone, base, cluster.adminToken);
    await phone.waitForSelector('.tile[data-node="pi-0"]');
    expect(await phone.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    // One column of tiles, nothing wider than the screen but the scrolling tables.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(phone, "10-phone-fleet-dark");
    await phone.click('nav a[href="#/pods"]');
    await phone.waitForSelector("tr[data-pod^=web-]");
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(phone, "11-phone-pods-dark");
    await phone.click("header button >> text=Light");
    expect(await phone.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    await context.close();
  });

  test("without metrics.k8s.io (404) the tiles still show, with a note instead of CPU and memory", async () => {
    const { context, page: p } = await newPage(browser);
    await p.route("**/apis/metrics.k8s.io/**", (r) =>
      r.fulfill({ status: 404, contentType: "application/json", body: JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: "the server could not find the requested resource" }) }),
    );
    await login(p, base, cluster.adminToken);
    await p.waitForSelector('.tile[data-node="pi-0"]');
    await p.waitForSelector("[data-testid=metrics-note]");
    expect(await p.textContent("[data-testid=metrics-note]")).toBe("metrics.k8s.io is not served");
    expect(await p.textContent('.tile[data-node="pi-0"]')).not.toContain("CPU");
    await context.close();
  });

  test("lists stay live and correct across a server restart", async () => {
    await login(page, base, cluster.adminToken);
    await page.goto(`${base}/dashboard/#/workloads`);
    await page.waitForSelector(rowOf("deployments", "web"));
    await page.waitForSelector('[data-status="live"]');
    const port = Number(new URL(base).port);
    await cluster.stop();
    await page.waitForSelector('[data-status="reconnecting"]', { timeout: 30_000 });
    cluster = await startTestCluster({ dataDir, port });
    client = createClient({ server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM });
    await client.resource(refs.deployments, "default").create(deployment("after-restart", 1));
    await client.resource(refs.deployments, "default").delete("web");
    await page.waitForSelector(rowOf("deployments", "after-restart"), { timeout: 60_000 });
    await page.waitForFunction((sel) => !document.querySelector(sel), rowOf("deployments", "web"), { timeout: 60_000 });
    await page.waitForSelector('[data-status="live"]');
    await shot(page, "12-after-restart");
  });
});
