// The few calls of containerd's Tasks API (containerd.services.tasks.v1) that `ctr` cannot make for us:
// - Create with our own stdio FIFOs. `ctr run -d` either gives the shim one --log-uri for stdout and stderr
//   together (file://, so the CRI log cannot tell the streams apart) or FIFOs that ctr itself copies while it
//   lives (gone once it detaches), and never a stdin that outlives ctr. With the paths in CreateTaskRequest
//   the shim writes stdout and stderr to two FIFOs the LogPump reads, and reads stdin from a FIFO the kubelet
//   writes to (kubectl attach, `kubectl run -i`) — as containerd's own CRI plugin does. No process per
//   container, and the FIFOs outlive an agent restart.
// - Exec with the same kind of FIFOs: one terminal (the container's pty, resizable) instead of `ctr tasks -t`
//   wrapped in script(1)'s pty, no ctr process per exec or exec probe, stdin closed with CloseIO.
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

type Field = [num: number, value: string | Uint8Array | number | boolean | undefined];

/** Protobuf encoding of string/bytes/message (wire type 2) and uint32/bool (wire type 0) fields; empty values are omitted. */
export function encodeMessage(fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const [num, v] of fields) {
    if (v === undefined || v === "" || v === 0 || v === false) continue;
    if (typeof v === "string" || v instanceof Uint8Array) {
      const b = typeof v === "string" ? Buffer.from(v, "utf8") : v;
      parts.push(Buffer.from([...varint((num << 3) | 2), ...varint(b.length)]), Buffer.from(b));
    } else parts.push(Buffer.from([...varint(num << 3), ...varint(typeof v === "boolean" ? 1 : v)]));
  }
  return Buffer.concat(parts);
}

/** The first varint field `num` of a message (e.g. WaitResponse.exit_status), 0 when absent. */
export function decodeVarintField(b: Buffer, num: number): number {
  let off = 0;
  const read = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const x = b[off++]!;
      n += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return n;
      shift += 7;
    }
  };
  while (off < b.length) {
    const key = read();
    const wire = key & 7;
    if (wire === 0) {
      const v = read();
      if (key >>> 3 === num) return v;
    } else if (wire === 2) off += read();
    else if (wire === 1) off += 8;
    else if (wire === 5) off += 4;
    else break;
  }
  return 0;
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

  private call(method: string, body: Buffer, deadline: number | undefined = Date.now() + 60_000): Promise<Buffer> {
    const md = new grpc.Metadata();
    md.set("containerd-namespace", this.namespace);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        SERVICE + method,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        md,
        deadline ? { deadline } : {},
        (err, res) => (err ? reject(new Error(`${err.details || err.message}`)) : resolve(res ?? Buffer.alloc(0))),
      );
    });
  }

  /** CreateTaskRequest: container_id=1, stdin=4, stdout=5, stderr=6, terminal=7 (rootfs from the spec's root.path). */
  async create(containerId: string, io: TaskIO): Promise<void> {
    await this.call("Create", encodeMessage([[1, containerId], [4, io.stdin], [5, io.stdout], [6, io.stderr], [7, !!io.terminal]]));
  }

  /** StartRequest: container_id=1, exec_id=2. */
  async start(containerId: string, execId?: string): Promise<void> {
    await this.call("Start", encodeMessage([[1, containerId], [2, execId]]));
  }

  /**
   * ExecProcessRequest: container_id=1, stdin=2, stdout=3, stderr=4, terminal=5, spec=6 (google.protobuf.Any of
   * the OCI Process as JSON, as containerd's typeurl encodes it), exec_id=7.
   */
  async exec(containerId: string, execId: string, io: TaskIO, process: object): Promise<void> {
    const any = encodeMessage([[1, "types.containerd.io/opencontainers/runtime-spec/1/Process"], [2, Buffer.from(JSON.stringify(process))]]);
    await this.call("Exec", encodeMessage([[1, containerId], [2, io.stdin], [3, io.stdout], [4, io.stderr], [5, !!io.terminal], [6, any], [7, execId]]));
  }

  /** WaitRequest: container_id=1, exec_id=2 → WaitResponse.exit_status=1. No deadline: it returns at the exit. */
  async wait(containerId: string, execId: string): Promise<number> {
    return decodeVarintField(await this.call("Wait", encodeMessage([[1, containerId], [2, execId]]), undefined), 1);
  }

  /** DeleteProcessRequest: container_id=1, exec_id=2; returns once the shim has copied all of its output. */
  async deleteProcess(containerId: string, execId: string): Promise<void> {
    await this.call("DeleteProcess", encodeMessage([[1, containerId], [2, execId]]));
  }

  /** KillRequest: container_id=1, exec_id=2, signal=3, all=4. */
  async kill(containerId: string, execId: string | undefined, signal: number): Promise<void> {
    await this.call("Kill", encodeMessage([[1, containerId], [2, execId], [3, signal]]));
  }

  /** CloseIORequest: container_id=1, exec_id=2, stdin=3 — the process reads end-of-file (stdinOnce). */
  async closeStdin(containerId: string, execId?: string): Promise<void> {
    await this.call("CloseIO", encodeMessage([[1, containerId], [2, execId], [3, true]]));
  }

  /** ResizePtyRequest: container_id=1, exec_id=2, width=3, height=4. */
  async resizePty(containerId: string, execId: string | undefined, width: number, height: number): Promise<void> {
    await this.call("ResizePty", encodeMessage([[1, containerId], [2, execId], [3, width], [4, height]]));
  }

  close(): void {
    this.client.close();
  }
}
