#!/bin/sh
# k8ts-node-entrypoint COMMAND...: a node container's entrypoint. Docker mounts /proc/sys and the
# cgroup hierarchies read-only in a container that is not privileged; the node agent writes to both
# (each pod's hostname, in the pod's UTS namespace, and forwarding; a cgroup per pod container for
# its CPU and memory limits). With CAP_SYS_ADMIN a bind remount makes them writable, as `privileged`
# or `--security-opt systempaths=unconfined` would (some hosts cannot grant every capability
# `privileged` asks for, and docker-compose 1.29 cannot pass systempaths). The cgroups the container
# sees are its own (/docker/<id> on the host), so pods' cgroups nest under the node container's.
if ! mount -o remount,rw,bind /proc/sys 2>/dev/null; then
  echo "k8ts-node-entrypoint: /proc/sys stays read-only (no CAP_SYS_ADMIN?): pods' hostnames cannot be set" >&2
fi
# Every cgroup (v1) or cgroup2 mount under /sys/fs/cgroup; without them pods run without limits
# enforced by the kernel (the node agent then measures from /proc).
for hierarchy in $(awk '($3 == "cgroup" || $3 == "cgroup2") && $2 ~ /^\/sys\/fs\/cgroup/ { print $2 }' /proc/self/mounts); do
  if ! mount -o remount,rw,bind "$hierarchy" 2>/dev/null; then
    echo "k8ts-node-entrypoint: $hierarchy stays read-only: pods' cgroup limits are not enforced by the kernel" >&2
  fi
done
exec "$@"
