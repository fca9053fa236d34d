#!/bin/sh
# k8ts-node-entrypoint COMMAND...: a node container's entrypoint. Docker mounts /proc/sys read-only
# in a container that is not privileged; the node agent writes there (each pod's hostname, in the
# pod's UTS namespace, and forwarding). With CAP_SYS_ADMIN this makes it writable, as `privileged`
# or `--security-opt systempaths=unconfined` would (some hosts cannot grant every capability
# `privileged` asks for, and docker-compose 1.29 cannot pass systempaths).
if ! mount -o remount,rw,bind /proc/sys 2>/dev/null; then
  echo "k8ts-node-entrypoint: /proc/sys stays read-only (no CAP_SYS_ADMIN?): pods' hostnames cannot be set" >&2
fi
exec "$@"
