// Request deadlines: Go durations from ?timeout= and upstream's 504 Timeout Status.
import { expect, test } from "bun:test";
import { StatusError } from "../../internal/api/status.ts";
import { isLongRunning, parseGoDuration, withDeadline } from "../../internal/apiserver/timeout.ts";

test("Go durations", () => {
  expect(parseGoDuration("32s")).toBe(32_000);
  expect(parseGoDuration("1m30s")).toBe(90_000);
  expect(parseGoDuration("500ms")).toBe(500);
  expect(parseGoDuration("1h")).toBe(3_600_000);
  expect(parseGoDuration("1.5s")).toBe(1500);
  expect(parseGoDuration("10")).toBeUndefined();
  expect(parseGoDuration("abc")).toBeUndefined();
  expect(parseGoDuration(null)).toBeUndefined();
});

test("deadline: 504 Timeout when the work is slower, the result otherwise", async () => {
  expect(await withDeadline(1000, Promise.resolve(7))).toBe(7);
  let err: unknown;
  try {
    await withDeadline(10, new Promise(() => {}));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(StatusError);
  expect((err as StatusError).toStatus()).toMatchObject({ code: 504, reason: "Timeout" });
});

test("watches and streams are long-running", () => {
  expect(isLongRunning("watch")).toBe(true);
  expect(isLongRunning("get", "log")).toBe(true);
  expect(isLongRunning("create", "exec")).toBe(true);
  expect(isLongRunning("list")).toBe(false);
  expect(isLongRunning("update", "status")).toBe(false);
});
