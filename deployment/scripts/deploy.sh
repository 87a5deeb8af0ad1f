#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Deploys (or updates) the chat-system stack on a Swarm, run on a manager.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

ENV_FILE="$DEPLOY_DIR/.env.prod"
STACK=chat-system
COMPOSE_FILE="$DEPLOY_DIR/docker-compose.prod.yml"
BUILD=0
PUSH=1
VERIFY=0
WAIT_SECONDS=300

usage() {
  cat <<USAGE
Usage: $(basename "$0") [OPTIONS]

Deploy the chat system as a Swarm stack (run on a Swarm manager). When the stack already runs,
a new image or changed settings are rolled out one node at a time (node1, node2, node3), each
waiting for the previous one to be healthy again, so two of the three nodes keep serving.

Options:
  -e, --env FILE       environment file (default: deployment/.env.prod)
  -s, --stack NAME     stack name (default: chat-system)
  -c, --compose FILE   stack file (default: deployment/docker-compose.prod.yml)
  -b, --build          build \$REGISTRY/chat-node:\$VERSION with build-image.sh and push it
      --no-push        with -b: do not push (the image must then be on every machine already)
  -v, --verify         wait until every node runs and is healthy, then run health-check.sh
  -w, --wait SECONDS   how long -v waits for the nodes (default: 300)
  -h, --help           show this help

Environment: RESOLVE_IMAGE=always|changed|never is passed to 'docker stack deploy
--resolve-image' (default: always; 'never' for images that exist only locally on each machine).

Peer secret: the nodes sign their calls to each other with the Docker secret PEER_SECRET_NAME
(default chat_peer_secret, from the env file). When no secret of that name exists, deploy.sh
creates one with 32 random bytes; it never changes an existing one.

Exit codes:
  0  deployed (and, with -v, every node healthy)
  1  docker or Swarm missing, not a manager, env/stack file missing, a node_type label missing,
     the peer secret could not be created, build/push/deploy failed, an update rolled back, or -v found an unhealthy node
USAGE
}

while (($# > 0)); do
  case $1 in
    -e | --env) ENV_FILE=${2:?}; shift 2 ;;
    -s | --stack) STACK=${2:?}; shift 2 ;;
    -c | --compose) COMPOSE_FILE=${2:?}; shift 2 ;;
    -b | --build) BUILD=1; shift ;;
    --no-push) PUSH=0; shift ;;
    -v | --verify) VERIFY=1; shift ;;
    -w | --wait) WAIT_SECONDS=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) error "unknown option: $1"; usage >&2; exit 1 ;;
  esac
done
[[ $WAIT_SECONDS =~ ^[0-9]+$ ]] || { error "--wait needs a number of seconds"; exit 1; }

require_docker
require_swarm_manager
load_env "$ENV_FILE"
[[ -f $COMPOSE_FILE ]] || { error "stack file not found: $COMPOSE_FILE"; exit 1; }
: "${REGISTRY:?REGISTRY must be set in $ENV_FILE}" "${VERSION:?VERSION must be set in $ENV_FILE}"
IMAGE="${REGISTRY}/chat-node:${VERSION}"
mapfile -t NODE_NAMES < <(compose_node_names "$COMPOSE_FILE")
((${#NODE_NAMES[@]} > 0)) || { error "no 'node.labels.node_type == ...' placement in $COMPOSE_FILE"; exit 1; }

# Every node service is pinned to the machine labelled node_type=nodeN: without that label the
# service would wait forever in "pending", so refuse to deploy instead.
labels=$(docker node ls -q | xargs docker node inspect --format '{{.Description.Hostname}} {{index .Spec.Labels "node_type"}}')
missing=0
for node in "${NODE_NAMES[@]}"; do
  count=$(awk -v n="$node" '$2 == n' <<<"$labels" | wc -l)
  if ((count == 0)); then
    error "no Swarm machine has the label node_type=${node}"
    missing=1
  elif ((count > 1)); then
    warning "${count} machines have node_type=${node}; ${node} may land on any of them (its data volume is per machine)"
  fi
done
if ((missing)); then
  echo "  Label one machine per node, e.g.: docker node update --label-add node_type=node1 <machine>" >&2
  echo "  Machines and labels now:" >&2
  while read -r line; do printf '    %s\n' "$line" >&2; done <<<"$labels"
  exit 1
fi

# The cluster secret that signs peer calls (PEER_SECRET_NAME, default chat_peer_secret): made once,
# random, when missing. Swarm secrets cannot change; rotating means a new name (OPERATIONS.md).
PEER_SECRET_NAME=${PEER_SECRET_NAME:-chat_peer_secret}
export PEER_SECRET_NAME
if ! docker secret inspect "$PEER_SECRET_NAME" >/dev/null 2>&1; then
  if grep -q 'chat_peer_secret' "$COMPOSE_FILE"; then
    info "creating the Docker secret ${PEER_SECRET_NAME} (32 random bytes, hex) that signs calls between nodes"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | docker secret create "$PEER_SECRET_NAME" - >/dev/null || {
      error "could not create the Docker secret ${PEER_SECRET_NAME}"
      exit 1
    }
  fi
else
  info "peer calls are signed with the existing Docker secret ${PEER_SECRET_NAME}"
fi

if ((BUILD)); then
  build_args=(-e "$ENV_FILE" -t "$IMAGE")
  ((PUSH)) && build_args+=(--push)
  "$SCRIPT_DIR/build-image.sh" "${build_args[@]}"
fi

# wait_converged SERVICE SECONDS: until the service's update is done and its task runs (a task
# with a health check only counts as running once it is healthy).
wait_converged() {
  local svc=$1 deadline=$(($(date +%s) + $2)) state replicas
  while :; do
    state=$(docker service inspect "$svc" --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' 2>/dev/null || true)
    replicas=$(docker service ls --filter "name=${svc}" --format '{{.Name}} {{.Replicas}}' | awk -v s="$svc" '$1 == s {print $2}')
    case $state in
      rollback_started | rollback_completed | rollback_paused | paused)
        error "${svc}: update ${state}: $(docker service inspect "$svc" --format '{{.UpdateStatus.Message}}')"
        return 1 ;;
    esac
    if [[ $state != updating && -n $replicas ]]; then
      local running=${replicas%%/*} desired=${replicas#*/}
      desired=${desired%% *}
      if [[ $running == "$desired" && $desired != 0 ]]; then return 0; fi
    fi
    if (($(date +%s) >= deadline)); then
      error "${svc}: not running and healthy after $2 s (replicas ${replicas:-?}, update ${state:-none})"
      docker service ps "$svc" --no-trunc --format '  {{.Name}} on {{.Node}}: {{.CurrentState}} {{.Error}}' | head -5 >&2
      return 1
    fi
    sleep 3
  done
}

# only_service NAME: the rendered stack file (stdin) with just one of its services, keeping the
# networks and volumes, so `docker stack deploy` changes that service and leaves the others alone.
only_service() {
  awk -v keep="  $1:" '
    /^[^ ]/ { in_services = ($0 == "services:"); skip = 0; print; next }
    in_services && /^  [^ ]/ { skip = ($0 != keep) }
    !skip { print }'
}

running_task() { docker service ps "$1" -q --filter desired-state=running 2>/dev/null | head -1; }

# deploy_node_by_node RENDERED: each node's service gets its new spec (image and settings) on its
# own, and the next only once it runs and is healthy again, so two of three nodes keep serving.
deploy_node_by_node() {
  local rendered=$1 node svc part spec_before task_before deadline
  part=$(mktemp)
  trap 'rm -f "$part"' RETURN
  for node in "${NODE_NAMES[@]}"; do
    svc="${STACK}_${node}"
    spec_before=$(docker service inspect "$svc" --format '{{json .Spec}}' 2>/dev/null || true)
    task_before=$(running_task "$svc")
    only_service "$node" <<<"$rendered" >"$part"
    docker stack deploy -c "$part" --with-registry-auth --resolve-image "$RESOLVE_IMAGE" "$STACK" >/dev/null || {
      error "docker stack deploy of ${node} failed"
      return 1
    }
    if [[ $(docker service inspect "$svc" --format '{{json .Spec}}') == "$spec_before" ]]; then
      info "${node}: unchanged"
      continue
    fi
    info "${node}: new image or settings; restarting it alone"
    # Wait for its task to be replaced (a change that restarts nothing, e.g. the update policy, ends here too).
    deadline=$(($(date +%s) + 30))
    while [[ -n $task_before && $(running_task "$svc") == "$task_before" ]] && (($(date +%s) < deadline)); do
      [[ $(docker service inspect "$svc" --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}') == updating ]] && break
      sleep 1
    done
    wait_converged "$svc" "$WAIT_SECONDS" || return 1
    success "${node} runs $(docker service inspect "$svc" --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' | sed 's/@.*//') and is healthy"
  done
}

RESOLVE_IMAGE=${RESOLVE_IMAGE:-always}
if stack_exists "$STACK" && rendered=$(docker stack config -c "$COMPOSE_FILE" 2>/dev/null); then
  # `docker stack deploy` of the whole file would restart every changed node at once.
  info "updating stack ${STACK} (${IMAGE}) node by node from $(basename "$COMPOSE_FILE") with $(basename "$ENV_FILE")"
  deploy_node_by_node "$rendered" || exit 1
else
  if stack_exists "$STACK"; then
    # No `docker stack config` (Docker CLI before 23): roll at least the image one node at a time.
    warning "this docker CLI has no 'docker stack config': changed settings restart all nodes at once"
    for node in "${NODE_NAMES[@]}"; do
      svc="${STACK}_${node}"
      current=$(docker service inspect "$svc" --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' 2>/dev/null || true)
      [[ -n $current && ${current%@*} != "$IMAGE" ]] || continue
      info "rolling update of ${node}: ${current%@*} -> ${IMAGE}"
      # --detach=false blocks until the new task passed its health check and the monitor period.
      resolve=()
      [[ ${RESOLVE_IMAGE:-always} == never ]] && resolve=(--no-resolve-image)
      if ! docker service update --quiet --detach=false --with-registry-auth "${resolve[@]}" --image "$IMAGE" "$svc" >/dev/null; then
        error "docker service update of ${svc} failed: $(docker service inspect "$svc" --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}: {{.UpdateStatus.Message}}{{end}}')"
        exit 1
      fi
      wait_converged "$svc" "$WAIT_SECONDS" || exit 1
      success "${node} runs ${IMAGE} and is healthy"
    done
  fi
  info "deploying stack ${STACK} (${IMAGE}) from $(basename "$COMPOSE_FILE") with $(basename "$ENV_FILE")"
  docker stack deploy -c "$COMPOSE_FILE" --with-registry-auth --resolve-image "$RESOLVE_IMAGE" "$STACK"
fi
docker stack services "$STACK"

if ((VERIFY)); then
  info "waiting up to ${WAIT_SECONDS}s for every node to run and be healthy"
  for node in "${NODE_NAMES[@]}"; do
    wait_converged "${STACK}_${node}" "$WAIT_SECONDS" || exit 1
  done
  "$SCRIPT_DIR/health-check.sh" -s "$STACK" || exit 1
fi

success "stack ${STACK} deployed"
cat <<HINTS
Next:
  deployment/scripts/health-check.sh -v        # every node, on every machine
  deployment/scripts/logs.sh -t 100            # recent logs of all nodes
  docker stack ps ${STACK}                     # where each node runs
HINTS
