// `kubun server` as a user runs it: the dashboard is on by default at /dashboard/ on the API port, and
// `--disable dashboard` (the same repeatable flag that skips manifests) turns it off.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { startServerProcess, type ServerProcess } from "../ha/server-process.ts";

setDefaultTimeout(90_000);

let on: ServerProcess;
let off: ServerProcess;

beforeAll(async () => {
  [on, off] = await Promise.all([startServerProcess(), startServerProcess({ args: ["--disable", "dashboard"] })]);
});
afterAll(async () => {
  await Promise.all([on?.cleanup(), off?.cleanup()]);
});

test("kubun server serves the dashboard on its API port", async () => {
  const page = await on.api("/dashboard/", { token: null });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('src="app.js"');
  expect((await on.api("/dashboard/app.js", { token: null })).status).toBe(200);
});

test("kubun server --disable dashboard does not", async () => {
  expect((await off.api("/dashboard/", { token: null })).status).toBe(401);
  expect((await off.api("/dashboard/app.js")).status).toBe(404);
  expect((await off.api("/readyz")).status).toBe(200);
});
