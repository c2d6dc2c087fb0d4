#!/usr/bin/python3
# Drives Debian's python3-kubernetes client the way its users do (list, watch with watch=True, bookmarks);
# prints one JSON line of what it saw. Usage: watch_configmaps.py KUBECONFIG NAMESPACE
import json
import sys

from kubernetes import client, config, watch

kubeconfig, ns = sys.argv[1], sys.argv[2]
config.load_kube_config(config_file=kubeconfig)
v1 = client.CoreV1Api()

listed = v1.list_namespaced_config_map(ns)
rv = listed.metadata.resource_version
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-1"), data={"a": "1"}))
v1.patch_namespaced_config_map("py-1", ns, {"data": {"a": "2"}})

seen = []
bookmarks = 0
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_config_map, ns, resource_version=rv, allow_watch_bookmarks=True, timeout_seconds=20):
    if ev["type"] == "BOOKMARK":
        # The client hands bookmarks over as raw dicts.
        bookmarks += 1 if ev["object"]["metadata"]["resourceVersion"] else 0
    else:
        seen.append([ev["type"], ev["object"].metadata.name, ev["object"].data])
    if len(seen) == 2 and bookmarks > 0:
        w.stop()

# A watch of everything from the start (no resourceVersion): the initial state arrives as ADDED.
initial = []
w2 = watch.Watch()
for ev in w2.stream(v1.list_namespaced_config_map, ns, timeout_seconds=20):
    initial.append([ev["type"], ev["object"].metadata.name])
    if ev["object"].metadata.name == "py-1":
        w2.stop()

# Server-side dry-run deletes, from the query and from the DeleteOptions body: the ConfigMap stays.
v1.delete_namespaced_config_map("py-1", ns, dry_run="All")
v1.delete_namespaced_config_map("py-1", ns, body=client.V1DeleteOptions(dry_run=["All"], propagation_policy="Foreground"))
kept = v1.read_namespaced_config_map("py-1", ns)
# A patch that changes nothing returns the stored object unchanged.
same = v1.patch_namespaced_config_map("py-1", ns, {"data": {"a": "2"}})

print(json.dumps({
    "listed": [i.metadata.name for i in listed.items],
    "events": seen,
    "bookmarks": bookmarks,
    "initial": initial,
    "kept": kept.metadata.deletion_timestamp is None,
    "noop_rv_same": same.metadata.resource_version == kept.metadata.resource_version,
}))
