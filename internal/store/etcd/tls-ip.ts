// etcd endpoints are usually IP addresses (https://10.0.0.11:2379). grpc-js always passes the endpoint's host as the
// TLS server name, and Bun's tls.connect refuses an IP there (Node only warns; SNI may not carry IPs). Dropping the
// server name for IP literals keeps verification intact: tls.connect then checks the certificate against `host`,
// i.e. the IP must be among the certificate's IP SANs (tested in test/store/etcd-tls.test.ts).
import { isIP } from "node:net";
import tls from "node:tls";

let patched = false;

export function allowIPServerNames(): void {
  if (patched) return;
  patched = true;
  const connect = tls.connect;
  (tls as { connect: (...args: unknown[]) => unknown }).connect = function (this: unknown, ...args: unknown[]) {
    const opts = args.find((a): a is { servername?: string; host?: string } => typeof a === "object" && a !== null);
    if (opts?.servername && isIP(opts.servername)) {
      opts.host ??= opts.servername;
      delete opts.servername;
    }
    return (connect as (...a: unknown[]) => unknown).apply(this, args);
  };
}
