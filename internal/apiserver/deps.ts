// What the API server needs from the rest of kubun. startControlPlane fills this in; tests may too.
import type { Store } from "../store/types.ts";
import type { Authenticator, Authorizer, TokenLib, UserInfo } from "../auth/types.ts";
import type { AdmissionPlugin } from "../admission/types.ts";
import type { Logger } from "../log/log.ts";
import type { ServiceAllocator } from "../allocator/index.ts";
import type { ResourceInfo } from "../api/resources.ts";
import type { StatusCause } from "../api/status.ts";
import type { Rest } from "./rest.ts";

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** The schema library (internal/apiserver/validation). */
export interface SchemaLib {
  defaultObject(ri: ResourceInfo, obj: any): void;
  /** subresource: "" for the main resource; writes through status/binding/scale skip the main resource's spec rules. */
  validateObject(ri: ResourceInfo, obj: any, old?: any, opts?: { subresource?: string }): StatusCause[];
  unknownFields(ri: ResourceInfo, obj: any): string[];
  /** Paths of keys that appear twice in a raw JSON body. */
  duplicateFields?(text: string): string[];
  /** Go decoding errors for values of the wrong type ("json: cannot unmarshal string into ..."). */
  typeErrors?(ri: ResourceInfo, obj: any): string[];
  /** The same values as the unstructured converter reports them ("cannot restore map from string"). */
  restoreErrors?(ri: ResourceInfo, obj: any): string[];
  /** `Deployment in version "v1" cannot be handled as a Deployment: <err>`. */
  decodeErrorMessage?(ri: ResourceInfo, err: string): string;
}

/** The patch library (internal/apiserver/patch). */
export interface PatchLib {
  applyJsonPatch(obj: any, ops: any): any;
  applyMergePatch(obj: any, patch: any): any;
  applyStrategicMergePatch(obj: any, patch: any, gvk: GVK): any;
  serverSideApply(args: {
    live: any;
    applied: any;
    manager: string;
    force: boolean;
    gvk: GVK;
    subresource?: string;
  }): any;
  updateManagedFields(args: {
    old: any;
    updated: any;
    manager: string;
    operation: "Update" | "Apply";
    subresource?: string;
    gvk: GVK;
    /** The caller gives `updated` away: the result may share its sub-trees instead of copying them. */
    handOver?: boolean;
  }): any;
}

/** The tables library (internal/apiserver/tables). */
export interface TablesLib {
  toTable(ri: ResourceInfo, objects: any[], opts: { includeObject: "None" | "Metadata" | "Object" }): any;
}

/** API Priority and Fairness (flowcontrol/), replacing the max-in-flight limits when enabled. */
export interface FlowControlOptions {
  /** Default true; false falls back to the max-in-flight limiter (upstream --enable-priority-and-fairness=false). */
  enabled?: boolean;
  /** Longest wait in a priority level's queue before 429 (default 15 s, a quarter of the request timeout). */
  queueWaitMs?: number;
  /** Request bodies must have arrived by then, or the request fails with 408 (default 30 s). */
  requestBodyTimeoutMs?: number;
}

export interface ApiServerDeps {
  store: Store;
  authenticator: Authenticator;
  authorizer: Authorizer;
  admission: AdmissionPlugin[];
  log: Logger;
  schema?: SchemaLib;
  patch?: PatchLib;
  tables?: TablesLib;
  tokens?: TokenLib;
  serviceAllocator?: ServiceAllocator;
  /**
   * How the API server reaches kubelets (logs, exec, proxy): the cluster CA their serving certificates must chain to,
   * and a short-lived token for one node's kubelet (audience that kubelet only).
   */
  kubeletClient?: { caPEM: string; tokenFor(nodeName: string): Promise<string> };
  /** The metrics.k8s.io scraper (metricsapi/): createApiServer starts one when kubeletClient is set. */
  metricsScraper?: import("./metricsapi/scraper.ts").MetricsScraper;
  /** How often it scrapes every Ready kubelet (default 15 s, as metrics-server's --metric-resolution). */
  metricsScrapeIntervalMs?: number;
  /** OpenAPI routes (mounted at /openapi/v2 and /openapi/v3). */
  openapi?: { routes(): import("hono").Hono };
  maxMutatingInflight?: number;
  maxReadOnlyInflight?: number;
  flowControl?: FlowControlOptions;
  eventTTLSeconds?: number;
  /** Deadline of non-long-running requests (default 60 s, as upstream's --request-timeout). */
  requestTimeoutMs?: number;
  /** How often watches that allow bookmarks get one (default 30 s). */
  bookmarkIntervalMs?: number;
  /** Custom resources (internal/apiextensions): scale at the CRD's paths, deprecation warnings, patch types. */
  customResources?: CustomResourceHooks;
  /**
   * Admission webhooks (webhooks/): createApiServer starts them from the store unless given; false turns them off.
   */
  webhooks?: import("./webhooks/dispatch.ts").WebhookAdmission | false;
  /** gitVersion for /version. */
  version?: string;
}

export type Vars = {
  user: UserInfo;
};

/** How custom resources (internal/apiextensions) hook into the generic REST handler. */
export interface CustomResourceHooks {
  /** A response for requests custom resources handle themselves, else undefined (the generic handler runs). */
  intercept(r: Rest, method: string): Promise<Response | undefined> | undefined;
  /** Warning headers for a request to this resource (deprecated versions). */
  warnings(ri: ResourceInfo): string[];
  /** Patch content types the resource accepts (no strategic merge for custom resources). */
  patchTypes(ri: ResourceInfo): string[] | undefined;
}
