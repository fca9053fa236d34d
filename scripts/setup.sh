#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for k8ts: Debian's packages the suites use, and pnpm.
# Safe to run again: it installs only what is missing.
set -euo pipefail

# etcd 3.4 (server and etcdctl) is the referee of the store suites; nats-server carries pod logs
# and exec/port-forward streams; iproute2 (`ip`) and util-linux (`unshare`, `nsenter`) build the pods'
# network and mount namespaces when the node agent runs as root (iptables: masquerade for pod traffic
# leaving the cluster). docker.io (dockerd; deploy/start-dockerd.sh starts it where nothing does) and
# docker-compose (1.29) run the compose cluster and its suite (test/compose).
APT_PACKAGES=(etcd-server etcd-client nats-server iproute2 util-linux iptables docker.io docker-compose)

missing=()
for package in "${APT_PACKAGES[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if ((${#missing[@]} > 0)); then
  sudo=''
  [[ $(id -u) -ne 0 ]] && sudo='sudo'
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}"
fi

if ! command -v pnpm >/dev/null || [[ "$(pnpm --version | cut -d. -f1)" != "10" ]]; then
  npm install -g pnpm@10
fi

# kubectl 1.32 is the referee of the API server suites. These machines have it; Debian's archive
# does not carry it, so say so clearly rather than failing later with ENOENT.
if ! command -v kubectl >/dev/null; then
  echo "setup: kubectl (1.32) is not installed; the API server suites (test/apiserver) need it" >&2
fi
