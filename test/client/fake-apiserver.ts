// A tiny in-memory API server for client unit tests: one resource kind per path, list with paging,
// watch as newline-delimited JSON with history, 410 for compacted resourceVersions, bookmarks on demand.

export interface FakeApiServer {
  url: string;
  objects: Map<string, any>;
  requests: { method: string; path: string; search: string; auth: string | null; body?: any }[];
  /** Creates or replaces an object and notifies watchers. */
  put(path: string, obj: any): any;
  remove(path: string, ns: string | undefined, name: string): void;
  /** Drops watch history up to the current revision: older resourceVersions get 410 Expired. */
  compact(): void;
  /** Ends every open watch stream abruptly. */
  breakWatches(): void;
  bookmark(): void;
  watchers(): number;
  stop(): void;
}

interface LogEntry {
  rv: number;
  coll: string;
  type: string;
  obj: any;
}

export function startFakeApiServer(): FakeApiServer {
  let rv = 1;
  let compacted = 0;
  const objects = new Map<string, any>(); // key: coll|ns|name
  const log: LogEntry[] = [];
  const watches = new Set<{ coll: string; ns?: string; send: (e: any) => void; close: (broken: boolean) => void }>();
  const requests: FakeApiServer["requests"] = [];

  function parse(pathname: string) {
    // /api/v1[/namespaces/<ns>]/<res>[/<name>[/<sub>]]  or /apis/<g>/<v>/...
    const parts = pathname.split("/").filter(Boolean);
    const prefix = parts[0] === "api" ? parts.splice(0, 2) : parts.splice(0, 3);
    let ns: string | undefined;
    if (parts[0] === "namespaces" && parts.length >= 3) {
      ns = parts[1];
      parts.splice(0, 2);
    }
    return { coll: prefix.join("/") + "/" + parts[0], ns, name: parts[1], sub: parts[2] };
  }
  const keyOf = (coll: string, ns: string | undefined, name: string) => `${coll}|${ns ?? ""}|${name}`;

  function notify(coll: string, type: string, obj: any) {
    log.push({ rv: Number(obj.metadata.resourceVersion), coll, type, obj });
    for (const w of watches) if (w.coll === coll && (!w.ns || w.ns === obj.metadata.namespace)) w.send({ type, object: obj });
  }

  function put(path: string, obj: any) {
    const { coll } = parse(path);
    const k = keyOf(coll, obj.metadata.namespace, obj.metadata.name);
    const existed = objects.has(k);
    const o = structuredClone(obj);
    o.metadata.resourceVersion = String(++rv);
    o.metadata.uid ??= existed ? objects.get(k).metadata.uid : crypto.randomUUID();
    objects.set(k, o);
    notify(coll, existed ? "MODIFIED" : "ADDED", o);
    return o;
  }

  function remove(path: string, ns: string | undefined, name: string) {
    const { coll } = parse(path);
    const k = keyOf(coll, ns, name);
    const o = objects.get(k);
    if (!o) return;
    objects.delete(k);
    const d = structuredClone(o);
    d.metadata.resourceVersion = String(++rv);
    notify(coll, "DELETED", d);
  }

  const status = (code: number, reason: string, message: string) =>
    Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message }, { status: code });

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body: any = req.method === "GET" || req.method === "DELETE" ? undefined : await req.json().catch(() => undefined);
      requests.push({ method: req.method, path: url.pathname, search: url.search, auth: req.headers.get("authorization"), body });
      if (req.headers.get("authorization") !== "Bearer t0k3n") return status(401, "Unauthorized", "Unauthorized");
      const { coll, ns, name, sub } = parse(url.pathname);
      const q = url.searchParams;
      const inColl = () =>
        [...objects.entries()]
          .filter(([k, o]) => k.startsWith(coll + "|") && (!ns || o.metadata.namespace === ns))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([, o]) => o);

      if (req.method === "GET" && !name && q.get("watch")) {
        const from = Number(q.get("resourceVersion") || rv);
        let ctrl!: ReadableStreamDefaultController<Uint8Array>;
        const enc = new TextEncoder();
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            ctrl = c;
          },
          cancel() {
            watches.delete(w);
          },
        });
        const w = {
          coll,
          ns,
          send: (e: any) => {
            try {
              ctrl.enqueue(enc.encode(JSON.stringify(e) + "\n"));
            } catch {}
          },
          close: (broken: boolean) => {
            watches.delete(w);
            try {
              if (broken) ctrl.error(new Error("broken"));
              else ctrl.close();
            } catch {}
          },
        };
        if (from < compacted) {
          queueMicrotask(() => {
            w.send({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" } });
            w.close(false);
          });
        } else {
          for (const e of log) if (e.coll === coll && e.rv > from && (!ns || e.obj.metadata.namespace === ns)) w.send({ type: e.type, object: e.obj });
          watches.add(w);
          (w as any).bookmarks = q.get("allowWatchBookmarks") === "true";
        }
        return new Response(stream, { headers: { "content-type": "application/json" } });
      }
      if (req.method === "GET" && !name) {
        const all = inColl();
        const limit = Number(q.get("limit") || 0);
        const start = Number(q.get("continue") || 0);
        const items = limit ? all.slice(start, start + limit) : all;
        const next = limit && start + limit < all.length ? String(start + limit) : undefined;
        return Response.json({ kind: "List", apiVersion: "v1", metadata: { resourceVersion: String(rv), continue: next }, items });
      }
      const k = keyOf(coll, ns, name ?? body?.metadata?.name);
      if (req.method === "GET") return objects.has(k) ? Response.json(objects.get(k)) : status(404, "NotFound", `"${name}" not found`);
      if (req.method === "POST" && sub) return Response.json({ ok: true, sub, body }, { status: 201 });
      if (req.method === "POST") {
        if (objects.has(k)) return status(409, "AlreadyExists", `"${body.metadata.name}" already exists`);
        return Response.json(put(url.pathname, { ...body, metadata: { ...body.metadata, namespace: ns ?? body.metadata.namespace } }), { status: 201 });
      }
      if (req.method === "PUT") {
        const cur = objects.get(k);
        if (!cur) return status(404, "NotFound", `"${name}" not found`);
        if (body.metadata.resourceVersion && body.metadata.resourceVersion !== cur.metadata.resourceVersion)
          return status(409, "Conflict", "the object has been modified");
        return Response.json(put(url.pathname, body));
      }
      if (req.method === "PATCH") {
        const cur = objects.get(k);
        if (!cur) return status(404, "NotFound", `"${name}" not found`);
        return Response.json(put(url.pathname, { ...cur, ...body, metadata: cur.metadata }));
      }
      if (req.method === "DELETE") {
        const cur = objects.get(k);
        if (!cur) return status(404, "NotFound", `"${name}" not found`);
        remove(url.pathname, ns, name!);
        return Response.json(cur);
      }
      return status(405, "MethodNotAllowed", "no");
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    objects,
    requests,
    put,
    remove,
    compact() {
      compacted = rv + 1;
      log.length = 0;
    },
    breakWatches() {
      // Ended from the server side (as a restart or timeout would); Bun logs stream errors, so close cleanly.
      for (const w of [...watches]) w.close(false);
    },
    bookmark() {
      for (const w of watches) if ((w as any).bookmarks) w.send({ type: "BOOKMARK", object: { kind: "Pod", metadata: { resourceVersion: String(rv) } } });
    },
    watchers: () => watches.size,
    stop: () => server.stop(true),
  };
}
