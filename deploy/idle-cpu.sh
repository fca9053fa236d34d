#!/usr/bin/env bash
# The CPU time a compose project's containers consume over a window, from their cgroups (CPU time,
# not a share of wall time, so a busy machine changes it little): bash deploy/idle-cpu.sh [SECONDS]
# for COMPOSE_PROJECT_NAME (k8ts). Reads /sys/fs/cgroup on the host: run it as root where dockerd runs.
set -euo pipefail
project=${COMPOSE_PROJECT_NAME:-k8ts}
window=${1:-60}
mapfile -t ids < <(docker ps -q --no-trunc --filter "label=com.docker.compose.project=$project")
((${#ids[@]} > 0)) || { echo "idle-cpu: no running containers in project $project" >&2; exit 1; }

# Nanoseconds of CPU used by one container: cgroup v1 (cgroupfs driver) or v2 (cgroupfs or systemd).
usage() {
  local id=$1 file
  for file in /sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage /sys/fs/cgroup/cpu,cpuacct/docker/$id/cpuacct.usage; do
    [[ -r $file ]] && { cat "$file"; return; }
  done
  for file in /sys/fs/cgroup/docker/$id/cpu.stat /sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat; do
    [[ -r $file ]] && { awk '$1 == "usage_usec" { print $2 * 1000 }' "$file"; return; }
  done
  echo "idle-cpu: no cgroup found for container $id" >&2
  exit 1
}
total() {
  local sum=0 id
  for id in "${ids[@]}"; do sum=$((sum + $(usage "$id"))); done
  echo "$sum"
}

before=$(total)
start=$(date +%s.%N)
sleep "$window"
after=$(total)
end=$(date +%s.%N)
awk -v a="$before" -v b="$after" -v s="$start" -v e="$end" -v n="${#ids[@]}" -v p="$project" \
  'BEGIN { printf "%s: %d containers used %.1f%% of a core (%.2f CPU-seconds in %.0f s)\n", p, n, (b - a) / 1e9 / (e - s) * 100, (b - a) / 1e9, e - s }'
