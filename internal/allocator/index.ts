// ClusterIP and NodePort allocation on the store (compare-and-swap, safe with several servers) and IPv4 arithmetic.
// Its errors are internal/api Status errors, which the API server returns as they are.
export { createServiceAllocator, SERVICE_IPS_KEY, NODE_PORTS_KEY } from "./service.ts";
export type { ServiceAllocator, ServiceAllocatorOptions } from "./service.ts";
export { parseCidr4, formatCidr4, parseIPv4, formatIPv4, nthIP, offsetIn } from "./ipv4.ts";
