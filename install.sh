#!/usr/bin/env bash
# Installs kubun from this checkout on a Debian machine and starts a single-node cluster:
# Debian packages + Bun, builds the binary, installs it as /usr/local/bin/kubun, runs `kubun server`
# (as a systemd service where systemd runs, otherwise in the background) and waits for the node to be Ready.
#   INSTALL_KUBUN_EXEC   extra flags for `kubun server`, e.g. "--node-name pi-1 --disable-agent"
#   INSTALL_KUBUN_SKIP_WAIT=true   return once the service is started
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
prepare_machine

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "kubun: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
echo "==> building kubun ($arch)"
bun run build "$arch"
install -m 0755 "dist/kubun-linux-$arch" /usr/local/bin/kubun
mkdir -p /etc/kubun /var/lib/kubun

exec_flags=${INSTALL_KUBUN_EXEC:-}
if [ -d /run/systemd/system ]; then
  cat >/etc/systemd/system/kubun.service <<UNIT
[Unit]
Description=kubun - small Kubernetes
Wants=network-online.target containerd.service
After=network-online.target containerd.service

[Service]
Type=simple
ExecStart=/usr/local/bin/kubun server ${exec_flags}
KillMode=process
Delegate=yes
LimitNOFILE=1048576
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable kubun >/dev/null 2>&1
  systemctl restart kubun
  echo "==> kubun.service started (journalctl -u kubun -f)"
else
  # No systemd (containers, CI images): a background process with a pid file.
  if [ -f /var/lib/kubun/kubun.pid ] && kill -0 "$(cat /var/lib/kubun/kubun.pid)" 2>/dev/null; then
    kill "$(cat /var/lib/kubun/kubun.pid)" && sleep 2
  fi
  # shellcheck disable=SC2086
  nohup /usr/local/bin/kubun server ${exec_flags} >>/var/log/kubun.log 2>&1 &
  echo $! >/var/lib/kubun/kubun.pid
  echo "==> kubun server started in the background (pid $(cat /var/lib/kubun/kubun.pid), log /var/log/kubun.log)"
fi

if [ "${INSTALL_KUBUN_SKIP_WAIT:-}" = true ]; then exit 0; fi
if ! command -v kubectl >/dev/null; then
  echo "==> kubectl is not on PATH: not waiting for the node (install kubectl, then: kubectl --kubeconfig /etc/kubun/kubeconfig.yaml get nodes)"
  exit 0
fi
export KUBECONFIG=/etc/kubun/kubeconfig.yaml
echo "==> waiting for the node to be Ready"
for _ in $(seq 1 120); do
  [ -f "$KUBECONFIG" ] && [ -n "$(kubectl get nodes -o name 2>/dev/null)" ] && break
  sleep 1
done
if ! kubectl wait --for=condition=Ready nodes --all --timeout=120s >/dev/null; then
  echo "kubun: the node did not become Ready; see /var/log/kubun.log or journalctl -u kubun" >&2
  exit 1
fi
kubectl get nodes -o wide
