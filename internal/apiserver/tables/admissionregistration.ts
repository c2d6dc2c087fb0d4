// Tables of mutating/validating webhook configurations, as upstream's printers: Name, Webhooks (how many), Age.
import { AGE, NAME, age, col, type Printer } from "./columns.ts";

const webhookConfigurations: Printer = {
  columns: [NAME, col("Webhooks", "integer", "Webhooks indicates the number of webhooks in this configuration."), AGE],
  cells: (o, now) => [o.metadata?.name, Array.isArray(o.webhooks) ? o.webhooks.length : 0, age(o, now)],
};

export const mutatingwebhookconfigurations = webhookConfigurations;
export const validatingwebhookconfigurations = webhookConfigurations;
