// Public surface of kubun's client core: REST client, informers, work queue, events.
export * from "./types.ts";
export { createClient, resourcePath, type Client } from "./client.ts";
export { fromKubeconfig, parseKubeconfig } from "./kubeconfig.ts";
export {
  Informer,
  indexers,
  keyOf,
  splitKey,
  sleep,
  type EventHandlers,
  type IndexFunc,
  type InformerOptions,
  type ObjectWithMeta,
} from "./informer.ts";
export { SharedInformerFactory, type InformerScope } from "./factory.ts";
export { WorkQueue, type WorkQueueOptions } from "./workqueue.ts";
export {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from "./ratelimit.ts";
export { createEventRecorder, type EventRecorder } from "./events.ts";
export { refs } from "./refs.ts";
