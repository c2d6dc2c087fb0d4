// The resource registry in internal/api: built-in rows are fixed; rows added at run time (CRDs) show up in
// RESOURCES and the lookups, replace each other by group/version/resource, and listeners hear every change.
import { afterEach, describe, expect, test } from "bun:test";
import {
  addResource,
  BUILTIN_RESOURCES,
  findKind,
  findResource,
  isBuiltin,
  onResourcesChanged,
  removeResource,
  resourceInfo,
  RESOURCES,
  storageKey,
  type ResourceChange,
} from "../../internal/api/resources.ts";

const crontab = () => resourceInfo("stable.example.com", "v1", "CronTab", "crontabs", true, { shortNames: ["ct"] });

afterEach(() => {
  removeResource("stable.example.com", "v1", "crontabs");
  removeResource("stable.example.com", "v2", "crontabs");
});

describe("resource registry", () => {
  test("built-ins are served and cannot be removed or shadowed", () => {
    const pods = findResource("", "v1", "pods")!;
    expect(pods.kind).toBe("Pod");
    expect(isBuiltin(pods)).toBe(true);
    expect(RESOURCES.length).toBe(BUILTIN_RESOURCES.length);
    expect(() => removeResource("", "v1", "pods")).toThrow("built-in");
    expect(() => addResource(resourceInfo("apps", "v1", "Deployment", "deployments", true))).toThrow("built-in");
    expect(() => addResource(resourceInfo("apps", "v1", "Deployment", "mydeployments", true))).toThrow("built-in");
    expect(findResource("", "v1", "pods")).toBe(pods);
  });

  test("a run-time row has upstream's defaults and is found like a built-in", () => {
    const added = addResource(crontab());
    expect(added).toMatchObject({ listKind: "CronTabList", singular: "crontab", namespaced: true });
    expect(added.verbs).toContain("watch");
    expect(isBuiltin(added)).toBe(false);
    expect(findResource("stable.example.com", "v1", "crontabs")).toBe(added);
    expect(findKind("stable.example.com", "CronTab")).toBe(added);
    expect(RESOURCES).toContain(added);
    expect(storageKey(added, "default", "a")).toBe("/registry/stable.example.com/crontabs/default/a");
  });

  test("listeners hear added, updated and removed; unsubscribing stops them", () => {
    const seen: string[] = [];
    const off = onResourcesChanged((c: ResourceChange) => seen.push(`${c.type} ${c.resource.version}/${c.resource.resource}`));
    addResource(crontab());
    addResource({ ...crontab(), shortNames: ["ct2"] });
    addResource(resourceInfo("stable.example.com", "v2", "CronTab", "crontabs", true));
    expect(RESOURCES.filter((r) => r.group === "stable.example.com").length).toBe(2);
    expect(findResource("stable.example.com", "v1", "crontabs")!.shortNames).toEqual(["ct2"]);
    expect(removeResource("stable.example.com", "v1", "crontabs")?.kind).toBe("CronTab");
    expect(removeResource("stable.example.com", "v1", "crontabs")).toBeUndefined();
    off();
    removeResource("stable.example.com", "v2", "crontabs");
    expect(seen).toEqual(["added v1/crontabs", "updated v1/crontabs", "added v2/crontabs", "removed v1/crontabs"]);
    expect(findResource("stable.example.com", "v1", "crontabs")).toBeUndefined();
    expect(RESOURCES.length).toBe(BUILTIN_RESOURCES.length);
  });

  test("a failing listener does not keep the others from hearing the change", () => {
    const seen: string[] = [];
    const off1 = onResourcesChanged(() => {
      throw new Error("boom");
    });
    const off2 = onResourcesChanged((c) => seen.push(c.type));
    const err = console.error;
    console.error = () => {};
    try {
      addResource(crontab());
    } finally {
      console.error = err;
      off1();
      off2();
    }
    expect(seen).toEqual(["added"]);
    expect(findResource("stable.example.com", "v1", "crontabs")).toBeDefined();
  });
});
