// kubun certificate check|rotate, as `k3s certificate` (work in internal/ops/certificates.ts).
import { defineCommand } from "citty";
import { certificateFlags } from "../internal/config/flags.ts";
import { commandFromFlags } from "./command.ts";
import { printRows } from "./output.ts";

const check = commandFromFlags("certificate check", "List the certificates with their subject and expiry", certificateFlags, async (s) => {
  const { checkCertificates } = await import("../internal/ops/certificates.ts");
  const list = await checkCertificates(String(s["data-dir"]));
  printRows(String(s.output), list, ["Filename", "Subject", "Usages", "Expires", "Residual time", "Status"], (c) => [
    c.filename,
    c.subject,
    c.usages.join(","),
    c.expires,
    c.residual,
    c.status,
  ]);
});

const rotate = commandFromFlags("certificate rotate", "Rotate the serving certificates (the server must be stopped)", certificateFlags, async (s) => {
  const { rotateCertificates } = await import("../internal/ops/certificates.ts");
  const services = (s.service as string[] | undefined)?.length ? (s.service as string[]) : undefined;
  const moved = rotateCertificates(String(s["data-dir"]), services);
  for (const f of moved) console.log(`moved aside ${f}`);
  console.log(moved.length ? "Certificates rotated: new ones are issued when kubun starts." : "No certificates to rotate.");
});

export const certificateCommand = defineCommand({
  meta: { name: "certificate", description: "Check and rotate certificates" },
  subCommands: { check, rotate },
});
