export { EtcdStore, type EtcdStoreOptions } from "./store.ts";
