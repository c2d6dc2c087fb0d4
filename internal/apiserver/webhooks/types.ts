// What the webhook dispatchers get from the admission chain for one request, and the webhooks they read.
import type { ResourceInfo } from "../../api/resources.ts";
import type { Operation } from "../../admission/types.ts";
import type { UserInfo } from "../../auth/types.ts";

export interface WebhookAttributes {
  ri: ResourceInfo;
  operation: Operation;
  subresource?: string;
  namespace?: string;
  name?: string;
  object?: any;
  oldObject?: any;
  dryRun: boolean;
  user: UserInfo;
  /** CreateOptions / UpdateOptions / DeleteOptions sent in AdmissionReview.request.options. */
  options?: Record<string, unknown>;
  /** The object's kind when it is not the resource's (CONNECT: PodExecOptions, ...). */
  kind?: string;
  /** Where the webhooks' warnings go (sent back as Warning headers). */
  warnings?: string[];
}

/** One webhook of a configuration, as stored (defaults applied on write). */
export interface Webhook {
  name: string;
  clientConfig: { url?: string; service?: { namespace: string; name: string; path?: string; port?: number }; caBundle?: string };
  rules?: Rule[];
  failurePolicy?: "Fail" | "Ignore";
  matchPolicy?: "Exact" | "Equivalent";
  namespaceSelector?: LabelSelectorObject;
  objectSelector?: LabelSelectorObject;
  sideEffects?: string;
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
  reinvocationPolicy?: "Never" | "IfNeeded";
  matchConditions?: unknown[];
}

export interface Rule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A webhook with the configuration it came from (its name orders the calls, as upstream). */
export interface ConfiguredWebhook {
  configuration: string;
  hook: Webhook;
}
