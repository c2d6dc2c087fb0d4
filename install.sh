#!/bin/sh
# kubun installer, in the manner of k3s's get.k3s.io script. POSIX sh (Alpine has no bash).
# Where the binary comes from, first match wins:
#   INSTALL_KUBUN_BINARY=/path          a kubun binary already on this machine
#   INSTALL_KUBUN_DOWNLOAD_URL=<base>   fetch <base>/kubun-linux-<arch> and <base>/sha256sum-<arch>.txt, verify, install
#   kubun-linux-<arch> beside this script (a release folder: `bun run release` writes dist/release/), verified with
#                                       sha256sum-<arch>.txt when it is there
#   a source checkout beside this script: installs Bun and the Debian packages, builds the binary
# What it installs:
#   KUBUN_URL (+ KUBUN_TOKEN or KUBUN_TOKEN_FILE)  an agent joined to that server; otherwise a server
#                                       (INSTALL_KUBUN_URL / INSTALL_KUBUN_TOKEN are accepted too)
#   INSTALL_KUBUN_EXEC                  the command and/or flags: "server --node-name pi-1", "--tls-san my.host"
#   INSTALL_KUBUN_NAME                  service name (default kubun, kubun-agent for an agent)
#   INSTALL_KUBUN_BIN_DIR               where kubun, kubun-killall.sh and kubun-uninstall.sh go (/usr/local/bin)
#   INSTALL_KUBUN_SKIP_ENABLE=true      do not enable the service at boot
#   INSTALL_KUBUN_SKIP_START=true       do not (re)start it
#   INSTALL_KUBUN_SKIP_WAIT=true        do not wait for the node to be Ready
#   INSTALL_KUBUN_SKIP_DEPS=true        do not install Debian packages
#   INSTALL_KUBUN_ROOT=<dir>            testing and packaging: /etc, /var/lib, /var/log go under <dir> (no systemctl)
#   INSTALL_KUBUN_INIT=systemd|openrc|none   override the detected init system (testing and packaging)
#   INSTALL_KUBUN_PRINT=unit|env|openrc print the service file or the environment file and exit (changes nothing)
# Every KUBUN_* variable (KUBUN_TOKEN included) goes to the service's environment file, mode 0600: secrets are
# never written into the unit or put on the command line (where any local user reads them with ps).
# Running it again upgrades the binary in place and restarts the service; the data dir is kept.
set -euf # no globbing: flags are split on spaces only

info() { echo "[INFO]  $*"; }
warn() { echo "[WARN]  $*" >&2; }
fatal() { echo "[ERROR] $*" >&2; exit 1; }

case "$0" in
  */install.sh | install.sh) script_dir=$(cd "$(dirname "$0")" && pwd) ;;
  *) script_dir= ;; # piped into sh: no folder beside us
esac
root=${INSTALL_KUBUN_ROOT:-}
root=${root%/}
bin_dir=${INSTALL_KUBUN_BIN_DIR:-/usr/local/bin}
exec_line=${INSTALL_KUBUN_EXEC:-}
KUBUN_URL=${KUBUN_URL:-${INSTALL_KUBUN_URL:-}}
KUBUN_TOKEN=${KUBUN_TOKEN:-${INSTALL_KUBUN_TOKEN:-}}
KUBUN_TOKEN_FILE=${KUBUN_TOKEN_FILE:-}
# Installs made by the first install.sh kept URL and token in /etc/kubun/kubun.env: running the new one without
# them upgrades that install (an agent stays an agent).
legacy_env="$root/etc/kubun/kubun.env"
if [ -z "$KUBUN_URL$KUBUN_TOKEN$KUBUN_TOKEN_FILE" ] && [ -f "$legacy_env" ]; then
  KUBUN_URL=$(sed -n 's/^KUBUN_URL=//p' "$legacy_env")
  KUBUN_TOKEN=$(sed -n 's/^KUBUN_TOKEN=//p' "$legacy_env")
fi

# --- command and flags (k3s: a leading "server"/"agent" in INSTALL_KUBUN_EXEC is the command) ---
cmd=
case "$exec_line" in
  server | server\ *) cmd=server; exec_line=${exec_line#server} ;;
  agent | agent\ *) cmd=agent; exec_line=${exec_line#agent} ;;
esac
if [ -z "$cmd" ]; then
  if [ -n "$KUBUN_URL" ]; then cmd=agent; else cmd=server; fi
fi
if [ "$cmd" = agent ] && [ -z "$KUBUN_URL" ] && ! printf ' %s ' "$exec_line" | grep -Eq ' (--server|-s)[ =]'; then
  fatal "an agent needs KUBUN_URL (https://server:6443)"
fi
if [ "$cmd" = agent ] && [ -z "$KUBUN_TOKEN" ] && [ -z "$KUBUN_TOKEN_FILE" ]; then
  fatal "KUBUN_URL needs KUBUN_TOKEN or KUBUN_TOKEN_FILE (the server's 'kubun token show')"
fi
case " $exec_line " in
  *" --token "* | *" --token="* | *" -t "*)
    fatal "do not put the token in INSTALL_KUBUN_EXEC (any local user could read it with ps); use KUBUN_TOKEN or KUBUN_TOKEN_FILE" ;;
esac
if [ "$cmd" = agent ]; then name=${INSTALL_KUBUN_NAME:-kubun-agent}; else name=${INSTALL_KUBUN_NAME:-kubun}; fi
# The first install.sh named an agent's unit kubun.service too: upgrading keeps that one unit.
if [ "$cmd" = agent ] && [ -z "${INSTALL_KUBUN_NAME:-}" ] && grep -qs '^ExecStart=.*/kubun agent' "$root/etc/systemd/system/kubun.service"; then
  name=kubun
fi
case "$name" in *[!A-Za-z0-9_.-]* | "") fatal "INSTALL_KUBUN_NAME: letters, digits, '.', '_' and '-' only" ;; esac

# The value of a flag in INSTALL_KUBUN_EXEC (--flag v, --flag=v or -x v), or empty.
flag_value() {
  long=$1 short=${2:-}
  # shellcheck disable=SC2086
  set -- $exec_line
  while [ $# -gt 0 ]; do
    case "$1" in
      "--$long="*) echo "${1#--"$long"=}"; return ;;
      "--$long") echo "${2:-}"; return ;;
      *) if [ -n "$short" ] && [ "$1" = "-$short" ]; then echo "${2:-}"; return; fi ;;
    esac
    shift
  done
}
# Paths kubun uses, given in INSTALL_KUBUN_EXEC or defaulted (under INSTALL_KUBUN_ROOT, passed as flags).
extra_flags=
path_flag() { # flag short default -> sets REPLY
  v=$(flag_value "$1" "$2")
  if [ -z "$v" ]; then
    v="$root$3"
    [ -n "$root" ] && extra_flags="$extra_flags --$1 $v"
  fi
  REPLY=$v
}
path_flag data-dir d /var/lib/kubun; data_dir=$REPLY
path_flag config c /etc/kubun/config.yaml; config_file=$REPLY
path_flag pod-log-dir "" /var/log/pods; pod_log_dir=$REPLY
kubeconfig=
if [ "$cmd" = server ]; then path_flag write-kubeconfig o /etc/kubun/kubeconfig.yaml; kubeconfig=$REPLY; fi
# shellcheck disable=SC2086
exec_flags=$(echo $exec_line$extra_flags) # one space between words
case "$exec_flags" in *\'* | *\"* | *\\*) fatal "INSTALL_KUBUN_EXEC: quotes and backslashes are not supported" ;; esac

# --- init system ---
init=${INSTALL_KUBUN_INIT:-}
case "${INSTALL_KUBUN_PRINT:-}" in unit) init=${init:-systemd} ;; openrc) init=${init:-openrc} ;; esac
if [ -z "$init" ]; then
  if [ -n "$root" ]; then init=none
  elif [ -d /run/systemd/system ]; then init=systemd
  elif [ -x /sbin/openrc-run ] && [ -d /run/openrc ]; then init=openrc
  else init=none
  fi
fi
case "$init" in
  systemd) unit_file="$root/etc/systemd/system/$name.service"; env_file="$unit_file.env" ;;
  openrc) unit_file="$root/etc/init.d/$name"; env_file="$root/etc/init.d/$name.env" ;;
  none) unit_file=; env_file="$root/etc/kubun/$name.env" ;;
  *) fatal "INSTALL_KUBUN_INIT: systemd, openrc or none" ;;
esac
log_file="$root/var/log/$name.log"
pid_file="$data_dir/kubun.pid"
bin="$bin_dir/kubun"

render_env() {
  echo "# kubun service environment: read by the service, mode 0600 (it may hold the join token)"
  # Every KUBUN_* variable of the installer's environment, as k3s does with K3S_*.
  [ -n "$KUBUN_URL" ] && echo "KUBUN_URL=$KUBUN_URL"
  [ -n "$KUBUN_TOKEN" ] && echo "KUBUN_TOKEN=$KUBUN_TOKEN"
  [ -n "$KUBUN_TOKEN_FILE" ] && echo "KUBUN_TOKEN_FILE=$KUBUN_TOKEN_FILE"
  env | grep -E '^KUBUN_[A-Z0-9_]+=' | grep -Ev '^KUBUN_(URL|TOKEN|TOKEN_FILE)=' || true
}

render_unit() {
  cat <<UNIT
[Unit]
Description=kubun - small Kubernetes ($cmd)
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
# kubun tells systemd when it serves (sd_notify READY=1): \`systemctl start\` returns once the node is up.
Type=notify
# kubun's JIT options (internal/ops/jitpolicy.ts), set here so it need not restart itself to get them; the
# environment file, read after, can override them.
Environment=BUN_JSC_thresholdForFTLOptimizeAfterWarmUp=1000000
# Secrets come from the environment file (mode 0600), never from this unit or the command line.
EnvironmentFile=-$env_file
# Pods live on in their shims when kubun restarts or is upgraded: only the kubun process is stopped.
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=$bin $cmd${exec_flags:+ $exec_flags}
UNIT
}

render_openrc() {
  cat <<RC
#!/sbin/openrc-run
# kubun ($cmd), installed by install.sh
description="kubun - small Kubernetes ($cmd)"
command="$bin"
command_args="$cmd${exec_flags:+ $exec_flags}"
command_background=true
pidfile="/var/run/$name.pid"
output_log="$log_file"
error_log="$log_file"
supervisor=supervise-daemon
respawn_delay=5
respawn_max=0
rc_ulimit="-n 1048576 -u unlimited"

depend() {
  after network-online
  want cgroups
}

start_pre() {
  modprobe br_netfilter 2>/dev/null || true
  modprobe overlay 2>/dev/null || true
}

# kubun's JIT options (see the systemd unit); the environment file below can override them.
export BUN_JSC_thresholdForFTLOptimizeAfterWarmUp=1000000
# Secrets come from the environment file (mode 0600), never from the command line; exported to the service.
set -o allexport
if [ -f "$env_file" ]; then . "$env_file"; fi
set +o allexport
RC
}

case "${INSTALL_KUBUN_PRINT:-}" in
  unit) render_unit; exit 0 ;;
  env) render_env; exit 0 ;;
  openrc) render_openrc; exit 0 ;;
  "") ;;
  *) fatal "INSTALL_KUBUN_PRINT: unit, env or openrc" ;;
esac

[ "$(id -u)" = 0 ] || fatal "run this as root (sudo $0)"

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fatal "unsupported architecture $(uname -m) (kubun ships amd64 and arm64)" ;;
esac

# --- host packages: installed where apt exists, listed where it does not ---
KUBUN_PACKAGES="containerd runc nftables iproute2 kmod containernetworking-plugins ca-certificates procps util-linux"
deps() {
  if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
    missing=
    for p in $KUBUN_PACKAGES; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
      info "installing Debian packages:$missing"
      apt-get update -qq
      # shellcheck disable=SC2086
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    return
  fi
  missing=
  for c in containerd ctr runc containerd-shim-runc-v2 nft ip nsenter modprobe; do
    command -v "$c" >/dev/null || missing="$missing $c"
  done
  for p in bridge host-local loopback portmap; do
    [ -x "/usr/lib/cni/$p" ] || missing="$missing /usr/lib/cni/$p"
  done
  if [ -n "$missing" ]; then
    warn "missing:$missing"
    if command -v apk >/dev/null; then
      warn "on Alpine: apk add containerd runc nftables iproute2 cni-plugins util-linux (then ln -s /usr/libexec/cni /usr/lib/cni)"
    else
      warn "install containerd, runc, nftables, iproute2 and the CNI plugins (in /usr/lib/cni) with your package manager"
    fi
    warn "kubun will refuse to start until they are there ('kubun check-config' lists what is missing)"
  fi
}

# --- the binary ---
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() { # url file
  if command -v curl >/dev/null; then curl -fsSL -o "$2" "$1"
  elif command -v wget >/dev/null; then wget -qO "$2" "$1"
  else fatal "need curl or wget to download $1"
  fi
}

# Checks dir/kubun-linux-<arch> against the line for it in sum_file.
verify() { # dir sum_file
  line=$(grep -E "[[:space:]]\*?kubun-linux-$arch\$" "$2" || true)
  [ -n "$line" ] || fatal "$2 has no checksum for kubun-linux-$arch"
  want=${line%% *}
  got=$(sha256sum "$1/kubun-linux-$arch" | cut -d' ' -f1)
  [ "$want" = "$got" ] || fatal "checksum mismatch for kubun-linux-$arch: want $want, got $got"
  info "verified kubun-linux-$arch (sha256 $got)"
}

if [ "${INSTALL_KUBUN_SKIP_DEPS:-}" != true ]; then deps; fi
if [ -n "${INSTALL_KUBUN_BINARY:-}" ]; then
  [ -f "$INSTALL_KUBUN_BINARY" ] || fatal "INSTALL_KUBUN_BINARY: no such file $INSTALL_KUBUN_BINARY"
  src=$INSTALL_KUBUN_BINARY
elif [ -n "${INSTALL_KUBUN_DOWNLOAD_URL:-}" ]; then
  base=${INSTALL_KUBUN_DOWNLOAD_URL%/}
  info "downloading $base/kubun-linux-$arch"
  fetch "$base/sha256sum-$arch.txt" "$tmp/sha256sum-$arch.txt"
  fetch "$base/kubun-linux-$arch" "$tmp/kubun-linux-$arch"
  verify "$tmp" "$tmp/sha256sum-$arch.txt"
  src="$tmp/kubun-linux-$arch"
elif [ -n "$script_dir" ] && [ -f "$script_dir/kubun-linux-$arch" ]; then
  if [ -f "$script_dir/sha256sum-$arch.txt" ]; then verify "$script_dir" "$script_dir/sha256sum-$arch.txt"; fi
  src="$script_dir/kubun-linux-$arch"
elif [ -n "$script_dir" ] && [ -f "$script_dir/package.json" ] && [ -f "$script_dir/cmd/kubun.ts" ]; then
  # A source checkout: Bun, the npm packages and a build (the quick start of the README).
  info "building kubun ($arch) from the checkout in $script_dir"
  (cd "$script_dir" && bash -c '. scripts/deps.sh; need_root; install_apt_packages; install_bun; install_node_modules' && bun run build "$arch")
  src="$script_dir/dist/kubun-linux-$arch"
else
  fatal "no kubun binary: run this from a release folder, or set INSTALL_KUBUN_BINARY or INSTALL_KUBUN_DOWNLOAD_URL"
fi

mkdir -p "$bin_dir"
# Replaced by rename: a running kubun keeps its old file, the restart below runs the new one.
cp "$src" "$bin_dir/.kubun.new"
chmod 0755 "$bin_dir/.kubun.new"
mv -f "$bin_dir/.kubun.new" "$bin"
info "installed $bin ($("$bin" version))"

# --- killall and uninstall wrappers, with this install's paths ---
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
common_args="--data-dir $(q "$data_dir") --name $(q "$name") --pid-file $(q "$pid_file") --root $(q "${root:-/}") --config $(q "$config_file")"
removals=
for f in "$bin_dir/kubun-killall.sh" "$bin_dir/kubun-uninstall.sh" "$bin" "$env_file" "$log_file" "$pod_log_dir" "$root/etc/kubun" ${unit_file:+"$unit_file"} ${kubeconfig:+"$kubeconfig"}; do
  removals="$removals $(q "$f")"
done
cat >"$bin_dir/kubun-killall.sh" <<EOF
#!/bin/sh
# Stops kubun, its containers and shims, unmounts pod volumes, removes pod network namespaces, the bridge, routes
# and nftables tables. Keeps the data: starting the service again brings the node back.
exec $(q "$bin") killall $common_args "\$@"
EOF
cat >"$bin_dir/kubun-uninstall.sh" <<EOF
#!/bin/sh
# kubun-killall.sh, then removes the service, the binary, config, data and logs: nothing is left behind.
exec $(q "$bin") uninstall $common_args$removals "\$@"
EOF
chmod 0755 "$bin_dir/kubun-killall.sh" "$bin_dir/kubun-uninstall.sh"

# --- environment file: rewritten when KUBUN_* settings are given, kept on a bare upgrade ---
mkdir -p "$(dirname "$env_file")" "$data_dir" "$(dirname "$log_file")"
# Under a packaging root kubun is pointed at its own config file (--config), which must exist.
if [ -n "$root" ] && [ ! -f "$config_file" ]; then
  mkdir -p "$(dirname "$config_file")"
  echo "# kubun configuration: the same keys as the flags (see kubun server --help)" >"$config_file"
fi
if [ ! -f "$env_file" ] || [ -n "$(render_env | grep -v '^#' || true)" ]; then
  (umask 077; render_env >"$env_file.tmp")
  mv -f "$env_file.tmp" "$env_file"
fi
chmod 0600 "$env_file"

skip_start=${INSTALL_KUBUN_SKIP_START:-false}
skip_enable=${INSTALL_KUBUN_SKIP_ENABLE:-false}
live=true
[ -z "$root" ] || live=false # a packaging root is not this machine: write files, touch no service

case "$init" in
  systemd)
    render_unit >"$unit_file"
    info "wrote $unit_file"
    if [ "$live" = true ]; then
      systemctl daemon-reload
      [ "$skip_enable" = true ] || systemctl enable "$name.service" >/dev/null 2>&1
      if [ "$skip_start" != true ]; then
        info "starting $name.service (journalctl -u $name -f)"
        systemctl restart "$name.service"
      fi
    fi
    ;;
  openrc)
    render_openrc >"$unit_file"
    chmod 0755 "$unit_file"
    info "wrote $unit_file"
    if [ "$live" = true ]; then
      [ "$skip_enable" = true ] || rc-update add "$name" default >/dev/null
      [ "$skip_start" = true ] || rc-service "$name" restart
    fi
    ;;
  none)
    # No init system (containers, CI): a background process with a pid file and a log, same environment file.
    old=$(cat "$pid_file" 2>/dev/null || true)
    # Only a kubun: a stale pid file's number may belong to another process by now.
    if [ -n "$old" ] && kill -0 "$old" 2>/dev/null && tr '\0' ' ' <"/proc/$old/cmdline" | grep -Eq ' (server|agent)( |$)'; then
      info "stopping the running kubun (pid $old) to upgrade it"
      kill "$old"
      for _ in $(seq 1 300); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$old" 2>/dev/null || true
    fi
    if [ "$skip_start" != true ]; then
      # shellcheck disable=SC2086
      ( set -a; . "$env_file"; set +a; exec setsid nohup "$bin" $cmd $exec_flags </dev/null >>"$log_file" 2>&1 ) &
      echo $! >"$pid_file"
      info "kubun $cmd started in the background (pid $(cat "$pid_file"), log $log_file)"
    fi
    ;;
esac

if [ "$skip_start" = true ] || [ "${INSTALL_KUBUN_SKIP_WAIT:-}" = true ] || [ "$cmd" = agent ]; then exit 0; fi
if ! command -v kubectl >/dev/null; then
  info "kubectl is not on PATH: not waiting for the node (then: KUBECONFIG=$kubeconfig kubectl get nodes)"
  exit 0
fi
export KUBECONFIG="$kubeconfig"
info "waiting for the node to be Ready"
for _ in $(seq 1 120); do
  [ -f "$KUBECONFIG" ] && [ -n "$(kubectl get nodes -o name 2>/dev/null)" ] && break
  if [ "$init" = none ] && ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    tail -n 5 "$log_file" >&2
    fatal "kubun exited; see $log_file"
  fi
  sleep 1
done
if ! kubectl wait --for=condition=Ready nodes --all --timeout=120s >/dev/null; then
  fatal "the node did not become Ready; see $log_file or journalctl -u $name"
fi
kubectl get nodes -o wide
