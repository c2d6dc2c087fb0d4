// A free loopback TCP port for a process the test starts (port 0 where the code under test allows it is better:
// the port is released before the child binds it).
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
