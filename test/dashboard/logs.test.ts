// Live logs of real containers in the dashboard: one real node (containerd, in the kubelet tests' network world),
// chromium following a busybox container's output, switching containers, the previous container's log and its
// termination reason, and deleting the pod from the pods view.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Page } from "playwright-core";
import { refs } from "../../internal/client/refs.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "../kubelet/setup.ts";
import { launch, login, newPage, shot, type IsolatedBrowser } from "./browser.ts";

setDefaultTimeout(120_000);

let env: Env;
let isolated: IsolatedBrowser;
let page: Page;
let base: string;

beforeAll(async () => {
  env = await startEnv(["dash-n1"]);
  base = env.cluster.localURL;
  const pods = env.client.resource(refs.pods, "default");
  const ticker = busyboxPod("ticker", "dash-n1", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done");
  (ticker.spec!.containers as any[]).push({ name: "side", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "echo side says hi; sleep 3600"] });
  await pods.create(ticker);
  // Fails once (exit 3), then runs: its previous container's log stays readable.
  await pods.create(
    busyboxPod("twice", "dash-n1", "if [ -e /d/once ]; then echo second run; sleep 3600; else touch /d/once; echo first run; exit 3; fi", {
      volumes: [{ name: "d", emptyDir: {} }],
    }, { volumeMounts: [{ name: "d", mountPath: "/d" }] }),
  );
  await waitPod(env, "ticker", (p) => p.status?.phase === "Running", "running", 60_000);
  isolated = await launch(Number(new URL(base).port));
  page = (await newPage(isolated.browser)).page;
  await login(page, base, env.cluster.adminToken);
});

afterAll(async () => {
  await isolated?.close();
  await env?.cleanup();
});

const logText = () => page.textContent("[data-testid=log-text]").then((t) => t ?? "");

test("follows a running container's log as it grows, and switches containers", async () => {
  await page.goto(`${base}/dashboard/#/pods`);
  await page.click('tr[data-pod="ticker"] a[data-action=logs]');
  await page.waitForSelector("[data-testid=logs]");
  await page.waitForFunction(() => /tick \d+/.test(document.querySelector("[data-testid=log-text]")?.textContent ?? ""), undefined, { timeout: 30_000 });
  const ticks = () => logText().then((t) => [...t.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
  const first = Math.max(...(await ticks()));
  // Follow: new lines arrive on the open stream, with no reload.
  await waitFor("a later tick", async () => Math.max(...(await ticks())) >= first + 2, 30_000);
  expect(await page.textContent("[data-testid=log-state]")).toBe("following");
  await shot(page, "13-logs-follow");
  await page.selectOption("select[name=container]", "side");
  await page.waitForFunction(() => (document.querySelector("[data-testid=log-text]")?.textContent ?? "").includes("side says hi"), undefined, { timeout: 30_000 });
  expect(await logText()).not.toContain("tick");
});

test("previous shows the last terminated container's log; the pods view shows why it ended", async () => {
  await waitPod(env, "twice", (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && !!p.status?.containerStatuses?.[0]?.state?.running, "restarted and running", 90_000);
  await page.goto(`${base}/dashboard/#/pods`);
  await page.waitForFunction(() => (document.querySelector('tr[data-pod="twice"]')?.textContent ?? "").includes("exit 3"), undefined, { timeout: 30_000 });
  await page.click('tr[data-pod="twice"] a[data-action=logs]');
  await page.waitForFunction(() => (document.querySelector("[data-testid=log-text]")?.textContent ?? "").includes("second run"), undefined, { timeout: 30_000 });
  await page.check("input[name=previous]");
  await page.waitForFunction(() => (document.querySelector("[data-testid=log-text]")?.textContent ?? "").includes("first run"), undefined, { timeout: 30_000 });
  expect(await logText()).not.toContain("second run");
  await shot(page, "14-logs-previous");
});

test("the node's tile shows CPU and memory from metrics.k8s.io", async () => {
  await page.goto(`${base}/dashboard/#/fleet`);
  await page.waitForSelector('.tile[data-node="dash-n1"][data-state="ready"]');
  // The API server scrapes the kubelet every 15 s; the page rereads metrics.k8s.io as often.
  await waitFor("node metrics on the tile", async () => {
    await page.reload();
    await page.waitForSelector('.tile[data-node="dash-n1"]');
    return /CPU\s*\d+(\.\d+)?m?\s*\//.test((await page.textContent('.tile[data-node="dash-n1"]')) ?? "");
  }, 90_000);
  expect(await page.textContent('.tile[data-node="dash-n1"]')).toMatch(/memory\s*[\d.]+(B|Ki|Mi|Gi)\s*\//);
  await shot(page, "15-fleet-metrics");
});

test("deleting a pod from the pods view", async () => {
  await page.goto(`${base}/dashboard/#/pods`);
  await page.click('tr[data-pod="twice"] button[data-action=delete]'); // the confirm() dialog is accepted
  await page.waitForSelector('tr[data-pod="twice"]', { state: "detached", timeout: 60_000 });
  await waitFor("pod gone from the API", async () => {
    try {
      await env.client.resource(refs.pods, "default").get("twice");
      return false;
    } catch (e: any) {
      return e?.code === 404 || /not found/.test(String(e?.message));
    }
  }, 60_000);
});
