#!/usr/bin/env bash
# Installs what kubun needs on a Debian machine: Debian packages, Bun 1.4.4, the project's npm packages.
# Sourced by install.sh and scripts/test.sh; safe to run again (every step checks first).
set -euo pipefail

KUBUN_APT_PACKAGES=(containerd runc nftables iptables iproute2 kmod containernetworking-plugins busybox-static etcd-server ca-certificates procps)
# Only the tests need these: Debian's python Kubernetes client, driven as a second real client; for test/install/:
# qemu-user-static and arm64 libc to run the arm64 release binary (needs the arm64 dpkg architecture), systemd for
# `systemd-analyze verify` of the units, curl for install.sh's INSTALL_KUBUN_DOWNLOAD_URL; chromium for the dashboard
# tests (test/dashboard/, driven by playwright-core).
KUBUN_TEST_APT_PACKAGES=(python3-kubernetes qemu-user-static libc6:arm64 systemd curl chromium)
BUN_VERSION=1.4.4

need_root() {
  if [ "$(id -u)" != 0 ]; then echo "kubun: run this as root (sudo $0)" >&2; exit 1; fi
}

# Installs the given Debian packages that are missing (default: KUBUN_APT_PACKAGES).
install_apt_packages() {
  local missing=() wanted=("${KUBUN_APT_PACKAGES[@]}")
  if [ "$#" -gt 0 ]; then wanted=("$@"); fi
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    # Packages of another architecture (libc6:arm64) need that architecture enabled first.
    for p in "${missing[@]}"; do
      case "$p" in
        *:*) dpkg --print-foreign-architectures | grep -qx "${p#*:}" || dpkg --add-architecture "${p#*:}" ;;
      esac
    done
    echo "==> installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_bun() {
  if command -v bun >/dev/null && [ "$(bun --version)" = "$BUN_VERSION" ]; then return; fi
  if ! command -v npm >/dev/null; then
    echo "==> installing npm (to fetch bun)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  echo "==> installing bun@$BUN_VERSION"
  npm i -g "bun@$BUN_VERSION" >/dev/null 2>&1
  command -v bun >/dev/null || { echo "kubun: bun did not install" >&2; exit 1; }
}

install_node_modules() {
  echo "==> bun install"
  bun install --frozen-lockfile >/dev/null
}

# containerd is started by hand where there is no systemd (containers, CI).
ensure_containerd() {
  if ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then return; fi
  if [ -d /run/systemd/system ]; then
    systemctl enable --now containerd >/dev/null 2>&1 || true
  else
    mkdir -p /var/log
    nohup containerd >/var/log/containerd.log 2>&1 &
  fi
  for _ in $(seq 1 50); do
    ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "kubun: containerd did not start (see /var/log/containerd.log)" >&2
  exit 1
}

# Everything a fresh machine needs before kubun builds, runs or is tested.
prepare_machine() {
  need_root
  install_apt_packages
  install_bun
  install_node_modules
  ensure_containerd
}
