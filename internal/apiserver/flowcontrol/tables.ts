// `kubectl get flowschemas` / `prioritylevelconfigurations` tables, with upstream's columns and cells
// (pkg/printers/internalversion/printers.go: printFlowSchema, printPriorityLevelConfiguration).
import { AGE, NAME, age, col, type Printer } from "../tables/columns.ts";

export const flowschemas: Printer = {
  columns: [
    NAME,
    col("PriorityLevel", "string", "`name` is the name of the priority level configuration being referenced Required."),
    col("MatchingPrecedence", "string", "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request. The chosen FlowSchema is among those with the numerically lowest (which we take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value must be ranged in [1,10000]. Note that if the precedence is not specified, it will be set to 1000 as default."),
    col("DistinguisherMethod", "string", "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema. `nil` specifies that the distinguisher is disabled and thus will always be the empty string."),
    AGE,
    col("MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration"),
  ],
  cells(fs, now) {
    const dangling = (fs.status?.conditions ?? []).find((c: any) => c?.type === "Dangling");
    return [
      fs.metadata?.name,
      fs.spec?.priorityLevelConfiguration?.name ?? "",
      fs.spec?.matchingPrecedence ?? 0,
      fs.spec?.distinguisherMethod?.type ?? "*",
      age(fs, now),
      dangling?.status ?? "?",
    ];
  },
};

export const prioritylevelconfigurations: Printer = {
  columns: [
    NAME,
    col("Type", "string", "`type` indicates whether this priority level is subject to limitation on request execution."),
    col("NominalConcurrencyShares", "string", "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level."),
    col("Queues", "string", "`queues` is the number of queues for this priority level."),
    col("HandSize", "string", "`handSize` is a small positive number that configures the shuffle sharding of requests into queues."),
    col("QueueLengthLimit", "string", "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time; excess requests are rejected."),
    AGE,
  ],
  cells(pl, now) {
    const limited = pl.spec?.limited;
    const q = limited?.limitResponse?.queuing;
    return [
      pl.metadata?.name,
      pl.spec?.type ?? "",
      limited ? (limited.nominalConcurrencyShares ?? 0) : "<none>",
      q ? (q.queues ?? 0) : "<none>",
      q ? (q.handSize ?? 0) : "<none>",
      q ? (q.queueLengthLimit ?? 0) : "<none>",
      age(pl, now),
    ];
  },
};
