// Well-known names are spelled as upstream's k8s.io/apiserver user and serviceaccount packages spell them.
import { expect, test } from "bun:test";
import * as names from "../../internal/api/names.ts";

test("users and groups as upstream", () => {
  expect(names.PRIVILEGED_GROUP).toBe("system:masters");
  expect(names.NODES_GROUP).toBe("system:nodes");
  expect(names.nodeUserName("pi-1")).toBe("system:node:pi-1");
  expect(names.AUTHENTICATED_GROUP).toBe("system:authenticated");
  expect(names.UNAUTHENTICATED_GROUP).toBe("system:unauthenticated");
  expect(names.ANONYMOUS_USER).toBe("system:anonymous");
  expect(names.serviceAccountUserName("kube-system", "default")).toBe("system:serviceaccount:kube-system:default");
  expect(names.serviceAccountGroups("ns1")).toEqual(["system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"]);
  expect(names.COMPONENT_USERS.scheduler).toBe("system:kube-scheduler");
});
