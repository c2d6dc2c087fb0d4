// GET /dashboard/ and /dashboard/app.js: the built-in dashboard's static files, mounted before authentication
// (they hold no secrets). The page logs in with a bearer token and calls the ordinary API with it, so RBAC
// decides what each user sees and may do; this sub-app has no privileges of its own.
import { Hono } from "hono";
import { dashboardAssets } from "./assets.ts";

// Scripts only from this server; data only from this server (the API); no frames, no plugins.
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function dashboardRoutes(): Hono {
  const app = new Hono();
  // Mounted at /dashboard: the sub-app sees the full path, so the trailing slash is told apart here.
  app.get("*", async (c) => {
    const rest = new URL(c.req.url).pathname.replace(/^\/dashboard/, "");
    if (rest === "") return c.redirect("/dashboard/", 301);
    if (rest === "/" || rest === "/index.html") return serve(c.req.raw, "index.html");
    if (rest === "/app.js") return serve(c.req.raw, "app.js");
    return c.text("404 page not found\n", 404);
  });
  app.all("*", (c) => c.text("404 page not found\n", 404));
  return app;
}

async function serve(req: Request, name: string): Promise<Response> {
  const a = (await dashboardAssets()).get(name)!;
  const headers = new Headers({
    "Content-Type": a.type,
    ETag: a.etag,
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    Vary: "Accept-Encoding",
  });
  if (req.headers.get("if-none-match") === a.etag) return new Response(null, { status: 304, headers });
  const gzip = /\bgzip\b/.test(req.headers.get("accept-encoding") ?? "");
  if (gzip) headers.set("Content-Encoding", "gzip");
  return new Response(gzip ? a.gzip : a.body, { headers });
}
