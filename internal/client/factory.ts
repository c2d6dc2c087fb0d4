// One informer per (resource, namespace, selectors) per process, shared by every controller in it,
// as upstream's SharedInformerFactory: one watch per resource instead of one per controller.

import type { Logger } from "../log/log.ts";
import type { Client } from "./client.ts";
import { Informer, type InformerOptions, type ObjectWithMeta } from "./informer.ts";
import type { ResourceRef } from "./types.ts";

export interface InformerScope {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export class SharedInformerFactory {
  private informers = new Map<string, Informer<any>>();
  private signal?: AbortSignal;

  constructor(
    private client: Client,
    private defaults: Omit<InformerOptions, "labelSelector" | "fieldSelector"> & { log?: Logger } = {},
  ) {}

  /** The shared informer for a resource; started at once if the factory is already running. */
  informerFor<T extends ObjectWithMeta = any>(ref: ResourceRef, scope: InformerScope = {}): Informer<T> {
    const key = [ref.group, ref.version, ref.resource, scope.namespace ?? "", scope.labelSelector ?? "", scope.fieldSelector ?? ""].join("|");
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer<T>(this.client.resource<T>(ref, scope.namespace), {
        ...this.defaults,
        labelSelector: scope.labelSelector,
        fieldSelector: scope.fieldSelector,
        name: this.defaults.name ?? ref.resource,
      });
      this.informers.set(key, inf);
      if (this.signal) void inf.run(this.signal);
    }
    return inf as Informer<T>;
  }

  /** Starts every informer created so far and any created later. */
  start(signal: AbortSignal): void {
    this.signal = signal;
    for (const inf of this.informers.values()) void inf.run(signal);
  }

  /** Resolves when every informer has its first full list (or the signal aborts). */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const all = Promise.all([...this.informers.values()].map((i) => i.synced)).then(() => true);
    if (!signal) return all;
    return Promise.race([all, new Promise<boolean>((r) => signal.addEventListener("abort", () => r(false), { once: true }))]);
  }
}
