#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Logs of the chat nodes, from every machine of the Swarm (docker service logs), run on a manager.
set -uo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

STACK=chat-system
NODE=""
FOLLOW=0
TAIL=""

usage() {
  cat <<USAGE
Usage: $(basename "$0") [OPTIONS]

Show the logs of the stack's nodes (timestamped; each line names the task and machine).

Options:
  -s, --stack NAME   stack name (default: chat-system)
  -n, --node NAME    only this node (node1, node2, node3 or the full service name)
  -f, --follow       keep following new lines (all nodes: interleaved, prefixed with [nodeN])
  -t, --tail N       last N lines per node (default: 100 on a terminal; every line when the
                     output goes to a pipe or file, so 'logs.sh -n node1 | grep listening' finds
                     the startup lines of a long-running node)
  -a, --all          every line (same as --tail all)
  -h, --help         show this help

Exit codes: 0 logs shown; 1 docker missing, stack or node not found, bad option.

Lines are text or, with LOG_FORMAT=json, one JSON object each; JSON lines about a room carry
room_id, about a peer peer, and refused requests error_code, so a grep finds them in either format:
  $(basename "$0") -n node1 | grep 'node3'              text or JSON: every line naming node3
  $(basename "$0") | grep '"error_code":"RATE_LIMITED"'  JSON: every rate-limited request

The node also writes its log to /var/log/chatnode in its container (volume nodeN-logs):
  docker exec \$(docker ps -q -f name=${STACK}_node1) sh -c 'tail -n 50 /var/log/chatnode/*'
USAGE
}

while (($# > 0)); do
  case $1 in
    -s | --stack) STACK=${2:?}; shift 2 ;;
    -n | --node) NODE=${2:?}; shift 2 ;;
    -f | --follow) FOLLOW=1; shift ;;
    -t | --tail) TAIL=${2:?}; shift 2 ;;
    -a | --all) TAIL=all; shift ;;
    -h | --help) usage; exit 0 ;;
    *) error "unknown option: $1"; usage >&2; exit 1 ;;
  esac
done
if [[ -z $TAIL ]]; then
  if [[ -t 1 ]]; then TAIL=100; else TAIL=all; fi
fi
[[ $TAIL == all || $TAIL =~ ^[0-9]+$ ]] || { error "--tail needs a number or 'all'"; exit 1; }

require_docker
require_stack "$STACK"

log_args=(--timestamps --tail "$TAIL")
((FOLLOW)) && log_args+=(--follow)

if [[ -n $NODE ]]; then
  svc="${STACK}_${NODE#"${STACK}_"}"
  if ! docker service inspect "$svc" >/dev/null 2>&1; then
    error "no service ${svc} in stack ${STACK}; its services are:"
    docker stack services "$STACK" --format '  {{.Name}}' >&2
    exit 1
  fi
  echo "=== Logs from ${svc#"${STACK}_"} (${svc}) ==="
  exec docker service logs "${log_args[@]}" "$svc"
fi

mapfile -t services < <(docker stack services "$STACK" --format '{{.Name}}' | sort)
if ((FOLLOW)); then
  pids=()
  trap 'kill "${pids[@]}" 2>/dev/null; exit 0' INT TERM
  for svc in "${services[@]}"; do
    tag=${svc##*_}
    docker service logs "${log_args[@]}" "$svc" 2>&1 | sed -u "s/^/[${tag}] /" &
    pids+=($!)
  done
  wait
  exit 0
fi

for svc in "${services[@]}"; do
  echo "=== Logs from ${svc##*_} (${svc}) ==="
  docker service logs "${log_args[@]}" "$svc" 2>&1
  echo
done
if [[ -t 1 ]]; then
  cat <<HINTS
More:
  $(basename "$0") -f              follow all nodes
  $(basename "$0") -n node2 -t 500 one node, more lines
  $(basename "$0") -a > chat-logs-\$(date +%Y%m%d).log
HINTS
fi
