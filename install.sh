#!/usr/bin/env bash
# Installs kubun from this checkout on a Debian machine and starts a single-node cluster:
# Debian packages + Bun, builds the binary, installs it as /usr/local/bin/kubun, runs `kubun server`
# (as a systemd service where systemd runs, otherwise in the background) and waits for the node to be Ready.
# With INSTALL_KUBUN_URL it installs an agent that joins that server instead.
#   INSTALL_KUBUN_EXEC   extra flags, e.g. "--node-name pi-1 --disable-agent" (never the token: ps shows flags)
#   INSTALL_KUBUN_URL    https://server:6443 — install `kubun agent` joined to it
#   INSTALL_KUBUN_TOKEN  the join token (agent), or the cluster secret (HA servers); kept in the root-only
#                        /etc/kubun/kubun.env as KUBUN_TOKEN, which the service reads: it never appears in ps
#   INSTALL_KUBUN_SKIP_WAIT=true   return once the service is started
#   INSTALL_KUBUN_PRINT=unit|env   print the service unit or the environment file and exit (changes nothing)
set -euo pipefail
cd "$(dirname "$0")"

exec_flags=${INSTALL_KUBUN_EXEC:-}
token=${INSTALL_KUBUN_TOKEN:-}
url=${INSTALL_KUBUN_URL:-}
mode=server
[ -n "$url" ] && mode=agent
env_file=/etc/kubun/kubun.env
case " $exec_flags " in
  *" --token "* | *" --token="* | *" -t "*)
    echo "kubun: do not put the token in INSTALL_KUBUN_EXEC (any local user could read it with ps); use INSTALL_KUBUN_TOKEN" >&2
    exit 1 ;;
esac
if [ "$mode" = agent ] && [ -z "$token" ]; then
  echo "kubun: INSTALL_KUBUN_URL needs INSTALL_KUBUN_TOKEN (the server's 'kubun token show')" >&2
  exit 1
fi

render_env() {
  echo "# kubun service environment (mode 0600: it holds the join token)"
  [ -n "$url" ] && echo "KUBUN_URL=$url"
  [ -n "$token" ] && echo "KUBUN_TOKEN=$token"
  return 0
}

render_unit() {
  cat <<UNIT
[Unit]
Description=kubun - small Kubernetes ($mode)
Wants=network-online.target containerd.service
After=network-online.target containerd.service

[Service]
Type=simple
# Secrets come from the environment file, not the command line (which every user can read in ps).
EnvironmentFile=-$env_file
ExecStart=/usr/local/bin/kubun $mode ${exec_flags}
KillMode=process
Delegate=yes
LimitNOFILE=1048576
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
UNIT
}

case "${INSTALL_KUBUN_PRINT:-}" in
  unit) render_unit; exit 0 ;;
  env) render_env; exit 0 ;;
esac

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
( umask 077; render_env >"$env_file" )
chmod 0600 "$env_file"

if [ -d /run/systemd/system ]; then
  render_unit >/etc/systemd/system/kubun.service
  systemctl daemon-reload
  systemctl enable kubun >/dev/null 2>&1
  systemctl restart kubun
  echo "==> kubun.service started (journalctl -u kubun -f)"
else
  # No systemd (containers, CI images): a background process with a pid file, same environment file.
  if [ -f /var/lib/kubun/kubun.pid ] && kill -0 "$(cat /var/lib/kubun/kubun.pid)" 2>/dev/null; then
    kill "$(cat /var/lib/kubun/kubun.pid)" && sleep 2
  fi
  # shellcheck disable=SC2086
  ( set -a; . "$env_file"; set +a; exec nohup /usr/local/bin/kubun $mode ${exec_flags} >>/var/log/kubun.log 2>&1 ) &
  echo $! >/var/lib/kubun/kubun.pid
  echo "==> kubun $mode started in the background (pid $(cat /var/lib/kubun/kubun.pid), log /var/log/kubun.log)"
fi

if [ "${INSTALL_KUBUN_SKIP_WAIT:-}" = true ] || [ "$mode" = agent ]; then exit 0; fi
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
