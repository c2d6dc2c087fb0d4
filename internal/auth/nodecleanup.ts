// When a Node is deleted, its node password (kube-system/<node>.node-password.kubun) and its node credentials go
// with it, as k3s's node controller does: the name is free to join again, and the old machine's tokens stop working.
// Runs on every server (idempotent deletes), from the store's watch, so it works with or without the controller
// manager. A deletion that happened while no server was running is not seen: such a name stays guarded by its
// password until an admin deletes the Secret.
import type { Store } from "../store/types.ts";
import { followPrefix } from "./followprefix.ts";
import { revokeNodeToken } from "./nodecreds.ts";
import { deleteNodePassword } from "./nodepassword.ts";
import { logger } from "../log/log.ts";

const log = logger("node-cleanup");
const NODES_PREFIX = "/registry/core/nodes/";

export function runNodeCredentialCleanup(store: Store, signal: AbortSignal): Promise<void> {
  return followPrefix(store, NODES_PREFIX, {
    load: async () => (await store.count(NODES_PREFIX)).revision,
    onEvent(ev) {
      if (ev.type !== "DELETE") return;
      const nodeName = ev.kv.key.slice(NODES_PREFIX.length);
      void Promise.all([revokeNodeToken(store, nodeName), deleteNodePassword(store, nodeName)])
        .then(() => log.info("node deleted: its credentials and node password are removed", { node: nodeName }))
        .catch((err) => log.warn("could not remove a deleted node's credentials", { node: nodeName, err }));
    },
    signal,
    log,
    what: "node",
  });
}
