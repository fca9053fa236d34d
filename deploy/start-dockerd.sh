#!/usr/bin/env bash
# Starts a Docker engine when none answers, and waits until `docker info` does (as root; for CI and
# machines where nothing starts dockerd, such as containers without systemd). Idempotent: nothing
# happens when an engine answers. Its log: /var/log/k8ts-dockerd.log.
#
# --iptables=false: dockerd's own rules would set the FORWARD policy to DROP, and with
# br_netfilter loaded that drops traffic across the bridges of `k8ts up`'s node hosts on this same
# machine. The compose cluster does not need them: its containers talk on one bridge, published
# ports go through docker-proxy, and it reaches nothing outside. K8TS_DOCKERD_ARGS replaces them.
set -euo pipefail

docker info >/dev/null 2>&1 && exit 0
command -v dockerd >/dev/null || { echo "start-dockerd: dockerd is not installed (Debian: apt-get install docker.io)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "start-dockerd: run as root (or start Docker your usual way)" >&2; exit 1; }

log=/var/log/k8ts-dockerd.log
# A dockerd that died uncleanly leaves its pid file; a live one that does not answer yet is waited for.
pidfile=/var/run/docker.pid
if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "start-dockerd: dockerd (pid $(cat "$pidfile")) is starting; waiting" >&2
else
  read -r -a args <<<"${K8TS_DOCKERD_ARGS:---iptables=false}"
  # A session of its own: killing the process group (or terminal) of whoever ran this must not take
  # the engine, and every cluster on it, down too.
  setsid nohup dockerd "${args[@]}" >>"$log" 2>&1 </dev/null &
  echo "start-dockerd: started dockerd (pid $!), log $log" >&2
fi
for _ in $(seq 1 120); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "start-dockerd: no answer from dockerd after 60 s; its log's end:" >&2
tail -n 20 "$log" >&2
exit 1
