// Headless Debian chromium driven by playwright-core, for the dashboard tests. Chromium runs in a network
// namespace of its own (unshare --net: only a loopback, no route anywhere, gone when chromium exits) and reaches
// the API server's 127.0.0.1:PORT through a unix socket (forward.ts). The cluster's self-signed certificate is
// accepted; screenshots go under .tmp/dashboard-screenshots/.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:net";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { forwardUnixToTCP } from "./forward.ts";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const TMP = join(import.meta.dir, "../../.tmp");
export const SHOTS = join(TMP, "dashboard-screenshots");

export interface IsolatedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Chromium in its own network namespace, where https://127.0.0.1:port is the API server on the host's port. */
export async function launch(port: number): Promise<IsolatedBrowser> {
  mkdirSync(SHOTS, { recursive: true });
  const dir = mkdtempSync(join(TMP, "dash-br-"));
  const sock = join(dir, "api.sock");
  const ready = join(dir, "forward.ready");
  const forwarder: Server = await forwardUnixToTCP(sock, port);
  const wrapper = join(dir, "chromium.sh");
  writeFileSync(
    wrapper,
    `#!/bin/sh
# chromium in a fresh network namespace; forward.ts makes 127.0.0.1:$KD_PORT there reach the host's API server
exec unshare --net -- /bin/sh -c '
  ip link set lo up || exit 1
  "$KD_BUN" "$KD_FORWARD" tcp-to-unix "$KD_PORT" "$KD_SOCK" "$KD_READY" &
  i=0; while [ ! -e "$KD_READY" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
  exec "$KD_CHROMIUM" "$@"' chromium "$@"
`,
  );
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({
    executablePath: wrapper,
    env: { ...process.env, KD_BUN: process.execPath, KD_FORWARD: join(import.meta.dir, "forward.ts"), KD_PORT: String(port), KD_SOCK: sock, KD_READY: ready, KD_CHROMIUM: CHROMIUM } as Record<string, string>,
    // No sandbox as root in CI; no background traffic (updates, safe browsing) from an air-gapped test.
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      await new Promise<void>((r) => forwarder.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function newPage(browser: Browser, opts: { phone?: boolean; dark?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: opts.phone ? { width: 390, height: 844 } : { width: 1366, height: 900 },
    colorScheme: opts.dark ? "dark" : "light",
  });
  const page = await context.newPage();
  page.on("dialog", (d) => void d.accept());
  return { context, page };
}

/** A fresh sign-in: whatever token the tab held is dropped first. */
export async function login(page: Page, baseURL: string, token: string): Promise<void> {
  await page.goto(`${baseURL}/dashboard/`);
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.fill("textarea[name=token]", token);
  await page.click("button[type=submit]");
  await page.waitForSelector("header nav");
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
