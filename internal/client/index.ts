// Public surface of kubun's client core: REST client, informers, work queue, events.
//
//   const client = createClient(cfg);                       // or createClient(fromKubeconfig(path))
//   const pods = client.resource<Pod>(refs.pods, "default"); // get/list/create/update/updateStatus/patch/delete/watch
//   const factory = new SharedInformerFactory(client);      // one watch per resource per process
//   const inf = factory.informerFor<Pod>(refs.pods);
//   inf.addIndexer("node", indexers.byNodeName);
//   const queue = new WorkQueue<string>({ name: "pods" });
//   inf.addEventHandler({ onAdd: (p) => queue.add(keyOf(p)), onUpdate: (_o, p) => queue.add(keyOf(p)),
//                         onDelete: (p) => queue.add(keyOf(p)) });
//   factory.start(signal); await factory.waitForSync(signal);
//   await queue.runWorkers(2, async (key) => { const p = inf.get(key); ... }, signal);
//
// Resource refs come from internal/api's registry; besides it the client imports only the logger (ARCHITECTURE.md).
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
