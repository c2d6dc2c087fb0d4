// Merge keys and list types exist once: the OpenAPI documents (what kubectl builds its patches from) carry
// exactly the patch schema's metadata (how the server merges), for every type the patch engine knows.
import { expect, test } from "bun:test";
import { TYPES } from "../../internal/apiserver/patch/schema/types.generated.ts";
import { definitionName, EXTRA_LIST_META, listMetaTable } from "../../internal/apiserver/openapi/list-meta.ts";
import { generateDefinitions } from "../../scripts/gen-openapi.ts";

test("the transcribed table holds only types the patch schema does not describe", () => {
  const types = EXTRA_LIST_META.split("\n").filter((l) => l.trim()).map((l) => l.split(" ")[0]!);
  expect(types.length).toBeGreaterThan(0);
  expect(types.filter((t) => Object.hasOwn(TYPES, t))).toEqual([]);
  expect(() => listMetaTable()).not.toThrow();
});

test("published x-kubernetes-* list and patch extensions agree with the patch schema", async () => {
  const defs = await generateDefinitions();
  const disagreements: string[] = [];
  let checked = 0;
  for (const [type, ts] of Object.entries(TYPES)) {
    const def = defs[definitionName(type)];
    if (!def?.properties) continue;
    for (const [field, prop] of Object.entries(def.properties as Record<string, any>)) {
      const fs = Object.hasOwn(ts.fields, field) && !ts.fields[field]!.map ? ts.fields[field]! : undefined;
      const want = {
        "x-kubernetes-list-type": fs?.list,
        "x-kubernetes-list-map-keys": fs?.keys,
        "x-kubernetes-patch-merge-key": fs?.mergeKey,
        "x-kubernetes-patch-strategy": fs?.strategy,
      };
      for (const [ext, value] of Object.entries(want)) {
        checked++;
        if (JSON.stringify(prop[ext]) !== JSON.stringify(value)) disagreements.push(`${type}.${field} ${ext}: ${JSON.stringify(prop[ext])} ≠ ${JSON.stringify(value)}`);
      }
    }
    if (Boolean(def["x-kubernetes-map-type"] === "atomic") !== Boolean(ts.atomic)) disagreements.push(`${type}: x-kubernetes-map-type`);
  }
  expect(checked).toBeGreaterThan(1000);
  expect(disagreements).toEqual([]);
  // Regression: the hand-written table had missed these, so kubectl and the server merged them differently.
  expect((defs["io.k8s.api.certificates.v1.CertificateSigningRequestStatus"] as any).properties.conditions).toMatchObject({
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
  });
}, 60000);
