// One control plane shared by every test of a file: started before the first test, stopped after the last,
// with an admin client. Read env.cluster / env.client inside tests (they are set once beforeAll has run).
import { afterAll, beforeAll } from "bun:test";
import { createClient, type Client } from "../../internal/client/index.ts";
import { startTestCluster, type TestCluster } from "./cluster.ts";

export interface SharedCluster {
  cluster: TestCluster;
  client: Client;
}

export function useSharedCluster(): SharedCluster {
  const env = {} as SharedCluster;
  beforeAll(async () => {
    env.cluster = await startTestCluster();
    env.client = createClient(env.cluster.clientConfig);
  });
  afterAll(async () => {
    await env.cluster.stop();
  });
  return env;
}
