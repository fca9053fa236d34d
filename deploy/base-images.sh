#!/usr/bin/env bash
# Builds local stand-in base images from this machine's own programs, for machines where no
# container registry is reachable (so `FROM node:20-bookworm-slim` cannot be pulled):
#   k8ts-standin/node:20  the host's `node`, /bin/sh and a few coreutils, iproute2 (`ip`), iptables,
#                         util-linux (`unshare`, `nsenter`, `mount`), each with the libraries `ldd`
#                         lists for it; as the official image, node is /usr/local/bin/node.
#   k8ts-standin/nats:2   Debian's `nats-server` (and its libraries) at /nats-server, where the
#                         official `nats` image keeps it.
# Each is a folder tarred into `docker import`. Quick when the images exist and match this machine's
# node version; `--force` rebuilds them. Prints the two tags (`BASE=... NATS_IMAGE=...`) on stdout.
set -euo pipefail

NODE_TAG=${K8TS_STANDIN_NODE_IMAGE:-k8ts-standin/node:20}
NATS_TAG=${K8TS_STANDIN_NATS_IMAGE:-k8ts-standin/nats:2}
force=false
[[ ${1:-} == --force ]] && force=true

log() { echo "base-images: $*" >&2; }
need() {
  command -v "$1" >/dev/null || { log "$1 is not installed on this machine (Debian: apt-get install $2)"; exit 1; }
}
need node nodejs
need nats-server nats-server
need ip iproute2
need iptables iptables
need nsenter util-linux
need ldd libc-bin

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The host's merged-/usr links (bin -> usr/bin, lib -> usr/lib, ...), so library paths as ldd prints
# them land where the loader looks.
new_root() {
  local root=$1 dir
  mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/local/bin,etc,tmp,root,var/lib,run}
  chmod 1777 "$root/tmp"
  for dir in bin sbin lib lib64; do
    if [[ -L /$dir && $(readlink "/$dir") != /* ]]; then
      mkdir -p "$root/$(readlink "/$dir")"
      ln -sfn "$(readlink "/$dir")" "$root/$dir"
    else
      mkdir -p "$root/$dir"
    fi
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  for file in /etc/os-release /etc/protocols /etc/services /etc/ethertypes; do [[ -f $file ]] && cp "$file" "$root$file"; done
  return 0
}

# The libraries ldd lists for the files (one ldd for them all), copied to the same paths under root.
add_libs() {
  local root=$1 lib
  shift
  while read -r lib; do
    [[ -e $root$lib ]] && continue
    mkdir -p "$(dirname "$root$lib")"
    cp -L "$lib" "$root$lib"
  done < <(ldd "$@" 2>/dev/null | grep -oE '^\s+(/|.* => /)[^ ]+' | grep -oE '/[^ ]+$' | sort -u || true)
}

# Copies a file to the same path (or target) under root, with its libraries and the loader.
add_file() {
  local root=$1 file=$2 target=${3:-$2}
  mkdir -p "$(dirname "$root$target")"
  cp -L "$file" "$root$target"
  add_libs "$root" "$file"
}

# A command as found on PATH: its real file (alternatives resolved) and a link from the name found.
add_command() {
  local root=$1 name=$2 found real
  found=$(type -P "$name") || return 0
  real=$(readlink -f "$found")
  [[ -e $root$real ]] || add_file "$root" "$real"
  if [[ $found != "$real" && ! -e $root$found ]]; then
    mkdir -p "$(dirname "$root$found")"
    ln -s "$real" "$root$found"
  fi
}

# What the stand-in holds: its label changes (and the image is rebuilt) when this list or node changes.
RECIPE=2
node_version=$(node --version)
label_of() { docker image inspect -f '{{ index .Config.Labels "k8ts.standin" }}' "$1" 2>/dev/null || true; }

if ! $force && [[ $(label_of "$NODE_TAG") == "node-$node_version-r$RECIPE" ]]; then
  log "$NODE_TAG exists (node $node_version)"
else
  root=$work/node
  new_root "$root"
  add_file "$root" "$(readlink -f "$(command -v node)")" /usr/local/bin/node
  ln -s /usr/local/bin/node "$root/usr/bin/node"
  # sh and the basics pods' commands and the node agent's scripts use; ip, iptables, util-linux for the pod network.
  # (The process runtime's shim uses mkfifo and setsid.)
  for name in sh dash bash env cat echo printf sleep mkdir rm rmdir ls cp mv ln chmod chown touch true false \
    id uname hostname date head tail wc tr cut sort uniq grep sed awk find xargs stat tee basename dirname \
    readlink realpath mktemp mkfifo timeout nohup seq expr test du df kill ps \
    ip unshare nsenter mount umount setsid sysctl \
    iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    add_command "$root" "$name"
  done
  # iptables loads its match and target extensions with dlopen: ldd does not list them.
  for dir in /usr/lib/*/xtables /usr/lib/xtables; do
    [[ -d $dir ]] || continue
    mkdir -p "$root$dir"
    cp -L "$dir"/*.so "$root$dir/"
    add_libs "$root" "$dir"/*.so
  done
  log "importing $NODE_TAG ($(du -sh "$root" | cut -f1), node $node_version)"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL k8ts.standin=node-$node_version-r$RECIPE" \
    --change 'CMD ["node"]' - "$NODE_TAG" >/dev/null
fi

nats_version=$(nats-server --version 2>/dev/null | grep -oE 'v[0-9][0-9.]*' | head -1 || true)
if ! $force && [[ $(label_of "$NATS_TAG") == "nats-$nats_version" ]]; then
  log "$NATS_TAG exists ($nats_version)"
else
  root=$work/nats
  new_root "$root"
  add_file "$root" "$(readlink -f "$(command -v nats-server)")" /nats-server
  log "importing $NATS_TAG ($(du -sh "$root" | cut -f1), $nats_version)"
  tar -C "$root" -c . | docker import \
    --change "LABEL k8ts.standin=nats-$nats_version" \
    --change 'ENTRYPOINT ["/nats-server"]' - "$NATS_TAG" >/dev/null
fi

echo "BASE=$NODE_TAG NATS_IMAGE=$NATS_TAG"
