// containerd's event stream (containerd.services.events.v1.Events/Subscribe) read in-process over gRPC, as the
// Tasks API calls are (tasks-api.ts). It replaces a long-lived `ctr events` helper: that was a second Go process
// per node holding ~20 MB of RSS (mostly ctr's own code pages) just to print events for us to parse back.
// Messages are decoded by hand: Envelope{timestamp=1, namespace=2, topic=3, event=4 (Any{type_url=1, value=2})}.
import * as grpc from "@grpc/grpc-js";
import { encodeMessage } from "./tasks-api.ts";

/** One event as `ctr events` printed it: the topic and the event's fields under their protobuf JSON names. */
export interface ContainerdEvent {
  namespace: string;
  topic: string;
  /** For /tasks/exit: container_id, id, pid, exit_status, exited_at; /tasks/oom: container_id; others: what we decode. */
  event: { container_id?: string; id?: string; pid?: number; exit_status?: number; exited_at?: string };
}

type Fields = Map<number, (number | Buffer)[]>;

/** All fields of a protobuf message: varints as numbers, length-delimited ones as bytes (64/32-bit skipped). */
export function decodeFields(b: Buffer): Fields {
  const out: Fields = new Map();
  let off = 0;
  const varint = () => {
    let n = 0;
    for (let shift = 0; off < b.length; shift += 7) {
      const x = b[off++]!;
      n += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return n;
    }
    throw new Error("truncated varint");
  };
  while (off < b.length) {
    const key = varint();
    const num = Math.floor(key / 8);
    const wire = key & 7;
    let v: number | Buffer;
    if (wire === 0) v = varint();
    else if (wire === 2) {
      const len = varint();
      if (off + len > b.length) throw new Error("truncated field");
      v = b.subarray(off, off + len);
      off += len;
    } else if (wire === 1) {
      off += 8;
      continue;
    } else if (wire === 5) {
      off += 4;
      continue;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(num);
    if (list) list.push(v);
    else out.set(num, [v]);
  }
  return out;
}

const str = (f: Fields, n: number) => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString("utf8") : undefined;
};
const num = (f: Fields, n: number) => {
  const v = f.get(n)?.[0];
  return typeof v === "number" ? v : undefined;
};
const msg = (f: Fields, n: number) => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? decodeFields(v) : undefined;
};

/** google.protobuf.Timestamp{seconds=1, nanos=2} as RFC 3339 with nanoseconds, as ctr prints it. */
function timestamp(f: Fields | undefined): string | undefined {
  if (!f) return undefined;
  const seconds = num(f, 1) ?? 0;
  const nanos = num(f, 2) ?? 0;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(nanos).padStart(9, "0")}Z`);
}

/** Decodes one Envelope; the event body is decoded for the task topics the kubelet reads. */
export function decodeEnvelope(b: Buffer): ContainerdEvent {
  const env = decodeFields(b);
  const topic = str(env, 3) ?? "";
  const body = msg(msg(env, 4) ?? new Map(), 2) ?? new Map();
  const event: ContainerdEvent["event"] = {};
  if (topic === "/tasks/exit") {
    // containerd.events.TaskExit: container_id=1, id=2, pid=3, exit_status=4, exited_at=5
    event.container_id = str(body, 1);
    event.id = str(body, 2);
    event.pid = num(body, 3);
    event.exit_status = num(body, 4) ?? 0;
    event.exited_at = timestamp(msg(body, 5));
  } else if (topic.startsWith("/tasks/")) {
    // TaskOOM, TaskStart, TaskDelete, …: container_id is field 1 in each.
    event.container_id = str(body, 1);
  }
  return { namespace: str(env, 2) ?? "", topic, event };
}

export interface EventSubscription {
  close(): void;
}

/**
 * Follows containerd's events of one namespace until close(); on a broken stream (containerd restarted) it
 * subscribes again after `retryMs`. `onGap` runs at every (re)subscription and after every end of a stream:
 * events may have been missed there, as when the `ctr events` helper restarted.
 */
export function subscribeEvents(
  address: string,
  namespace: string,
  on: { event(e: ContainerdEvent): void; gap?(): void },
  retryMs = 1000,
): EventSubscription {
  const client = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure());
  let closed = false;
  let call: grpc.ClientReadableStream<Buffer> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  // SubscribeRequest{filters=1}: only this namespace's events reach us.
  const request = encodeMessage([[1, `namespace==${namespace}`]]);
  const subscribe = () => {
    if (closed) return;
    on.gap?.();
    call = client.makeServerStreamRequest(
      "/containerd.services.events.v1.Events/Subscribe",
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      new grpc.Metadata(),
      {},
    );
    call.on("data", (b: Buffer) => {
      let e: ContainerdEvent;
      try {
        e = decodeEnvelope(b);
      } catch {
        return; // a message we cannot read is skipped, as ctr's unparsable lines were
      }
      if (e.namespace === namespace) on.event(e);
    });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      call = undefined;
      on.gap?.();
      if (!closed) retry = setTimeout(subscribe, retryMs);
    };
    call.on("error", end);
    call.on("end", end);
  };
  subscribe();
  return {
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      call?.cancel();
      client.close();
    },
  };
}
