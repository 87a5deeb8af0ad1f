# shellcheck shell=bash
# Helpers shared by the operator scripts (sourced, not run).

# Colours only on a terminal, so piped output and log files stay plain.
if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
  C_RED=$'\033[0;31m' C_GREEN=$'\033[0;32m' C_YELLOW=$'\033[1;33m' C_BLUE=$'\033[0;34m' C_OFF=$'\033[0m'
else
  C_RED='' C_GREEN='' C_YELLOW='' C_BLUE='' C_OFF=''
fi

info() { printf '%s[INFO]%s %s\n' "$C_BLUE" "$C_OFF" "$*"; }
success() { printf '%s[SUCCESS]%s %s\n' "$C_GREEN" "$C_OFF" "$*"; }
warning() { printf '%s[WARNING]%s %s\n' "$C_YELLOW" "$C_OFF" "$*" >&2; }
error() { printf '%s[ERROR]%s %s\n' "$C_RED" "$C_OFF" "$*" >&2; }

# The repository root and the deployment folder, wherever the script is called from.
DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
PROJECT_ROOT=$(cd "$DEPLOY_DIR/.." && pwd)

require_docker() {
  if ! command -v docker >/dev/null 2>&1; then
    error "docker CLI not found: install Docker (Debian: apt-get install docker.io)"
    exit 1
  fi
  if ! docker info >/dev/null 2>&1; then
    error "cannot reach the Docker engine (${DOCKER_HOST:-default socket}): is dockerd running, and may this user use it?"
    exit 1
  fi
}

require_swarm_manager() {
  local state manager
  state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)
  manager=$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)
  if [[ $state != active ]]; then
    error "this engine is not in a Swarm (state: ${state:-unknown})"
    echo "  Initialise one with: docker swarm init --advertise-addr <this machine's IP>" >&2
    exit 1
  fi
  if [[ $manager != true ]]; then
    error "this engine is a Swarm worker; run this script on a manager (docker node ls lists them)"
    exit 1
  fi
}

stack_exists() { docker stack ls --format '{{.Name}}' | grep -qx -- "$1"; }

require_stack() {
  if ! stack_exists "$1"; then
    error "stack '$1' is not deployed on this Swarm"
    echo "Deployed stacks:" >&2
    docker stack ls >&2
    exit 1
  fi
}

# load_env FILE: exports every variable of an env file (KEY=value lines; # comments).
load_env() {
  if [[ ! -f $1 ]]; then
    error "environment file not found: $1"
    echo "  Create it from the example: cp ${DEPLOY_DIR}/.env.example ${DEPLOY_DIR}/.env.prod" >&2
    exit 1
  fi
  set -a
  # shellcheck disable=SC1090 # the operator chooses the file
  source "$1"
  set +a
}

# compose_node_names FILE: the node names the stack file pins to machines, in file order
# (from its `node.labels.node_type == nodeN` constraints), so adding node4 needs no script change.
compose_node_names() { grep -oE 'node\.labels\.node_type *== *[A-Za-z0-9_.-]+' "$1" | sed -E 's/.*== *//'; }

# stack_node_names STACK: the node services the deployed stack has (node1, node2, ...).
stack_node_names() { docker stack services "$1" --format '{{.Name}}' | sed "s/^${1}_//" | sort; }
