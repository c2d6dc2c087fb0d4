// A tiny HTTP API server for heartbeat tests: Leases in kube-node-lease (get/create/update with resourceVersion
// checks) and Node status patches, with hooks that make a call hang, wait, or kill the connection.
export type Behaviour = "hang" | "die" | number | undefined;

export interface FakeLeaseAPI {
  url: string;
  leases: Map<string, any>;
  /** Every call, e.g. "PUT lease n1", "PATCH status n1". */
  calls: string[];
  /** Decides what the n-th (0-based) call of a kind does: hang, die (close the connection), wait ms, or answer. */
  behave: { put?: (n: number) => Behaviour; status?: (n: number) => Behaviour };
  stop(): void;
}

/** `leases` may be shared by two fake servers, as two kubun servers share one datastore. */
export function fakeLeaseAPI(leases = new Map<string, any>()): FakeLeaseAPI {
  const calls: string[] = [];
  const counts = { put: 0, status: 0 };
  let rv = 0;
  const behave: FakeLeaseAPI["behave"] = {};
  const json = (obj: unknown, status = 200) => new Response(JSON.stringify(obj), { status, headers: { "content-type": "application/json" } });
  const notFound = (name: string) => json({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: `leases.coordination.k8s.io "${name}" not found` }, 404);
  const apply = async (b: Behaviour): Promise<Response | undefined> => {
    if (b === "hang") return new Promise<Response>(() => {});
    if (b === "die") {
      // The server dies in the middle of the request: every connection closes unanswered, the port refuses.
      setTimeout(() => srv.stop(true), 20);
      return new Promise<Response>(() => {});
    }
    if (typeof b === "number") await Bun.sleep(b);
    return undefined;
  };
  const srv: ReturnType<typeof Bun.serve> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      const lease = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/kube-node-lease\/leases(?:\/([^/]+))?$/.exec(u.pathname);
      const status = /^\/api\/v1\/nodes\/([^/]+)\/status$/.exec(u.pathname);
      if (lease) {
        const name = lease[1];
        calls.push(`${req.method} lease ${name ?? ""}`.trim());
        if (req.method === "GET" && name) return leases.has(name) ? json(leases.get(name)) : notFound(name);
        if (req.method === "POST") {
          const obj = await req.json();
          if (leases.has(obj.metadata.name)) return json({ kind: "Status", code: 409, reason: "AlreadyExists", message: "exists" }, 409);
          obj.metadata.resourceVersion = String(++rv);
          leases.set(obj.metadata.name, obj);
          return json(obj, 201);
        }
        if (req.method === "PUT" && name) {
          const answer = await apply(behave.put?.(counts.put++));
          if (answer) return answer;
          const obj = await req.json();
          const cur = leases.get(name);
          if (!cur) return notFound(name);
          if (obj.metadata.resourceVersion !== cur.metadata.resourceVersion) return json({ kind: "Status", code: 409, reason: "Conflict", message: "the object has been modified" }, 409);
          obj.metadata.resourceVersion = String(++rv);
          leases.set(name, obj);
          return json(obj);
        }
      }
      if (status && req.method === "PATCH") {
        calls.push(`PATCH status ${status[1]}`);
        const answer = await apply(behave.status?.(counts.status++));
        if (answer) return answer;
        return json({ apiVersion: "v1", kind: "Node", metadata: { name: status[1], uid: "node-uid" } });
      }
      return json({ kind: "Status", code: 404, reason: "NotFound", message: `${req.method} ${u.pathname}` }, 404);
    },
  });
  return { url: `http://127.0.0.1:${srv.port}`, leases, calls, behave, stop: () => srv.stop(true) };
}
