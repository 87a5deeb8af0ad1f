# shellcheck shell=bash
# The host Docker engine used by the harness: installed from Debian's packages if missing, run as
# our own dockerd (own socket, data root and exec root, no iptables, no ip_forward change) and
# stopped by pid. Nothing here touches another engine that may run on this machine.

ENGINE_RUN_DIR=${ENGINE_RUN_DIR:-/run/chatnode-swarm}
ENGINE_DATA_ROOT=${ENGINE_DATA_ROOT:-/var/lib/chatnode-swarm/engine}
ENGINE_SOCK="${ENGINE_RUN_DIR}/docker.sock"
ENGINE_PIDFILE="${ENGINE_RUN_DIR}/dockerd.pid"
ENGINE_LOG=${ENGINE_LOG:-/tmp/chatnode-swarm-dockerd.log}
ENGINE_IP_FORWARD_BEFORE=""

# Every docker command of the harness goes to our engine unless a function says otherwise.
host_docker() { DOCKER_HOST="unix://${ENGINE_SOCK}" docker "$@"; }

ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # Optional: only the single-host compose part uses it (skipped with a warning without it).
  if ! command -v docker-compose >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    log "installing docker-compose from Debian's packages (for the single-host part)"
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose; } >/tmp/chatnode-swarm-apt.log 2>&1 ||
      warn "could not install docker-compose; the single-host part will be skipped"
  fi
  if ((${#missing[@]} == 0)); then
    log "docker engine $(dockerd --version | awk '{print $3}' | tr -d ,), CLI $(docker --version | awk '{print $3}' | tr -d ,), debootstrap present"
    return 0
  fi
  log "installing from Debian's packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    warn "not root: cannot apt-get install ${missing[*]}"
    return 1
  fi
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/tmp/chatnode-swarm-apt.log 2>&1; then
    tail -20 /tmp/chatnode-swarm-apt.log >&2
    return 1
  fi
}

engine_pid() {
  local pid
  [[ -f $ENGINE_PIDFILE ]] || return 1
  pid=$(cat "$ENGINE_PIDFILE")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_host_engine() {
  local pid
  mkdir -p "$ENGINE_RUN_DIR" "$ENGINE_DATA_ROOT"
  if pid=$(engine_pid); then
    warn "a harness dockerd from an earlier run is still running (pid ${pid}); stopping it first"
    stop_host_engine
  fi
  ENGINE_IP_FORWARD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
  # --iptables=false/--ip-forward=false: the host's firewall and forwarding stay untouched; the
  # harness only needs one user-defined bridge between its own containers (plain layer 2) and
  # loopback port publishing (docker-proxy).
  dockerd --host "unix://${ENGINE_SOCK}" --pidfile "$ENGINE_PIDFILE" \
    --exec-root "${ENGINE_RUN_DIR}/exec" --data-root "$ENGINE_DATA_ROOT" \
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    --log-level=warn >"$ENGINE_LOG" 2>&1 &
  if ! wait_for 60 "host dockerd to answer" host_docker version; then
    tail -30 "$ENGINE_LOG" >&2
    echo "" >&2
    echo "############################################################" >&2
    echo "# The Docker engine could not start on this machine.       #" >&2
    echo "# See ${ENGINE_LOG}. Set SWARM_TEST_SKIP_IF_NO_ENGINE=1 to skip." >&2
    echo "############################################################" >&2
    return 1
  fi
  log "host dockerd pid $(engine_pid) on ${ENGINE_SOCK} (storage: $(host_docker info --format '{{.Driver}}'))"
}

stop_host_engine() {
  local pid
  if pid=$(engine_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      warn "dockerd ${pid} ignored SIGTERM for 20 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$ENGINE_PIDFILE"
  # Our engine never changes ip_forward; restore it anyway if something did.
  if [[ -n $ENGINE_IP_FORWARD_BEFORE && $(cat /proc/sys/net/ipv4/ip_forward) != "$ENGINE_IP_FORWARD_BEFORE" ]]; then
    echo "$ENGINE_IP_FORWARD_BEFORE" >/proc/sys/net/ipv4/ip_forward || true
  fi
}
