// Admission contract: plugins run after authn/authz and decoding, before the store write.
import type { UserInfo } from "../auth/types.ts";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionRequest {
  operation: Operation;
  user: UserInfo;
  /** e.g. { group: "", version: "v1", resource: "pods" } */
  group: string;
  version: string;
  resource: string;
  subresource?: string;
  kind: string;
  namespace?: string;
  name?: string;
  /** The object being written (mutable by mutating plugins). Undefined for DELETE. */
  object?: any;
  /** The current stored object for UPDATE/DELETE. */
  oldObject?: any;
  dryRun: boolean;
}

/** Thrown by a plugin to reject; the API server turns it into a Status with this code and reason. */
export class AdmissionError extends Error {
  constructor(
    message: string,
    public code: number = 403,
    public reason: string = "Forbidden",
  ) {
    super(message);
  }
}

export interface AdmissionPlugin {
  name: string;
  /** Mutating phase: may change req.object. */
  admit?(req: AdmissionRequest): Promise<void>;
  /** Validating phase: may only reject. */
  validate?(req: AdmissionRequest): Promise<void>;
}
