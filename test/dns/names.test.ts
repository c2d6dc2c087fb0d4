// Dashed-IP labels and reverse names, IPv4 and IPv6.
import { expect, test } from "bun:test";
import { dashedIP, reverseName, undashIP } from "../../internal/dns/names.ts";

test("dashed IP labels round-trip; other labels are not IPs", () => {
  expect(dashedIP("10.42.0.5")).toBe("10-42-0-5");
  expect(undashIP("10-42-0-5")).toBe("10.42.0.5");
  expect(dashedIP("fd00::1")).toBe("fd00--1");
  expect(undashIP("fd00--1")).toBe("fd00::1");
  expect(undashIP("web")).toBeUndefined();
  expect(undashIP("10-42-0-999")).toBeUndefined();
});

test("reverse names: in-addr.arpa and nibble ip6.arpa", () => {
  expect(reverseName("10.43.0.10")).toBe("10.0.43.10.in-addr.arpa");
  expect(reverseName("fd00::1")).toBe(`1.${"0.".repeat(27)}0.0.d.f.ip6.arpa`);
  expect(reverseName("2001:db8::ff00:42:8329")).toBe("9.2.3.8.2.4.0.0.0.0.f.f.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
});
