// Kubernetes quantities as resource.Quantity parses and prints them.
import { describe, expect, test } from "bun:test";
import { formatQuantity, isQuantity, milliValue, parseQuantity, QuantityError } from "../../internal/api/quantity.ts";

describe("parseQuantity", () => {
  test("CPU in milli-units", () => {
    expect(parseQuantity("250m", "cpu")).toBe(250);
    expect(parseQuantity("1", "cpu")).toBe(1000);
    expect(parseQuantity("1.5", "cpu")).toBe(1500);
    expect(parseQuantity("0.1", "requests.cpu")).toBe(100);
    // Rounds up like MilliValue(): 1 nano-core is 1 milli-core.
    expect(parseQuantity("1n", "cpu")).toBe(1);
    expect(parseQuantity(2, "cpu")).toBe(2000);
  });

  test("memory and other resources in base units", () => {
    expect(parseQuantity("1Gi", "memory")).toBe(1073741824);
    expect(parseQuantity("128974848", "memory")).toBe(128974848);
    expect(parseQuantity("129e6", "memory")).toBe(129000000);
    expect(parseQuantity("129M", "memory")).toBe(129000000);
    expect(parseQuantity("123Mi", "memory")).toBe(128974848);
    expect(parseQuantity("1k", "pods")).toBe(1000);
    expect(parseQuantity("1Ki", "ephemeral-storage")).toBe(1024);
    expect(parseQuantity("0.5", "pods")).toBe(1);
  });

  test("without a resource name: exact value", () => {
    expect(parseQuantity("250m")).toBe(0.25);
    expect(parseQuantity("2Ki")).toBe(2048);
    expect(parseQuantity("-1.5")).toBe(-1.5);
    expect(parseQuantity("1E2")).toBe(100);
    expect(milliValue("0.5")).toBe(500);
  });

  test("malformed quantities throw", () => {
    for (const bad of ["", "abc", "1Gb", "1 Gi", "Gi", "1.2.3", "--1", "1KiB"]) {
      expect(isQuantity(bad)).toBe(false);
      expect(() => parseQuantity(bad, "memory")).toThrow(QuantityError);
    }
    expect(isQuantity("100m")).toBe(true);
    expect(isQuantity(".5")).toBe(true);
  });
});

describe("formatQuantity", () => {
  test("milli-units", () => {
    expect(formatQuantity(250, { milli: true })).toBe("250m");
    expect(formatQuantity(2000, { milli: true })).toBe("2");
  });
  test("binary and decimal suffixes", () => {
    expect(formatQuantity(1073741824, { binary: true })).toBe("1Gi");
    expect(formatQuantity(1536 * 1024, { binary: true })).toBe("1536Ki");
    expect(formatQuantity(1000, { binary: true })).toBe("1000");
    expect(formatQuantity(5000)).toBe("5k");
    expect(formatQuantity(1234)).toBe("1234");
    expect(formatQuantity(0.5)).toBe("500m");
  });
});
