// What decode.ts and encode.ts share: the generated field table (schema.generated.json) and the wire constants.
import schema from "./schema.generated.json" with { type: "json" };
import type { MessageSpec } from "./generate.ts";

/** Message type name → field number → field spec. */
export const MESSAGES = schema.messages as unknown as Record<string, MessageSpec>;
/** List types, whose message is {metadata, items}. */
export const LISTS = new Set(schema.lists);
/** "k8s\0": the prefix of an enveloped (runtime.Unknown) protobuf object. */
export const MAGIC = [0x6b, 0x38, 0x73, 0x00];
/** Package prefix of apimachinery's meta/v1 messages (ObjectMeta, Time, Status, ...). */
export const META = "k8s.io.apimachinery.pkg.apis.meta.v1.";
