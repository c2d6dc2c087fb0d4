// A throwaway network namespace joined to the host by a veth pair (host 172.30.<k>.254, namespace 172.30.<k>.1),
// with no route out: for tests that need a non-loopback address the API server can reach.
import { run } from "../../internal/runtime/run.ts";

export interface VethNetns {
  name: string;
  /** /var/run/netns/<name>, for inNetns / nsenter --net=. */
  path: string;
  hostIP: string;
  nsIP: string;
  cleanup(): Promise<void>;
}

export async function createVethNetns(tag: string): Promise<VethNetns> {
  const id = Math.random().toString(36).slice(2, 6);
  const name = `${tag}${id}`.slice(0, 12);
  const k = 1 + Math.floor(Math.random() * 250);
  const hostIP = `172.30.${k}.254`;
  const nsIP = `172.30.${k}.1`;
  await run(["ip", "netns", "add", name]);
  await run(["ip", "-n", name, "link", "set", "lo", "up"]);
  await run(["ip", "link", "add", `${name}h`, "type", "veth", "peer", "name", `${name}n`]);
  await run(["ip", "link", "set", `${name}n`, "netns", name]);
  await run(["ip", "-n", name, "addr", "add", `${nsIP}/24`, "dev", `${name}n`]);
  await run(["ip", "-n", name, "link", "set", `${name}n`, "up"]);
  await run(["ip", "addr", "add", `${hostIP}/24`, "dev", `${name}h`]);
  await run(["ip", "link", "set", `${name}h`, "up"]);
  return {
    name,
    path: `/var/run/netns/${name}`,
    hostIP,
    nsIP,
    async cleanup() {
      await run(["ip", "link", "del", `${name}h`], { allowFail: true });
      await run(["ip", "netns", "del", name], { allowFail: true });
    },
  };
}
