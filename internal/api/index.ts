// The API vocabulary every component shares, as upstream's apimachinery: the resource registry (built-in
// rows plus the ones CRDs add at run time), quantities, Status errors and reasons, label and field selectors,
// object-meta helpers, well-known user and group names and query-parameter booleans. It imports no other
// internal/ folder, so the API server, the client, controllers, scheduler, kubelet and auth can all use it
// without importing each other
// (ARCHITECTURE.md shows the allowed import directions; test/architecture.test.ts enforces them).
//
//   addResource(resourceInfo("stable.example.com", "v1", "CronTab", "crontabs", true)); // a CRD's version
//   const off = onResourcesChanged(({ type, resource }) => ...);                        // discovery, OpenAPI, informers
//   throw notFound(findResource("", "v1", "pods")!, "web");                             // 404 NotFound Status
export * from "./resources.ts";
export * from "./status.ts";
export * from "./quantity.ts";
export * from "./meta.ts";
export * from "./names.ts";
export * from "./querybool.ts";
export * from "./selectors/labels.ts";
export * from "./selectors/fields.ts";
export * from "./selectors/objects.ts";
