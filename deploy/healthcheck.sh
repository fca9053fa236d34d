#!/bin/bash
# k8ts-healthcheck http://HOST:PORT/PATH: exits 0 when a GET of the URL answers 2xx within 3 s,
# else 1 (a container health check: the image has no curl or wget). Bash's /dev/tcp, so a check
# costs one bash process, not a Node one (~40 MB and a V8 start-up every interval per container).
url=${1:-}
if [[ -z $url || $url == --help ]]; then
  echo 'usage: k8ts-healthcheck http://HOST:PORT/PATH'
  [[ -z $url ]] && exit 2
  exit 0
fi
if [[ ! $url =~ ^http://([^/:]+):([0-9]+)(/.*)?$ ]]; then
  echo "$url: only http://HOST:PORT/PATH is understood" >&2
  exit 2
fi
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]} path=${BASH_REMATCH[3]:-/}
if ! { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
  echo "$url: connection refused" >&2
  exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$path" "$host" "$port" >&3
# The status line, e.g. "HTTP/1.1 200 OK"; a stopped (paused) server accepts but never answers.
if ! IFS=' ' read -r -t 3 _ status _ <&3; then
  echo "$url: no answer within 3 s" >&2
  exit 1
fi
if [[ $status != 2[0-9][0-9] ]]; then
  echo "$url: $status" >&2
  exit 1
fi
exit 0
