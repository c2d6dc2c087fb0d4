// The few calls of containerd's Tasks API (containerd.services.tasks.v1) that `ctr` cannot make for us:
// - Create with our own stdio FIFOs. `ctr run -d` either gives the shim one --log-uri for stdout and stderr
//   together (file://, so the CRI log cannot tell the streams apart) or FIFOs that ctr itself copies while it
//   lives (gone once it detaches), and never a stdin that outlives ctr. With the paths in CreateTaskRequest
//   the shim writes stdout and stderr to two FIFOs the LogPump reads, and reads stdin from a FIFO the kubelet
//   writes to (kubectl attach, `kubectl run -i`) — as containerd's own CRI plugin does. No process per
//   container, and the FIFOs outlive an agent restart.
// - ResizePty for a container's or an exec's terminal (kubectl's resize messages), and CloseIO for stdinOnce;
//   ctr 1.6 has no command for either.
// Messages are encoded by hand (a few string/varint fields); @grpc/grpc-js (already used by the etcd client)
// carries them over containerd's unix socket.
import * as grpc from "@grpc/grpc-js";

const SERVICE = "/containerd.services.tasks.v1.Tasks/";

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

type Field = [num: number, value: string | number | boolean | undefined];

/** Protobuf encoding of string (wire type 2) and uint32/bool (wire type 0) fields; empty values are omitted. */
export function encodeMessage(fields: Field[]): Buffer {
  const bytes: number[] = [];
  for (const [num, v] of fields) {
    if (v === undefined || v === "" || v === 0 || v === false) continue;
    if (typeof v === "string") {
      const s = Buffer.from(v, "utf8");
      bytes.push(...varint((num << 3) | 2), ...varint(s.length), ...s);
    } else bytes.push(...varint(num << 3), ...varint(typeof v === "boolean" ? 1 : v));
  }
  return Buffer.from(bytes);
}

export interface TaskIO {
  stdin?: string;
  stdout?: string;
  stderr?: string;
  terminal?: boolean;
}

export class TasksAPI {
  private client: grpc.Client;

  constructor(
    address: string,
    private namespace: string,
  ) {
    this.client = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure());
  }

  private call(method: string, body: Buffer): Promise<void> {
    const md = new grpc.Metadata();
    md.set("containerd-namespace", this.namespace);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        SERVICE + method,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        md,
        { deadline: Date.now() + 60_000 },
        (err) => (err ? reject(new Error(`containerd ${method}: ${err.details || err.message}`)) : resolve()),
      );
    });
  }

  /** CreateTaskRequest: container_id=1, stdin=4, stdout=5, stderr=6, terminal=7 (rootfs from the spec's root.path). */
  create(containerId: string, io: TaskIO): Promise<void> {
    return this.call("Create", encodeMessage([[1, containerId], [4, io.stdin], [5, io.stdout], [6, io.stderr], [7, !!io.terminal]]));
  }

  /** StartRequest: container_id=1, exec_id=2. */
  start(containerId: string): Promise<void> {
    return this.call("Start", encodeMessage([[1, containerId]]));
  }

  /** CloseIORequest: container_id=1, exec_id=2, stdin=3 — the process reads end-of-file (stdinOnce). */
  closeStdin(containerId: string): Promise<void> {
    return this.call("CloseIO", encodeMessage([[1, containerId], [3, true]]));
  }

  /** ResizePtyRequest: container_id=1, exec_id=2, width=3, height=4. */
  resizePty(containerId: string, execId: string | undefined, width: number, height: number): Promise<void> {
    return this.call("ResizePty", encodeMessage([[1, containerId], [2, execId], [3, width], [4, height]]));
  }

  close(): void {
    this.client.close();
  }
}
