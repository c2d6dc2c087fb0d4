// The dashboard's static files: index.html and the client bundle, each kept gzipped once in memory.
// They are public (no token, no cluster data in them); every data call the page makes goes to the API with
// the user's own bearer token.
import { existsSync } from "node:fs";
import { buildClient, CLIENT_ENTRY } from "./bundle.ts";

export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>kubun dashboard</title>
<link rel="icon" href="data:,">
<script type="module" src="app.js"></script>
</head><body><div id="app"></div><noscript>The kubun dashboard needs JavaScript.</noscript></body></html>
`;

function asset(text: string, type: string): Asset {
  const body = new TextEncoder().encode(text);
  return { body, gzip: Bun.gzipSync(body, { level: 9 }) as Uint8Array<ArrayBuffer>, type, etag: `"${Bun.hash(body).toString(16)}"` };
}

/** The bundle scripts/gen-dashboard.ts wrote; a literal require so `bun build --compile` embeds it. */
function generatedBundle(): string | undefined {
  try {
    return require("./generated/client.json").js as string;
  } catch {
    return undefined;
  }
}

let loading: Promise<Map<string, Asset>> | undefined;

export function dashboardAssets(): Promise<Map<string, Asset>> {
  loading ??= (async () => {
    // From a checkout the sources are on disk: build them (fresh); a compiled binary has only the embedded bundle.
    const js = existsSync(CLIENT_ENTRY) ? await buildClient() : generatedBundle();
    if (js === undefined) throw new Error("the dashboard is missing from this build: run `bun run scripts/gen-dashboard.ts` before `bun build --compile`");
    return new Map([
      ["index.html", asset(INDEX_HTML, "text/html; charset=utf-8")],
      ["app.js", asset(js, "text/javascript; charset=utf-8")],
    ]);
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}
