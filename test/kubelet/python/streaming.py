#!/usr/bin/python3
# Drives Debian's python3-kubernetes client's streaming (websocket v4.channel.k8s.io) the way its users do:
# exec with separate stdout/stderr and the return code, exec with stdin, attach to a stdin container, and
# port-forward. Prints one JSON object of what it saw. Usage: streaming.py KUBECONFIG POD STDIN_POD PF_POD
import json
import sys

from kubernetes import client, config
from kubernetes.stream import portforward, stream

kubeconfig, pod, stdin_pod, pf_pod = sys.argv[1:5]
config.load_kube_config(config_file=kubeconfig)
v1 = client.CoreV1Api()
out = {}

resp = stream(v1.connect_get_namespaced_pod_exec, pod, "default", command=["sh", "-c", "echo py-out; echo py-err >&2; exit 5"],
              stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
resp.run_forever(timeout=20)
out["exec"] = {"stdout": resp.read_stdout(), "stderr": resp.read_stderr(), "returncode": resp.returncode}
resp.close()

resp = stream(v1.connect_get_namespaced_pod_exec, pod, "default", command=["tr", "a-z", "A-Z"],
              stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
resp.write_stdin("from python\n")
got = ""
while "FROM PYTHON" not in got and resp.is_open():
    resp.update(timeout=5)
    got += resp.read_stdout()
out["exec_stdin"] = got
resp.close()

resp = stream(v1.connect_get_namespaced_pod_attach, stdin_pod, "default", stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
resp.write_stdin("hello attach\n")
got = ""
while "echo:hello attach" not in got and resp.is_open():
    resp.update(timeout=5)
    got += resp.read_stdout()
out["attach"] = got
resp.close()

pf = portforward(v1.connect_get_namespaced_pod_portforward, pf_pod, "default", ports="8080")
sock = pf.socket(8080)
sock.setblocking(True)
sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    chunk = sock.recv(4096)
    if not chunk:
        break
    data += chunk
sock.close()
out["portforward"] = data.decode()
out["portforward_error"] = pf.error(8080)
pf.close()
print(json.dumps(out))
