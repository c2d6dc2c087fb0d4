// The test webhook server as its own process (run inside a test network namespace):
//   bun test/apiserver/webhooks/server.ts <cert> <key> <host> <port>
import { readFileSync } from "node:fs";
import { handler } from "./fixture.ts";

const [cert, key, hostname, port] = process.argv.slice(2);
Bun.serve({ hostname, port: Number(port), tls: { cert: readFileSync(cert!, "utf8"), key: readFileSync(key!, "utf8") }, fetch: handler() });
console.log("listening");
