// The stored webhook configurations, kept in memory by a store watch (upstream reads them from an informer):
// sorted by configuration name, webhooks in their listed order. Before the first list (or after a broken watch)
// it reads the store, so a configuration is never missed.
import type { Store } from "../../store/types.ts";
import { findResource, storagePrefix } from "../../api/resources.ts";
import { WatchedPrefix } from "../../admission/watchedprefix.ts";
import type { ConfiguredWebhook } from "./types.ts";

export type WebhookType = "mutating" | "validating";

const RESOURCE: Record<WebhookType, string> = {
  mutating: "mutatingwebhookconfigurations",
  validating: "validatingwebhookconfigurations",
};

export class WebhookSource {
  private copies: Record<WebhookType, WatchedPrefix>;

  constructor(private store: Store, signal?: AbortSignal) {
    const prefix = (t: WebhookType) => storagePrefix(findResource("admissionregistration.k8s.io", "v1", RESOURCE[t])!);
    this.copies = {
      mutating: new WatchedPrefix(store, prefix("mutating"), signal),
      validating: new WatchedPrefix(store, prefix("validating"), signal),
    };
  }

  get ready(): Promise<void> {
    return Promise.all([this.copies.mutating.ready, this.copies.validating.ready]).then(() => {});
  }

  close(): void {
    this.copies.mutating.close();
    this.copies.validating.close();
  }

  async webhooks(type: WebhookType): Promise<ConfiguredWebhook[]> {
    const copy = this.copies[type];
    const configs = copy.synced
      ? copy.list()
      : (await this.store.list(copy.prefix)).items.map((kv) => JSON.parse(kv.value));
    if (!configs.length) return [];
    return flatten(configs);
  }
}

function flatten(configs: any[]): ConfiguredWebhook[] {
  const out: ConfiguredWebhook[] = [];
  const byName = [...configs].sort((a, b) => (a.metadata?.name < b.metadata?.name ? -1 : a.metadata?.name > b.metadata?.name ? 1 : 0));
  for (const c of byName) {
    for (const hook of Array.isArray(c.webhooks) ? c.webhooks : []) out.push({ configuration: c.metadata?.name ?? "", hook });
  }
  return out;
}
