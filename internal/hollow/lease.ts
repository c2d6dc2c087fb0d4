// The hollow kubelet's Lease controller is the real kubelet's (internal/nodelease), so both behave like upstream's.
export { LEASE_UPDATE_RETRIES, NodeLease } from "../nodelease/controller.ts";
