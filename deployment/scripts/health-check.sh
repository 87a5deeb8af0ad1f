#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Health of every node of the stack, wherever it runs: Swarm task state from the manager, plus a
# real XML-RPC heartbeat() to each node over the stack's overlay network (or its published port).
set -uo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

STACK=chat-system
ONLY_NODE=""
PROBE=overlay
VERBOSE=0

usage() {
  cat <<USAGE
Usage: $(basename "$0") [OPTIONS]

Check every node of the stack (node1, node2, node3, ...), including nodes on other machines. Run it on a
Swarm manager.

For each node:
  1. the service exists and runs its replica (a task counts as running only after its container
     health check, the XML-RPC heartbeat, has passed)
  2. which machine runs it, and that machine's Swarm status
  3. a heartbeat() call to the node (see --probe)

Options:
  -s, --stack NAME    stack name (default: chat-system)
  -n, --node NAME     check only this node (node1, node2, ...)
  -p, --probe MODE    how the heartbeat reaches the nodes:
                        overlay    (default) a throwaway container of the node image on the stack's
                                   attachable overlay calls http://nodeN:9090, as peers do
                        published  from here to <machine address>:<published XML-RPC port> (curl)
                        none       task state only
  -v, --verbose       print the heartbeat answers, task history and recent logs of every node
  -h, --help          show this help

Exit codes: 0 every checked node is healthy; 1 otherwise (stack or node missing, a node not
running, heartbeat failed, bad option).
USAGE
}

while (($# > 0)); do
  case $1 in
    -s | --stack) STACK=${2:?}; shift 2 ;;
    -n | --node) ONLY_NODE=${2:?}; shift 2 ;;
    -p | --probe) PROBE=${2:?}; shift 2 ;;
    -v | --verbose) VERBOSE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) error "unknown option: $1"; usage >&2; exit 1 ;;
  esac
done
case $PROBE in overlay | published | none) ;; *) error "--probe must be overlay, published or none"; exit 1 ;; esac

require_docker
require_swarm_manager
require_stack "$STACK"

mapfile -t nodes < <(stack_node_names "$STACK")
if [[ -n $ONLY_NODE ]]; then
  ONLY_NODE=${ONLY_NODE#"${STACK}_"}
  nodes=("$ONLY_NODE")
fi

failures=0
declare -A node_ok=() node_machine=() node_image=() node_port=()

fail() {
  error "$1: $2"
  node_ok[$1]=0
  failures=$((failures + 1))
}

show_logs() { # NODE
  echo "  --- last 10 log lines of $1 ---"
  timeout 15 docker service logs --tail 10 --timestamps "${STACK}_$1" 2>&1 | sed 's/^/  /'
}

info "stack ${STACK}: checking ${nodes[*]} (probe: ${PROBE})"
for node in "${nodes[@]}"; do
  svc="${STACK}_${node}"
  node_ok[$node]=1
  if ! docker service inspect "$svc" >/dev/null 2>&1; then
    fail "$node" "service ${svc} not found"
    continue
  fi
  node_image[$node]=$(docker service inspect "$svc" --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}')
  node_port[$node]=$(docker service inspect "$svc" --format '{{range .Endpoint.Ports}}{{if eq .TargetPort 9090}}{{.PublishedPort}}{{end}}{{end}}')
  replicas=$(docker service ls --filter "name=${svc}" --format '{{.Name}} {{.Replicas}}' | awk -v s="$svc" '$1 == s {print $2}')
  # The task that should be running now, and the machine it is on.
  task=$(docker service ps "$svc" --filter desired-state=running --no-trunc --format '{{.Node}}|{{.CurrentState}}|{{.Error}}' | head -1)
  IFS='|' read -r machine current task_error <<<"$task"
  node_machine[$node]=$machine
  machine_state=""
  if [[ -n $machine ]]; then
    machine_state=$(docker node inspect "$machine" --format '{{.Status.State}}/{{.Spec.Availability}}' 2>/dev/null || echo unknown)
  fi
  if [[ $current == Running* && ${replicas%%/*} == "${replicas#*/}" && ${replicas%%/*} != 0 ]]; then
    success "${node}: ${replicas} running on ${machine} (machine ${machine_state}), ${current}"
  else
    last=$(docker service ps "$svc" --no-trunc --format '{{.Node}}: {{.CurrentState}} {{.Error}}' | head -1)
    fail "$node" "not running (replicas ${replicas:-0/1}; ${machine:+machine ${machine} is ${machine_state}; }task: ${current:-none} ${task_error}; latest: ${last})"
  fi
  if ((VERBOSE)); then
    echo "  --- tasks of ${node} ---"
    docker service ps "$svc" --format '  {{.Name}} on {{.Node}}: desired {{.DesiredState}}, {{.CurrentState}} {{.Error}}' | head -5
  fi
done

probe_overlay() { # NODES...: one throwaway container on the overlay calls every node
  local image=${node_image[$1]} urls=() out rc line n
  for n in "$@"; do urls+=("http://${n}:9090/RPC2"); done
  out=$(timeout 60 docker run --rm --network "${STACK}_chat-overlay" --log-driver none "$image" \
    node dist/healthcheck.js "${urls[@]}" 2>&1)
  rc=$?
  for n in "$@"; do
    line=$(grep -F "//${n}:9090/" <<<"$out" | head -1)
    if [[ -n $line && $line != healthcheck:* ]]; then
      success "${n}: heartbeat ok over ${STACK}_chat-overlay"
      ((VERBOSE)) && echo "  ${line}"
    else
      fail "$n" "heartbeat failed: ${line:-$(tail -2 <<<"$out")}"
    fi
  done
  return "$rc"
}

probe_published() { # NODE
  local n=$1 addr port body
  addr=$(docker node inspect "${node_machine[$n]}" --format '{{.Status.Addr}}' 2>/dev/null)
  port=${node_port[$n]:-9090}
  if ! command -v curl >/dev/null 2>&1; then
    fail "$n" "curl is not installed (use --probe overlay)"
    return
  fi
  body=$(curl -sS --max-time 5 -H 'Content-Type: text/xml' \
    --data '<?xml version="1.0"?><methodCall><methodName>heartbeat</methodName><params/></methodCall>' \
    "http://${addr}:${port}/RPC2" 2>&1)
  if grep -q '<name>status</name>' <<<"$body" && grep -Eq '<value>(<string>)?ok(</string>)?</value>' <<<"$body"; then
    success "${n}: heartbeat ok at ${addr}:${port}"
    ((VERBOSE)) && echo "  $(tr -d '\n' <<<"$body" | head -c 400)"
  else
    fail "$n" "heartbeat at ${addr}:${port} failed: $(head -c 200 <<<"$body")"
  fi
}

if [[ $PROBE != none ]]; then
  running=()
  for node in "${nodes[@]}"; do ((node_ok[$node])) && running+=("$node"); done
  if ((${#running[@]} > 0)); then
    if [[ $PROBE == overlay ]]; then
      probe_overlay "${running[@]}" || true
    else
      for node in "${running[@]}"; do probe_published "$node"; done
    fi
  fi
fi

for node in "${nodes[@]}"; do
  if ((VERBOSE)) || ((node_ok[$node] == 0)); then show_logs "$node"; fi
done

echo
if ((failures == 0)); then
  success "All checked nodes are healthy (${nodes[*]})"
  exit 0
fi
bad=()
for node in "${nodes[@]}"; do ((node_ok[$node])) || bad+=("$node"); done
error "unhealthy: ${bad[*]}"
cat <<HINTS >&2
Troubleshooting:
  docker stack ps ${STACK} --no-trunc                 # task errors and where they ran
  docker node ls                                      # a machine Down or Drain?
  deployment/scripts/logs.sh -n ${bad[0]} -t 200
  deployment/docs/TROUBLESHOOTING.md
HINTS
exit 1
