#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Real Swarm test of the deployment (npm run test:swarm; run by .ci/run after npm test).
#
# Builds the image with deployment/scripts/build-image.sh (Dockerfile.node, base image made
# locally from Debian's mirror: no registry), proves the single-host compose file, then brings up
# three Swarm machines on this host (Docker-in-Docker), deploys deployment/docker-compose.prod.yml
# as chat-system with deploy.sh, and exercises what operators do: cross-node chat, health-check.sh,
# logs.sh, the troubleshooting guide's diagnostics, a config change, a rolling update to a new
# image tag, and losing a machine. Everything it starts is torn down at the end, whatever happens.
#
# Environment:
#   SWARM_TEST_TIMEOUT=1200        hard limit in seconds (the run is killed and cleaned up after it)
#   SWARM_TEST_SKIP_IF_NO_ENGINE=1 exit 0 with "SKIPPED" when Docker cannot be installed/started
#   SWARM_TEST_SKIP_SINGLE_HOST=1  skip the single-host compose part
#   SWARM_TEST_NO_COMPILE=1        use the existing dist/ (build-image.sh --no-compile)
#   IMAGE_CACHE_DIR, DEBIAN_MIRROR  see lib/images.sh
# shellcheck disable=SC2317 # functions are called through step/check/expect_rc, which it cannot see
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
SWARM_T0=$(date +%s)
export SWARM_T0
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=lib/engine.sh
source "$HERE/lib/engine.sh"
# shellcheck source=lib/images.sh
source "$HERE/lib/images.sh"
# shellcheck source=lib/swarm.sh
source "$HERE/lib/swarm.sh"

STACK=chat-system
# A registry address on loopback where nothing listens: the machines' engines try to pull before
# starting a task and must fail at once (the image is loaded into each machine instead).
TEST_REGISTRY=127.0.0.1:5999/chatnode-test
SINGLE_PROJECT=chatnode-single
SCRIPTS="$REPO_ROOT/deployment/scripts"
WORK=$(mktemp -d /tmp/chatnode-swarm-test.XXXXXX)
NODE_BIN=$(command -v node)
TIMEOUT=${SWARM_TEST_TIMEOUT:-1200}

# As the operator on the manager machine m1.
ops() { DOCKER_HOST="unix://$(machine_sock m1)" "$@"; }
# expect_rc RC CMD...: runs CMD, fails unless it exits with RC; output goes to $WORK/last.out.
expect_rc() {
  local want=$1 rc
  shift
  "$@" >"$WORK/last.out" 2>&1
  rc=$?
  if [[ $rc -ne $want ]]; then
    sed 's/^/    | /' "$WORK/last.out" | tail -40 >&2
    warn "expected exit ${want}, got ${rc}: $*"
    return 1
  fi
}
check() { # DESCRIPTION CMD...: a condition that must hold
  local what=$1
  shift
  if "$@"; then log "  ok: ${what}"; else
    warn "check failed: ${what}"
    return 1
  fi
}
heartbeat_py() { # PORT: the seed guide's Python XML-RPC probe, against a loopback port
  timeout 10 python3 -c "import xmlrpc.client; print(xmlrpc.client.ServerProxy('http://127.0.0.1:$1').heartbeat())"
}

# ------------------------------------------------------------------------------------------------
preflight() {
  [[ $(id -u) -eq 0 ]] || {
    warn "the Swarm test needs root (Docker engine, Docker-in-Docker)"
    return 1
  }
  [[ $("$NODE_BIN" -p 'process.versions.node.split(".")[0]') -ge 24 ]] || {
    warn "node on PATH is $("$NODE_BIN" --version): run through npm (npm run test:swarm) for Node 24"
    return 1
  }
  ensure_packages
}

engine_unavailable() {
  echo "" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! The Docker engine is not available on this machine: the Swarm test     !!" >&2
  echo "!! did NOT run. Fix the engine, or set SWARM_TEST_SKIP_IF_NO_ENGINE=1 to   !!" >&2
  echo "!! skip it on purpose.                                                     !!" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  if [[ ${SWARM_TEST_SKIP_IF_NO_ENGINE:-0} == 1 ]]; then
    echo "SKIPPED: Swarm test (no Docker engine; SWARM_TEST_SKIP_IF_NO_ENGINE=1)"
    exit 0
  fi
  exit 1
}

remove_leftovers() {
  remove_single_host
  remove_machines
}

build_images() {
  ensure_base_image || return 1
  ensure_machine_image || return 1
  # The same script operators use (deploy.sh -b runs it too): npm run build, npm ci --omit=dev
  # into the staging folder, docker build -f Dockerfile.node.
  local compile=()
  [[ ${SWARM_TEST_NO_COMPILE:-0} == 1 ]] && compile=(--no-compile)
  DOCKER_HOST="unix://${ENGINE_SOCK}" "$SCRIPTS/build-image.sh" "${compile[@]}" --base "$BASE_IMAGE" -t "${TEST_REGISTRY}/chat-node:t1" \
    >"$WORK/build-t1.log" 2>&1 || {
    tail -40 "$WORK/build-t1.log" >&2
    return 1
  }
  tail -1 "$WORK/build-t1.log"
}

check_image() {
  local img="${TEST_REGISTRY}/chat-node:t1" user hc
  user=$(host_docker image inspect "$img" --format '{{.Config.User}}')
  hc=$(host_docker image inspect "$img" --format '{{join .Config.Healthcheck.Test " "}}')
  check "image runs as a non-root user (${user})" test -n "$user" -a "$user" != root -a "$user" != 0 &&
    check "image HEALTHCHECK is the node heartbeat (${hc})" grep -q 'node dist/healthcheck.js' <<<"$hc" &&
    check "image exposes 8080 and 9090" bash -c "host_docker() { DOCKER_HOST=unix://${ENGINE_SOCK} docker \"\$@\"; }; host_docker image inspect $img --format '{{json .Config.ExposedPorts}}' | grep -q 8080/tcp.*9090/tcp" &&
    check "log and data directories belong to the node user; no Python, no curl; no dev dependencies" \
      host_docker run --rm --network none "$img" sh -c \
      'test -O /var/log/chatnode && test -O /var/lib/chatnode && touch /var/lib/chatnode/w /var/log/chatnode/w &&
       ! command -v python3 && ! command -v curl && test ! -e node_modules/jest && test ! -e node_modules/typescript &&
       test ! -w dist/main.js'
}

# ---- single host ---------------------------------------------------------------------------------
single_compose() {
  DOCKER_HOST="unix://${ENGINE_SOCK}" docker-compose -p "$SINGLE_PROJECT" --env-file "$WORK/single.env" \
    -f "$REPO_ROOT/deployment/docker-compose.single-host.yml" "$@"
}
remove_single_host() {
  command -v docker-compose >/dev/null 2>&1 && [[ -f $WORK/single.env ]] && single_compose down -v --timeout 10 >/dev/null 2>&1
  # Whatever a crashed earlier run left behind.
  host_docker ps -aq --filter "label=com.docker.compose.project=${SINGLE_PROJECT}" | xargs -r env DOCKER_HOST="unix://${ENGINE_SOCK}" docker rm -f -v >/dev/null 2>&1
  host_docker volume ls -q --filter "label=com.docker.compose.project=${SINGLE_PROJECT}" | xargs -r env DOCKER_HOST="unix://${ENGINE_SOCK}" docker volume rm >/dev/null 2>&1
  host_docker network ls -q --filter "label=com.docker.compose.project=${SINGLE_PROJECT}" | xargs -r env DOCKER_HOST="unix://${ENGINE_SOCK}" docker network rm >/dev/null 2>&1
  return 0
}
single_healthy() {
  local n
  for n in node1 node2 node3; do
    [[ $(host_docker inspect "$(single_compose ps -q "$n")" --format '{{.State.Health.Status}}') == healthy ]] || return 1
  done
}
single_host_test() {
  if ! command -v docker-compose >/dev/null 2>&1; then
    warn "docker-compose not installed: single-host compose part skipped"
    return 0
  fi
  {
    cat "$REPO_ROOT/deployment/.env.example"
    echo "REGISTRY=${TEST_REGISTRY}"
    echo "VERSION=t1"
    echo "PUBLISH_ADDRESS=127.0.0.1"
    # Empty host ports: the engine picks free loopback ports.
    for n in 1 2 3; do echo "NODE${n}_LOCAL_WS_PORT="; echo "NODE${n}_LOCAL_XMLRPC_PORT="; done
    echo "HEALTH_CHECK_INTERVAL=2s"
    echo "HEALTH_CHECK_START_PERIOD=30s"
    echo "HEALTH_CHECK_TIMEOUT=6s"
    echo "HEARTBEAT_INTERVAL=3"
    # PEER_SECRET stays empty: the file's peer-secret service makes a random one, as npm start does
  } >"$WORK/single.env"
  single_compose up -d >"$WORK/single-up.log" 2>&1 || {
    cat "$WORK/single-up.log" >&2
    return 1
  }
  wait_for 120 "single-host nodes healthy" single_healthy || {
    single_compose ps >&2
    single_compose logs --tail 30 >&2
    return 1
  }
  local p1 p3 r1 out
  p1=$(single_compose port node1 8080 | sed 's/.*://')
  p3=$(single_compose port node3 8080 | sed 's/.*://')
  r1=$(single_compose port node1 9090 | sed 's/.*://')
  out=$(timeout 90 "$NODE_BIN" "$HERE/chat-check.mjs" chat "ws://127.0.0.1:${p1}" "ws://127.0.0.1:${p3}" single-host-room) || {
    warn "single-host chat node1 <-> node3 failed: ${out}"
    single_compose logs --tail 40 >&2
    return 1
  }
  log "  ok: single-host chat node1 <-> node3 ${out}"
  local logs peer_port
  logs=$(single_compose logs --no-color 2>&1)
  peer_port=$(single_compose port node1 9090)
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  check "single-host nodes sign their calls with the secret peer-secret generated (and none logs 'PEER_SECRET is not set')" \
    bash -c 'grep -q "peer secret: generated" <<<"$1" && grep -q "signed with the cluster secret" <<<"$1" && ! grep -q "PEER_SECRET is not set" <<<"$1"' _ "$logs" &&
    check "single-host XML-RPC ports are published on 127.0.0.1 only (node1: ${peer_port})" bash -c '[[ $1 == 127.0.0.1:* ]]' _ "$peer_port" || return 1
  check "seed heartbeat probe (Python xmlrpc.client) on single-host node1" bash -c "$(declare -f heartbeat_py); heartbeat_py ${r1} | grep -q \"'status': 'ok'\"" &&
    check "curl -I on node1's client port answers 200" bash -c "curl -sSI --max-time 5 http://127.0.0.1:${p1}/ | head -1 | grep -q ' 200'" || return 1
  # SIGTERM (docker stop): connected clients are told, the node exits by itself with code 0
  # well within the stop grace period.
  local t0 code p2 watcher closed
  p2=$(single_compose port node2 8080 | sed 's/.*://')
  "$NODE_BIN" "$HERE/chat-check.mjs" watch-close "ws://127.0.0.1:${p2}" 40 >"$WORK/close.out" 2>"$WORK/close.err" &
  watcher=$!
  wait_for 10 "watcher connected" grep -q connected "$WORK/close.err"
  t0=$(date +%s)
  single_compose stop -t 30 node2 >/dev/null 2>&1
  code=$(host_docker inspect "$(single_compose ps -q node2)" --format '{{.State.ExitCode}}')
  wait "$watcher"
  closed=$(cat "$WORK/close.out" "$WORK/close.err")
  check "node2 exits cleanly on SIGTERM (exit ${code} after $(($(date +%s) - t0))s)" test "$code" = 0 -a $(($(date +%s) - t0)) -lt 30 &&
    check "its WebSocket client was told before the node went away (${closed//$'\n'/ })" grep -q '"code":1001' "$WORK/close.out" || return 1
  single_compose down -v --timeout 10 >/dev/null 2>&1
}

# ---- Swarm -----------------------------------------------------------------------------------------
write_swarm_env() { # FILE VERSION
  {
    cat "$REPO_ROOT/deployment/.env.example"
    echo "REGISTRY=${TEST_REGISTRY}"
    echo "VERSION=$2"
    # Short intervals so the test sees health, cleanup, updates and failures quickly.
    echo "HEALTH_CHECK_INTERVAL=3s"
    echo "HEALTH_CHECK_TIMEOUT=6s"
    echo "HEALTH_CHECK_START_PERIOD=30s"
    echo "HEARTBEAT_INTERVAL=2"
    echo "HEARTBEAT_TIMEOUT=1"
    echo "PEER_CALL_TIMEOUT=3"
    echo "CLEANUP_INTERVAL=5"
    echo "UPDATE_DELAY=2s"
    echo "UPDATE_MONITOR=6s"
    echo "STOP_GRACE_PERIOD=15s"
    echo "CPU_RESERVATION=0.1"
    echo "MEMORY_RESERVATION=64M"
    # The addresses browsers would use for each machine (GET /cluster hands them to web pages).
    echo "NODE1_CLIENT_URL=ws://m1.chat.test:8080/"
    echo "NODE2_CLIENT_URL=ws://m2.chat.test:8080/"
    echo "NODE3_CLIENT_URL=ws://m3.chat.test:8080/"
  } >"$1"
}

swarm_up() {
  start_machines && form_swarm && load_image "${TEST_REGISTRY}/chat-node:t1"
}

# The stack file deploy.sh uses: the real one, unless this Docker-in-Docker Swarm cannot carry its
# encrypted overlay (then a copy without the option; offline.e2e-spec.ts checks the option itself).
STACK_FILE="$REPO_ROOT/deployment/docker-compose.prod.yml"
ENCRYPTED_OVERLAY=yes

# Probes an encrypted overlay between machines m1 and m2 before deploying: a TCP answer from a
# container on m1 to one on m2. On failure it records the engines' own words and falls back.
encrypted_overlay_probe() {
  local image="${TEST_REGISTRY}/chat-node:t1" ip out
  {
    mdocker m1 network create --driver overlay --attachable --opt encrypted chat-enc-probe &&
      mdocker m1 run -d --name chat-enc-a --network chat-enc-probe "$image" node -e "require('node:net').createServer((s) => s.end('encrypted-ok')).listen(7000)"
  } >"$WORK/enc-probe.log" 2>&1
  ip=$(mdocker m1 inspect chat-enc-a --format '{{(index .NetworkSettings.Networks "chat-enc-probe").IPAddress}}' 2>>"$WORK/enc-probe.log")
  out=$(timeout 60 env DOCKER_HOST="unix://$(machine_sock m2)" docker run --rm --network chat-enc-probe "$image" node -e \
    "const s = require('node:net').connect(7000, process.argv[1]); s.setTimeout(15000, () => { console.log('no answer in 15 s'); process.exit(2); }); s.on('data', (d) => { console.log(String(d)); process.exit(0); }); s.on('error', (e) => { console.log(e.message); process.exit(1); });" "${ip:-none}" 2>&1)
  mdocker m1 rm -f chat-enc-a >/dev/null 2>&1
  mdocker m1 network rm chat-enc-probe >/dev/null 2>&1
  if [[ $out == *encrypted-ok* ]]; then
    log "  ok: a container on m2 reached one on m1 over an encrypted overlay (IPsec between the machines)"
    return 0
  fi
  ENCRYPTED_OVERLAY=no
  warn "this Docker-in-Docker Swarm cannot carry an encrypted overlay: ${out//$'\n'/ } $(tr '\n' ' ' <"$WORK/enc-probe.log")"
  for m in m1 m2; do
    warn "engine ${m} says: $(host_docker logs "${MACHINE_PREFIX}${m}" 2>&1 | grep -iE 'encrypt|xfrm|ipsec|esp|u32|secure' | tail -3 | tr '\n' ' ')"
  done
  STACK_FILE="$WORK/docker-compose.prod.unencrypted.yml"
  sed '/^    driver_opts:$/,/^      encrypted: "true"$/d' "$REPO_ROOT/deployment/docker-compose.prod.yml" >"$STACK_FILE"
  warn "deploying the stack with its overlay unencrypted here (only that option removed)"
}

deploy_checks() {
  write_swarm_env "$WORK/swarm-t1.env" t1
  # Operator mistakes get the documented exit codes.
  expect_rc 0 ops "$SCRIPTS/deploy.sh" -h &&
    expect_rc 1 ops "$SCRIPTS/deploy.sh" --bogus &&
    expect_rc 1 ops "$SCRIPTS/deploy.sh" -e "$WORK/missing.env" &&
    expect_rc 1 ops "$SCRIPTS/health-check.sh" -s no-such-stack &&
    expect_rc 1 ops "$SCRIPTS/logs.sh" -s no-such-stack || return 1
  log "  ok: -h exits 0; unknown option, missing env file, unknown stack exit 1"
  # Images exist only on each machine (no registry): do not ask a registry for digests.
  RESOLVE_IMAGE=never ops "$SCRIPTS/deploy.sh" -e "$WORK/swarm-t1.env" -c "$STACK_FILE" -v -w 240 2>&1 | tee "$WORK/deploy-t1.log" | sed 's/^/    | /'
  [[ ${PIPESTATUS[0]} -eq 0 ]] || return 1
  check "deploy.sh created the Docker secret chat_peer_secret (it was missing)" bash -c \
    "grep -q 'creating the Docker secret chat_peer_secret' $WORK/deploy-t1.log && DOCKER_HOST=unix://$(machine_sock m1) docker secret inspect chat_peer_secret >/dev/null"
}

placement_checks() {
  local placed env
  placed=$(ops docker stack ps "$STACK" --filter desired-state=running --format '{{.Name}}={{.Node}}' | sed 's/\.[0-9]*=/=/' | sort | tr '\n' ' ')
  check "each node runs on its labelled machine (${placed})" test "$placed" = "${STACK}_node1=swarm-m1 ${STACK}_node2=swarm-m2 ${STACK}_node3=swarm-m3 " || return 1
  env=$(ops docker service inspect "${STACK}_node2" --format '{{join .Spec.TaskTemplate.ContainerSpec.Env " "}}')
  local key missing=()
  for key in LOG_LEVEL LOG_FORMAT HEARTBEAT_INTERVAL HEARTBEAT_TIMEOUT MAX_HEARTBEAT_FAILURES INACTIVITY_TIMEOUT CLEANUP_INTERVAL PEER_CALL_TIMEOUT WS_PING_INTERVAL LOG_DIR DATA_DIR PEER_NODES XMLRPC_ADDRESS NODE_ID PEER_SECRET_FILE DELETE_PREPARE_TIMEOUT; do
    grep -q "\\b${key}=" <<<"$env" || missing+=("$key")
  done
  check "every node setting reaches the service (missing: ${missing[*]:-none}; HEARTBEAT_INTERVAL=2 from the env file: $(grep -o 'HEARTBEAT_INTERVAL=[^ ]*' <<<"$env"))" \
    test ${#missing[@]} -eq 0 -a -n "$(grep -o 'HEARTBEAT_INTERVAL=2\b' <<<"$env")" || return 1
  check "node2 mounts the Docker secret chat_peer_secret as /run/secrets/chat_peer_secret" bash -c \
    "DOCKER_HOST=unix://$(machine_sock m1) docker service inspect ${STACK}_node2 --format '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}}:{{.File.Name}} {{end}}' | grep -q 'chat_peer_secret:chat_peer_secret'" || return 1
  check "overlay chat-overlay is attachable with subnet 10.10.0.0/16" bash -c \
    "DOCKER_HOST=unix://$(machine_sock m1) docker network inspect ${STACK}_chat-overlay --format '{{.Attachable}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' | grep -qx 'true 10.10.0.0/16'" &&
    if [[ $ENCRYPTED_OVERLAY == yes ]]; then
      check "overlay chat-overlay is encrypted (IPsec between the machines)" bash -c \
        "DOCKER_HOST=unix://$(machine_sock m1) docker network inspect ${STACK}_chat-overlay --format '{{json .Options}}' | grep -q '\"encrypted\"'"
    else
      warn "overlay chat-overlay is not encrypted in this run (the engines here cannot; see the probe above)"
    fi || return 1
  check "data and log volumes are named volumes on each machine" bash -c \
    "DOCKER_HOST=unix://$(machine_sock m3) docker volume ls --format '{{.Name}}' | grep -qx ${STACK}_node3-data && DOCKER_HOST=unix://$(machine_sock m3) docker volume ls --format '{{.Name}}' | grep -qx ${STACK}_node3-logs"
}

CHAT_ROOM_ID=""
cross_node_chat() {
  local p1 p3 out
  p1=$(machine_port m1 8080)
  p3=$(machine_port m3 8080)
  out=$(timeout 90 "$NODE_BIN" "$HERE/chat-check.mjs" chat "ws://127.0.0.1:${p1}" "ws://127.0.0.1:${p3}" swarm-room) || {
    warn "chat between a client on node1 (machine m1) and one on node3 (machine m3) failed: ${out}"
    return 1
  }
  CHAT_ROOM_ID=$("$NODE_BIN" -p "JSON.parse(process.argv[1]).room_id" "$out")
  log "  ok: client on node1 (m1) and client on node3 (m3) chatted: ${out}"
  check "node1's GET /cluster tells web pages node3's client URL (NODE3_CLIENT_URL)" bash -c \
    "curl -fsS http://127.0.0.1:${p1}/cluster | grep -q '\"node_id\":\"node3\",\"client_url\":\"ws://m3.chat.test:8080/\"'"
}

operator_scripts() {
  expect_rc 0 ops "$SCRIPTS/health-check.sh" -v || return 1
  sed 's/^/    | /' "$WORK/last.out" | grep -E 'SUCCESS|ERROR|status' | head -12
  check "health-check.sh saw all three nodes (on three machines) answer heartbeat()" \
    test "$(grep -c 'heartbeat ok' "$WORK/last.out")" -eq 3 || return 1
  expect_rc 0 ops "$SCRIPTS/health-check.sh" -n node3 -p published || return 1
  log "  ok: health-check.sh -n node3 -p published (heartbeat to machine m3's published 9090)"
  expect_rc 0 ops "$SCRIPTS/logs.sh" -n node1 -t 5 || return 1
  check "logs.sh -n node1 -t 5 prints a header and at most 5 timestamped lines" \
    test "$(grep -c 'chat-system_node1\.' "$WORK/last.out")" -ge 1 -a "$(grep -c 'chat-system_node1\.' "$WORK/last.out")" -le 5 || return 1
  expect_rc 1 ops "$SCRIPTS/logs.sh" -n node9 || return 1
  ops "$SCRIPTS/logs.sh" >"$WORK/logs-all.out" 2>&1
  check "logs.sh (all nodes, piped) shows node1..3" bash -c "grep -q '=== Logs from node1' $WORK/logs-all.out && grep -q '=== Logs from node3' $WORK/logs-all.out" || return 1
  timeout 6 bash -c "DOCKER_HOST=unix://$(machine_sock m1) $SCRIPTS/logs.sh -f -t 2" >"$WORK/logs-follow.out" 2>&1
  check "logs.sh -f follows all nodes with [nodeN] prefixes" bash -c "grep -q '^\[node1\]' $WORK/logs-follow.out && grep -q '^\[node3\]' $WORK/logs-follow.out" || return 1
  expect_rc 0 ops "$SCRIPTS/logs.sh" -a -n node2 || return 1
  # Operators with only Debian's docker.io CLI (20.10) must be able to use the scripts too.
  if [[ -x /usr/bin/docker ]]; then
    expect_rc 0 env PATH="/usr/bin:$PATH" DOCKER_HOST="unix://$(machine_sock m1)" "$SCRIPTS/health-check.sh" -n node3 &&
      expect_rc 0 env PATH="/usr/bin:$PATH" DOCKER_HOST="unix://$(machine_sock m1)" "$SCRIPTS/logs.sh" -n node3 -t 3 || return 1
    log "  ok: health-check.sh and logs.sh also work with the docker.io CLI $(/usr/bin/docker --version | awk '{print $3}' | tr -d ,)"
  fi
}

# shellcheck disable=SC2016 # some commands are expanded inside the container
seed_diagnostics() {
  local r1 p1 c1
  r1=$(machine_port m1 9090)
  p1=$(machine_port m1 8080)
  # The guide's own log greps (through logs.sh, as the guide does them).
  check "'./scripts/logs.sh -n node1 | grep listening' finds the bind address" bash -c "DOCKER_HOST=unix://$(machine_sock m1) $SCRIPTS/logs.sh -n node1 | grep -q listening" &&
    check "'./scripts/logs.sh -n node1 | grep -i xml-rpc' finds the XML-RPC startup line" bash -c "DOCKER_HOST=unix://$(machine_sock m1) $SCRIPTS/logs.sh -n node1 | grep -qi xml-rpc" &&
    check "'./scripts/logs.sh -n node1 | grep \"Starting stale member cleanup\"'" bash -c "DOCKER_HOST=unix://$(machine_sock m1) $SCRIPTS/logs.sh -n node1 | grep -q 'Starting stale member cleanup'" || return 1
  # The guide's heartbeat probe is Python; the image has none, so: the very same one-liner from the
  # host against node1's published XML-RPC port, and the image's own probe inside the container.
  out=$(heartbeat_py "$r1")
  check "seed probe: python3 xmlrpc.client ServerProxy(...).heartbeat() -> ${out}" grep -q "'status': 'ok'" <<<"$out" || return 1
  # Peer calls are signed with the Docker secret: an unsigned caller on the published port gets -32401.
  out=$(timeout 10 python3 -c "import xmlrpc.client as x
try: x.ServerProxy('http://127.0.0.1:${r1}').get_room_states()
except x.Fault as f: print(f.faultCode)" 2>&1)
  check "unsigned get_room_states() on node1's published XML-RPC port is refused (${out})" test "$out" = "-32401" &&
    check "no node runs without the peer secret (no 'PEER_SECRET is not set' WARNING)" bash -c \
      "! DOCKER_HOST=unix://$(machine_sock m1) $SCRIPTS/logs.sh 2>/dev/null | grep -q 'PEER_SECRET is not set'" || return 1
  c1=$(mdocker m1 ps -q -f name="${STACK}_node1")
  out=$(mdocker m1 exec "$c1" node dist/healthcheck.js 2>&1)
  check "docker exec <node1> node dist/healthcheck.js -> ${out}" grep -q '"status":"ok"' <<<"$out" &&
    check "docker exec <node1> node dist/healthcheck.js http://node2:9090 http://node3:9090 (peers over the overlay)" \
      mdocker m1 exec "$c1" node dist/healthcheck.js http://node2:9090 http://node3:9090 &&
    check "docker exec <node1> getent hosts node2 (DNS on the overlay)" mdocker m1 exec "$c1" getent hosts node2 &&
    check "docker exec <node1> node -e fetch(http://localhost:8080/) answers 200 (the guide's in-container curl)" bash -c \
      "DOCKER_HOST=unix://$(machine_sock m1) docker exec $c1 node -e \"fetch('http://localhost:8080/').then(r => console.log(r.status))\" | grep -qx 200" &&
    check "docker inspect <node1> shows health log entries" bash -c "DOCKER_HOST=unix://$(machine_sock m1) docker inspect $c1 --format '{{.State.Health.Status}} {{len .State.Health.Log}}' | grep -q '^healthy [1-9]'" &&
    check "log file in LOG_DIR (/var/log/chatnode) is written" mdocker m1 exec "$c1" sh -c 'test -n "$(find /var/log/chatnode -type f -size +0 | head -1)"' &&
    check "curl -I on node1's client port answers 200" bash -c "curl -sSI --max-time 5 http://127.0.0.1:${p1}/ | head -1 | grep -q ' 200'" &&
    check "GET /health on node1's client port answers 200" bash -c "curl -sS -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:${p1}/health | grep -q 200" &&
    check "docker-compose -f deployment/docker-compose.prod.yml config (seed validation)" bash -c "! command -v docker-compose >/dev/null || docker-compose -f $REPO_ROOT/deployment/docker-compose.prod.yml config -q"
}

config_change() {
  # The guide's debug procedure, verbatim on node2: LOG_LEVEL=DEBUG and a shorter CLEANUP_INTERVAL.
  ops docker service update --quiet --detach=false --env-add LOG_LEVEL=DEBUG --env-add CLEANUP_INTERVAL=1.5 "${STACK}_node2" >/dev/null || return 1
  sleep 8
  local n debug
  n=$(ops docker service logs --since 6s "${STACK}_node2" 2>/dev/null | grep -c 'Starting stale member cleanup')
  debug=$(ops docker service logs --since 60s "${STACK}_node2" 2>/dev/null | grep -c DEBUG)
  check "CLEANUP_INTERVAL=1.5 really changes the interval (${n} cleanups in 6 s; 5 s before)" test "$n" -ge 3 &&
    check "LOG_LEVEL=DEBUG really turns on debug lines (${debug} DEBUG lines)" test "$debug" -ge 1 || return 1
  # Back to the env file's values (what the next deploy.sh applies anyway).
  ops docker service update --quiet --detach=false --env-add LOG_LEVEL=INFO --env-add CLEANUP_INTERVAL=5 "${STACK}_node2" >/dev/null
}

# Samples the three nodes' heartbeats every second while a rolling update runs.
availability_sampler() {
  local ports=("$(machine_port m1 9090)" "$(machine_port m2 9090)" "$(machine_port m3 9090)") up p
  while :; do
    up=0
    for p in "${ports[@]}"; do heartbeat_py "$p" >/dev/null 2>&1 && up=$((up + 1)); done
    echo "$up"
    sleep 1
  done
}

# task_counts: how many tasks each node service has had (one more per restart), e.g. "3 3 2 ".
task_counts() {
  local n
  for n in node1 node2 node3; do printf '%s ' "$(ops docker service ps "${STACK}_${n}" -q | wc -l)"; done
}
bump_counts() { # "3 3 2 " -> "4 4 3 "
  local c out=""
  for c in $1; do out+="$((c + 1)) "; done
  printf '%s' "$out"
}

rolling_update() {
  DOCKER_HOST="unix://${ENGINE_SOCK}" "$SCRIPTS/build-image.sh" --no-compile --base "$BASE_IMAGE" -t "${TEST_REGISTRY}/chat-node:t2" >"$WORK/build-t2.log" 2>&1 || {
    tail -20 "$WORK/build-t2.log" >&2
    return 1
  }
  check "t2 is a different image than t1" test "$(host_docker image inspect -f '{{.Id}}' "${TEST_REGISTRY}/chat-node:t1")" != "$(host_docker image inspect -f '{{.Id}}' "${TEST_REGISTRY}/chat-node:t2")" || return 1
  load_image "${TEST_REGISTRY}/chat-node:t2" || return 1
  write_swarm_env "$WORK/swarm-t2.env" t2
  echo "WS_PING_INTERVAL=25" >>"$WORK/swarm-t2.env" # a changed setting rides along with the new image
  local tasks_before
  tasks_before=$(task_counts)
  availability_sampler >"$WORK/availability.log" 2>/dev/null &
  local sampler=$! t0 rc
  t0=$(date +%s)
  RESOLVE_IMAGE=never ops "$SCRIPTS/deploy.sh" -e "$WORK/swarm-t2.env" -c "$STACK_FILE" -v -w 240 >"$WORK/deploy-t2.log" 2>&1
  rc=$?
  kill "$sampler" 2>/dev/null
  wait "$sampler" 2>/dev/null
  grep -E 'node by node|restarting it alone|unchanged|SUCCESS|ERROR|WARNING' "$WORK/deploy-t2.log" | sed 's/^/    | /'
  [[ $rc -eq 0 ]] || {
    tail -30 "$WORK/deploy-t2.log" >&2
    return 1
  }
  log "  rolling update took $(($(date +%s) - t0))s; nodes answering per 1 s sample: $(tr '\n' ' ' <"$WORK/availability.log")"
  local images
  # (UpdateStatus is cleared when the final `docker stack deploy` finds nothing to change.)
  images=$(for n in node1 node2 node3; do ops docker service inspect "${STACK}_${n}" --format '{{.Spec.TaskTemplate.ContainerSpec.Image}} {{if .UpdateStatus}}{{.UpdateStatus.State}}{{else}}completed{{end}}'; done | sort -u | tr '\n' ' ')
  check "all three services run t2, update completed (${images})" test "$images" = "${TEST_REGISTRY}/chat-node:t2 completed " &&
    check "at least two of three nodes answered throughout the rolling update" bash -c "! grep -qE '^[01]$' $WORK/availability.log" || return 1
  local envs
  envs=$(for n in node1 node2 node3; do ops docker service inspect "${STACK}_${n}" --format '{{range .Spec.TaskTemplate.ContainerSpec.Env}}{{println .}}{{end}}' | grep '^WS_PING_INTERVAL='; done | sort -u | tr '\n' ' ')
  check "the changed setting reached every node (${envs})" test "$envs" = "WS_PING_INTERVAL=25 " || return 1
  check "each node restarted exactly once for image and setting together (tasks ${tasks_before}-> $(task_counts))" \
    test "$(task_counts)" = "$(bump_counts "$tasks_before")" || return 1
  RESOLVE_IMAGE=never ops "$SCRIPTS/deploy.sh" -e "$WORK/swarm-t2.env" -c "$STACK_FILE" >"$WORK/deploy-t2-again.log" 2>&1 || {
    tail -20 "$WORK/deploy-t2-again.log" >&2
    return 1
  }
  check "deploying the same settings again restarts nothing ($(grep -c 'unchanged' "$WORK/deploy-t2-again.log") of 3 unchanged)" \
    test "$(task_counts)" = "$(bump_counts "$tasks_before")" -a "$(grep -c 'unchanged' "$WORK/deploy-t2-again.log")" -eq 3 || return 1
  local out
  if ! out=$(timeout 60 "$NODE_BIN" "$HERE/chat-check.mjs" room-visible "ws://127.0.0.1:$(machine_port m1 8080)" "$CHAT_ROOM_ID"); then
    warn "room ${CHAT_ROOM_ID} is gone after the rolling update: ${out}"
    return 1
  fi
  log "  ok: the room created before the update is still there (data volume kept): ${out}"
  out=$(timeout 60 "$NODE_BIN" "$HERE/chat-check.mjs" history "ws://127.0.0.1:$(machine_port m3 8080)" "$CHAT_ROOM_ID" 2) || {
    warn "acknowledged messages missing after the rolling update: ${out}"
    return 1
  }
  log "  ok: both acknowledged messages are replayed on node3 after every node restarted: ${out}"
}

# OPERATIONS.md "Backup and restore of the data", on node1's machine (m1), as documented.
backup_restore() {
  local image
  image=$(ops docker service inspect "${STACK}_node1" --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}')
  ops docker service scale --detach=false "${STACK}_node1=0" >/dev/null 2>&1 || return 1
  mdocker m1 run --rm -v "${STACK}_node1-data:/data:ro" -v /tmp:/backup "$image" \
    tar -C /data -czf /backup/node1-data-test.tgz . || return 1
  check "backup archive holds the SQLite store" bash -c "DOCKER_HOST=unix://$(machine_sock m1) docker run --rm -v /tmp:/backup $image tar -tzf /backup/node1-data-test.tgz | grep -q 'chat.db'" || return 1
  # Lose the data, then restore it exactly as documented.
  mdocker m1 run --rm --user 0 -v "${STACK}_node1-data:/data" "$image" sh -c 'rm -rf /data/*' || return 1
  mdocker m1 run --rm --user 0 -v "${STACK}_node1-data:/data" -v /tmp:/backup "$image" \
    sh -c 'rm -rf /data/* && tar -C /data -xzf /backup/node1-data-test.tgz && chown -R 10001:10001 /data' || return 1
  ops docker service scale --detach=false "${STACK}_node1=1" >/dev/null 2>&1 || return 1
  expect_rc 0 ops "$SCRIPTS/health-check.sh" -n node1 || return 1
  local out
  out=$(timeout 60 "$NODE_BIN" "$HERE/chat-check.mjs" history "ws://127.0.0.1:$(machine_port m1 8080)" "$CHAT_ROOM_ID" 2) || {
    warn "node1 after restore does not replay the room's messages: ${out}"
    return 1
  }
  log "  ok: node1 stopped, data volume backed up, wiped, restored, node1 healthy and replays the room: ${out}"
}

machine_loss() {
  log "  stopping machine m3 (its engine and node3 go down)"
  host_docker stop -t 20 "${MACHINE_PREFIX}m3" >/dev/null || return 1
  local t0
  t0=$(date +%s)
  wait_for 90 "swarm-m3 reported Down" bash -c "DOCKER_HOST=unix://$(machine_sock m1) docker node ls --format '{{.Hostname}} {{.Status}}' | grep -qx 'swarm-m3 Down'" || return 1
  log "  ok: docker node ls reports swarm-m3 Down after $(($(date +%s) - t0))s"
  ops docker node ls | sed 's/^/    | /'
  local out
  out=$(timeout 90 "$NODE_BIN" "$HERE/chat-check.mjs" chat "ws://127.0.0.1:$(machine_port m1 8080)" "ws://127.0.0.1:$(machine_port m2 8080)" after-loss-room) || {
    warn "node1 <-> node2 chat failed with m3 down: ${out}"
    return 1
  }
  log "  ok: node1 and node2 keep serving (chat across them): ${out}"
  check "discover_rooms on node1 reports node3 unavailable" bash -c "! grep -q '\"node3\"' <<<'$("$NODE_BIN" -p "JSON.stringify(JSON.parse(process.argv[1]).nodes_available)" "$out")'" || return 1
  expect_rc 1 ops "$SCRIPTS/health-check.sh" || return 1
  grep -E 'SUCCESS|ERROR' "$WORK/last.out" | sed 's/^/    | /'
  check "health-check.sh exits 1 naming node3, with node1 and node2 healthy" bash -c \
    "grep -q 'unhealthy: node3' $WORK/last.out && grep -q 'node1: heartbeat ok' $WORK/last.out && grep -q 'node2: heartbeat ok' $WORK/last.out" || return 1
  local peer_log
  peer_log=$(ops docker service logs --since 90s "${STACK}_node1" 2>/dev/null | grep -i node3 | grep -iE 'fail|unreach|down|degrad|lost' | tail -2)
  if [[ -n $peer_log ]]; then log "  ok: node1's log reports the peer: ${peer_log}"; else warn "node1's log has no line about node3 failing (app log wording?)"; fi
}

print_diagnostics() {
  [[ -S $(machine_sock m1) ]] || return 0
  warn "state at failure:"
  ops docker node ls >&2 2>&1
  ops docker stack ps "$STACK" --no-trunc >&2 2>&1 | head -20
  for n in node1 node2 node3; do ops timeout 15 docker service logs --tail 15 "${STACK}_${n}" >&2 2>&1; done
}

# ------------------------------------------------------------------------------------------------
run_test() {
  trap 'rc=$?; if ((rc != 0)); then print_diagnostics; fi; print_step_report; exit $rc' EXIT
  step "preflight: root, Node 24, docker.io/debootstrap installed" preflight || exit 1
  if ! start_host_engine; then engine_unavailable; fi
  step "remove leftovers of an earlier run" remove_leftovers
  step "images: base (Debian minbase + Node 24), machine, app t1 via build-image.sh" build_images
  step "image: non-root, HEALTHCHECK, ports, volume dirs, prod deps only" check_image
  if [[ ${SWARM_TEST_SKIP_SINGLE_HOST:-0} != 1 ]]; then
    step "single host: docker-compose.single-host.yml up, chat, probes, SIGTERM" single_host_test
  fi
  step "swarm: 3 machines (DinD), init/join, node_type labels, load image" swarm_up
  step "encrypted overlay between machines (probe)" encrypted_overlay_probe
  step "deploy.sh -v: chat-system deployed and healthy" deploy_checks
  step "placement, settings pass-through, overlay, volumes" placement_checks
  step "chat: client on node1 (m1) <-> client on node3 (m3)" cross_node_chat
  step "health-check.sh and logs.sh" operator_scripts
  step "troubleshooting guide diagnostics" seed_diagnostics
  step "LOG_LEVEL=DEBUG and CLEANUP_INTERVAL via docker service update" config_change
  step "rolling update t1 -> t2 with deploy.sh, one node at a time" rolling_update
  step "backup and restore of node1's data volume (OPERATIONS.md)" backup_restore
  step "machine m3 stopped: others serve and report it" machine_loss
  log "ALL SWARM CHECKS PASSED"
}

kill_tree() { # PID: our own child and its descendants, by pid
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -TERM "$1" 2>/dev/null || true
}

teardown() {
  local t0
  t0=$(date +%s)
  log "==> teardown"
  if [[ -S $ENGINE_SOCK ]] && engine_pid >/dev/null; then
    remove_single_host
    remove_machines
    host_docker image ls -q "${TEST_REGISTRY}/chat-node" | xargs -r env DOCKER_HOST="unix://${ENGINE_SOCK}" docker rmi -f >/dev/null 2>&1
    host_docker image prune -f >/dev/null 2>&1
  fi
  stop_host_engine
  # Interfaces the engine may have left if it died: our bridge and compose bridges (br-*) are
  # removed with their networks; a killed engine leaves them.
  ip link show "$SWARM_BRIDGE" >/dev/null 2>&1 && ip link delete "$SWARM_BRIDGE"
  rm -rf "$MACHINE_SOCK_DIR" "$WORK" "$ENGINE_RUN_DIR"/run-*.err
  # The engine's runtime state, once nothing of it is mounted or running any more.
  if ! engine_pid >/dev/null && ! grep -q " ${ENGINE_RUN_DIR}/" /proc/mounts; then rm -rf "${ENGINE_RUN_DIR:?}/exec"; fi
  local left=""
  engine_pid >/dev/null && left+=" dockerd"
  pgrep -f -- "--exec-root ${ENGINE_RUN_DIR}/exec|${ENGINE_RUN_DIR}/exec/containerd" >/dev/null && left+=" engine-processes"
  ip link show "$SWARM_BRIDGE" >/dev/null 2>&1 && left+=" ${SWARM_BRIDGE}"
  if [[ -n $left ]]; then warn "teardown left:${left}"; else log "teardown done in $(($(date +%s) - t0))s: engine stopped, machines/volumes/networks removed, ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"; fi
}

main() {
  # One run at a time on this machine (the engine, its socket and the machine names are shared).
  mkdir -p "$ENGINE_RUN_DIR"
  exec 9>"${ENGINE_RUN_DIR}.lock"
  if ! flock -w 900 9; then
    echo "swarm-test: another Swarm test has held ${ENGINE_RUN_DIR}.lock for 15 minutes; giving up" >&2
    exit 1
  fi
  log "Swarm test of the chat-system deployment (limit ${TIMEOUT}s; work dir ${WORK})"
  run_test &
  local child=$! rc deadline=$(($(date +%s) + TIMEOUT))
  trap 'warn "interrupted"; kill_tree "$child"; wait "$child" 2>/dev/null; teardown; exit 130' INT TERM
  while kill -0 "$child" 2>/dev/null; do
    if (($(date +%s) >= deadline)); then
      warn "time limit of ${TIMEOUT}s reached: stopping the test"
      kill_tree "$child"
      break
    fi
    sleep 1
  done
  wait "$child"
  rc=$?
  teardown
  if ((rc == 0)); then
    echo "swarm: 1 passed, 0 failed"
  else
    echo "swarm: 0 passed, 1 failed"
  fi
  exit "$rc"
}

main "$@"
