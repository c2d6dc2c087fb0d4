// The API server's metrics scraper without a cluster: Ready nodes only, hollow nodes never, and a kubelet that keeps
// failing is tried less and less often (1st, 2nd, 4th, 8th round, ...). Scraping real kubelets: top.test.ts.
import { expect, test } from "bun:test";
import { MetricsScraper } from "../../internal/apiserver/metricsapi/scraper.ts";
import type { ApiServerDeps } from "../../internal/apiserver/deps.ts";

function node(name: string, o: { ready?: boolean; hollow?: boolean; port?: number } = {}) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, ...(o.hollow ? { annotations: { "kubun.io/hollow": "true" } } : {}) },
    status: {
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
      addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
      daemonEndpoints: { kubeletEndpoint: { Port: o.port ?? 1 } },
    },
  };
}

function deps(nodes: unknown[], tokens: string[]): Pick<ApiServerDeps, "store" | "kubeletClient" | "log"> {
  const kvs = nodes.map((n: any, i) => ({ key: `/registry/core/nodes/${n.metadata.name}`, value: JSON.stringify(n), createRevision: i + 1, modRevision: i + 1 }));
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as any;
  return {
    store: { list: async () => ({ revision: 1, items: kvs, remaining: 0 }) } as any,
    kubeletClient: {
      caPEM: "not a CA",
      async tokenFor(n: string) {
        tokens.push(n);
        return "t";
      },
    },
    log: quiet,
  };
}

test("only Ready, non-hollow nodes are scraped; failing kubelets back off", async () => {
  const tokens: string[] = [];
  const s = new MetricsScraper(deps([node("down"), node("notready", { ready: false }), node("hollow", { hollow: true })], tokens), 60_000);
  for (let round = 1; round <= 10; round++) await s.scrapeAll();
  // Rounds 1, 2, 4 and 8 try the unreachable kubelet; the others never are.
  expect(tokens).toEqual(["down", "down", "down", "down"]);
  expect(s.nodeNames()).toEqual([]);
});
