// /version, /healthz, /livez, /readyz (with ?verbose and per-check paths), as upstream reports them.
import { Hono } from "hono";
import type { Store } from "../store/types.ts";

export const KUBE_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0+kubun" };

type Check = { name: string; run: () => Promise<void> };

export function healthRoutes(store: Store, opts: { gitVersion?: string; ready: () => boolean }): Hono {
  const app = new Hono();
  const checks: Check[] = [
    { name: "ping", run: async () => {} },
    {
      name: "etcd",
      run: async () => {
        await Promise.race([
          store.currentRevision(),
          Bun.sleep(2000).then(() => {
            throw new Error("store did not answer within 2s");
          }),
        ]);
      },
    },
  ];
  const readyChecks: Check[] = [
    ...checks,
    {
      name: "poststarthook/bootstrap-controller",
      run: async () => {
        if (!opts.ready()) throw new Error("not finished");
      },
    },
  ];

  const endpoint = (path: string, list: Check[]) => {
    const handler = async (c: any, only?: string) => {
      const selected = only ? list.filter((ch) => ch.name === only) : list;
      if (only && selected.length === 0) return c.text("404 page not found\n", 404);
      const excluded = new Set(c.req.queries("exclude") ?? []);
      const lines: string[] = [];
      let failed = false;
      for (const ch of selected) {
        if (excluded.has(ch.name)) {
          lines.push(`[+]${ch.name} excluded: ok`);
          continue;
        }
        try {
          await ch.run();
          lines.push(`[+]${ch.name} ok`);
        } catch {
          failed = true;
          lines.push(`[-]${ch.name} failed: reason withheld`);
        }
      }
      const verbose = c.req.query("verbose") !== undefined;
      const name = path.slice(1);
      if (failed) {
        return c.text(lines.join("\n") + `\n${name} check failed\n`, 500, { "X-Content-Type-Options": "nosniff" });
      }
      if (only) return c.text("ok", 200);
      return c.text(verbose ? lines.join("\n") + `\n${name} check passed\n` : "ok", 200, { "X-Content-Type-Options": "nosniff" });
    };
    app.get(path, (c) => handler(c));
    app.get(`${path}/*`, (c) => handler(c, c.req.path.slice(path.length + 1)));
  };
  endpoint("/healthz", checks);
  endpoint("/livez", checks);
  endpoint("/readyz", readyChecks);

  app.get("/version", (c) =>
    c.json({
      major: KUBE_VERSION.major,
      minor: KUBE_VERSION.minor,
      gitVersion: opts.gitVersion ?? KUBE_VERSION.gitVersion,
      gitCommit: "",
      gitTreeState: "clean",
      buildDate: "1970-01-01T00:00:00Z",
      goVersion: `bun${Bun.version}`,
      compiler: "bun",
      platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
    }),
  );
  return app;
}
