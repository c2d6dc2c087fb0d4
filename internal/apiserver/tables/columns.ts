// Column definitions shared by the printers, and the Printer shape.
import { since } from "./format.ts";

export type Obj = Record<string, any>;

export interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface Printer {
  columns: Column[];
  cells(obj: Obj, now: number): unknown[];
  /** Row conditions (pods report Completed for terminal phases). */
  conditions?(obj: Obj): { type: string; status: string }[] | undefined;
}

export const NAME_DOC =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
export const AGE_DOC =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

export function col(name: string, type = "string", description = "", priority = 0, format = ""): Column {
  return { name, type, format, description, priority };
}
export const NAME = col("Name", "string", NAME_DOC, 0, "name");
export const AGE = col("Age", "string", AGE_DOC);
export const CONTAINERS = col("Containers", "string", "Names of each container in the template.", 1);
export const IMAGES = col("Images", "string", "Images referenced by each container in the template.", 1);
export const selectorCol = (d: string) => col("Selector", "string", d, 1);

export const age = (o: Obj, now: number) => since(o.metadata?.creationTimestamp, now);
export const num = (v: unknown) => (typeof v === "number" ? v : 0);
