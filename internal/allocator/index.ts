export { createServiceAllocator, SERVICE_IPS_KEY, NODE_PORTS_KEY } from "./service.ts";
export type { ServiceAllocator, ServiceAllocatorOptions } from "./service.ts";
export { parseCidr4, formatCidr4, parseIPv4, formatIPv4, nthIP, offsetIn } from "./ipv4.ts";
