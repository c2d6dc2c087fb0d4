// API Priority and Fairness (flowcontrol.apiserver.k8s.io/v1) in a form that fits a small server; see controller.ts
// for what is simplified. The app runs every authenticated request through serveWithFlowControl.
export { FlowControl, type Classification, type FlowControlOptions as FlowControlConfig } from "./controller.ts";
export { serveWithFlowControl, FLOW_SCHEMA_UID_HEADER, PRIORITY_LEVEL_UID_HEADER } from "./filter.ts";
export { limitBodyReadTime, DEFAULT_BODY_TIMEOUT_MS } from "./bodytimeout.ts";
export { ensureFlowControlObjects } from "./bootstrap.ts";
