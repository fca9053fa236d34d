#!/usr/bin/env bash
# The compose cluster's root scripts (pnpm compose:up | compose:down | compose:kubeconfig):
#   up [--nodes N] [--timeout S]  stages the built workspace, builds the image (on stand-in bases
#                                 from this machine when no registry answers), starts the project
#                                 with N node containers (default 3) and waits until every part is
#                                 healthy and every node Ready, with progress
#   down [--volumes]              stops and removes the containers (--volumes: the store's data too)
#   kubeconfig                    writes a kubeconfig for the published API port and prints its path
#   compose ARGS...               docker compose (v2) or docker-compose with ARGS, for this project
# Works with `docker compose` (v2) and `docker-compose` (1.29). Environment: K8TS_NODES,
# K8TS_API_PORT (6443), K8TS_IMAGE, K8TS_BASE_IMAGE / K8TS_NATS_IMAGE (skip the registry check),
# COMPOSE_PROJECT_NAME (k8ts), K8TS_COMPOSE_KUBECONFIG (.k8ts/compose/kubeconfig), and the timings docker-compose.yml lists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-k8ts}
export K8TS_IMAGE=${K8TS_IMAGE:-k8ts/k8ts:local}
api_port=${K8TS_API_PORT:-6443}
api_url="http://127.0.0.1:$api_port"
kubeconfig=${K8TS_COMPOSE_KUBECONFIG:-$root/.k8ts/compose/kubeconfig}

say() { echo "compose: $*"; }
die() { echo "compose: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

engine() {
  docker info >/dev/null 2>&1 && return 0
  if [[ $(id -u) -eq 0 ]] && command -v dockerd >/dev/null; then
    bash "$root/deploy/start-dockerd.sh"
  else
    die "no Docker engine answers: start one (as root: bash deploy/start-dockerd.sh; Debian: apt-get install docker.io)"
  fi
}

compose() {
  # docker-compose 1.29 refuses every command while the file's build context is missing; `up`
  # builds from a folder of its own, so on a fresh clone only `docker compose build` needs this one
  # staged (deploy/stage.sh).
  mkdir -p "$root/deploy/.context"
  if docker compose version >/dev/null 2>&1; then
    docker compose "$@"
  elif command -v docker-compose >/dev/null; then
    docker-compose "$@"
  else
    die "neither 'docker compose' nor docker-compose is installed (Debian: apt-get install docker-compose)"
  fi
}

# The base images: the defaults when present or pullable, else stand-ins built from this machine.
bases() {
  [[ -n ${K8TS_BASE_IMAGE:-} && -n ${K8TS_NATS_IMAGE:-} ]] && return 0
  local base=node:20-bookworm-slim nats=nats:2.10
  if { docker image inspect "$base" >/dev/null 2>&1 || timeout 60 docker pull -q "$base" >/dev/null 2>&1; } &&
    { docker image inspect "$nats" >/dev/null 2>&1 || timeout 60 docker pull -q "$nats" >/dev/null 2>&1; }; then
    export K8TS_BASE_IMAGE=$base K8TS_NATS_IMAGE=$nats
  else
    say "no registry answers: stand-in base images from this machine (deploy/base-images.sh)"
    local tags
    tags=$(bash "$root/deploy/base-images.sh")
    K8TS_BASE_IMAGE=$(sed -n 's/.*BASE=\([^ ]*\).*/\1/p' <<<"$tags")
    K8TS_NATS_IMAGE=$(sed -n 's/.*NATS_IMAGE=\([^ ]*\).*/\1/p' <<<"$tags")
    export K8TS_BASE_IMAGE K8TS_NATS_IMAGE
  fi
}

write_kubeconfig() {
  mkdir -p "$(dirname "$kubeconfig")"
  cat >"$kubeconfig" <<CONFIG
apiVersion: v1
kind: Config
clusters:
- name: k8ts-compose
  cluster:
    server: $api_url
contexts:
- name: k8ts-compose
  context:
    cluster: k8ts-compose
    user: k8ts-compose
current-context: k8ts-compose
users:
- name: k8ts-compose
  user: {}
CONFIG
}

up() {
  local nodes=${K8TS_NODES:-3} timeout=300
  while (($# > 0)); do
    case $1 in
      --nodes) nodes=$2; shift 2 ;;
      --timeout) timeout=$2; shift 2 ;;
      *) die "up: unknown argument $1 (up [--nodes N] [--timeout SECONDS])" ;;
    esac
  done
  [[ $nodes =~ ^[0-9]+$ ]] || die "--nodes takes a number"
  engine
  local start step
  start=$(now)
  if [[ ! -f services/store/dist/main.js ]]; then
    say "building the workspace (pnpm build)"
    pnpm build
  fi
  step=$(now)
  # A context of this run's own: another compose:up staging at the same time must not empty it.
  # (Under .k8ts, which git ignores, on the workspace's filesystem, where pnpm's store links from.)
  local context
  mkdir -p "$root/.k8ts/compose"
  context=$(mktemp -d "$root/.k8ts/compose/context.XXXXXX")
  # shellcheck disable=SC2064 # the path now: the variable is local
  trap "rm -rf '$context'" EXIT
  bash deploy/stage.sh "$context"
  bases
  say "building $K8TS_IMAGE on $K8TS_BASE_IMAGE"
  docker build -q -t "$K8TS_IMAGE" --build-arg "BASE=$K8TS_BASE_IMAGE" --build-arg "NATS_IMAGE=$K8TS_NATS_IMAGE" "$context" >/dev/null
  rm -rf "$context"
  say "image $K8TS_IMAGE built in $(since "$step") ($(docker image inspect -f '{{.Size}}' "$K8TS_IMAGE" | awk '{ printf "%d MB", $1 / 1e6 }'))"
  step=$(now)
  compose up -d --no-build --scale "node=$nodes"
  node deploy/wait-ready.mjs "$COMPOSE_PROJECT_NAME" "$api_url" "$timeout"
  write_kubeconfig
  # The images this tag named before (untagged now, and no longer used once the containers are recreated) go.
  # Best effort: the engine runs one prune at a time ("a prune operation is already running").
  docker image prune -f --filter label=org.k8ts.image=k8ts >/dev/null 2>&1 || say "old images not pruned now (another prune running?)"
  say "cluster up in $(since "$step") after the build ($(since "$start") in all)"
  echo
  echo "  export KUBECONFIG=$kubeconfig"
  echo "  kubectl get nodes"
  echo
}

down() {
  local volumes=()
  while (($# > 0)); do
    case $1 in
      --volumes | -v) volumes=(--volumes); shift ;;
      *) die "down: unknown argument $1 (down [--volumes])" ;;
    esac
  done
  docker info >/dev/null 2>&1 || die "no Docker engine answers"
  # A new node container is a new node: the Nodes of these containers are deleted (their pods go to
  # the nodes of the next `up`), and their anonymous volumes (the pods' data) go with them.
  local names
  names=$(compose ps -q node | xargs -r docker inspect -f '{{.Config.Hostname}}' 2>/dev/null || true)
  if [[ -n $names ]]; then
    # shellcheck disable=SC2086 # one argument per name
    node -e 'const [api, ...names] = process.argv.slice(1);
      Promise.all(names.map((name) => fetch(`${api}/api/v1/nodes/${name}`, { method: "DELETE", signal: AbortSignal.timeout(5000) }).catch(() => undefined)));' "$api_url" $names
  fi
  compose rm --stop --force -v node >/dev/null
  local err code=0
  err=$(mktemp)
  compose down "${volumes[@]}" 2>"$err" || code=$?
  cat "$err" >&2
  # The engine sometimes keeps counting an endpoint on the network after every container on it is
  # gone (seen with docker.io 20.10 after a stopped container was disconnected and reconnected):
  # the network cannot be removed until dockerd restarts, but it holds nothing, and the next `up`
  # reuses it. docker-compose stops there, before the volumes: those are removed here.
  if ((code != 0)) && grep -q 'has active endpoints' "$err" && [[ -z $(compose ps -q) ]]; then
    say "network ${COMPOSE_PROJECT_NAME}_k8ts left: the engine still counts an endpoint no container holds (restarting dockerd clears it); the next up reuses it"
    if ((${#volumes[@]} > 0)); then
      docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | xargs -r docker volume rm -f >/dev/null
    fi
    code=0
  fi
  rm -f "$err"
  return "$code"
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  kubeconfig) write_kubeconfig; echo "$kubeconfig" ;;
  compose) shift; compose "$@" ;;
  *) die "usage: deploy/compose.sh up [--nodes N] [--timeout S] | down [--volumes] | kubeconfig | compose ARGS..." ;;
esac
