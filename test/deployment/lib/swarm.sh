# shellcheck shell=bash
# Three Swarm "machines" on this host: Docker-in-Docker containers of chatnode-machine:local on
# one private bridge of the harness engine. Each machine's engine socket is bind-mounted to the
# host, so the operator scripts run here exactly as on a manager (DOCKER_HOST=<m1 socket>).
# Each machine's 8080/9090 (where Swarm publishes the node in host mode) are published on
# 127.0.0.1 of this host, so every client connection of the test goes to loopback. The machines
# get no usable DNS server (--dns 127.0.0.1): nothing in them looks up or reaches outside hosts.

SWARM_NET=chatswarm
SWARM_BRIDGE=chatswarm0
SWARM_SUBNET=${SWARM_SUBNET:-172.31.231.0/24}
MACHINES=(m1 m2 m3)
MACHINE_PREFIX=chatswarm-
MACHINE_SOCK_DIR="${ENGINE_RUN_DIR}/machines"

machine_sock() { echo "${MACHINE_SOCK_DIR}/$1/docker.sock"; }
# mdocker MACHINE ARGS...: the docker CLI against one machine's engine.
mdocker() {
  local m=$1
  shift
  DOCKER_HOST="unix://$(machine_sock "$m")" docker "$@"
}
machine_ip() { host_docker inspect "${MACHINE_PREFIX}$1" --format "{{(index .NetworkSettings.Networks \"${SWARM_NET}\").IPAddress}}"; }
# machine_port MACHINE CONTAINER_PORT: the loopback port of this host that reaches it.
machine_port() { host_docker port "${MACHINE_PREFIX}$1" "$2/tcp" | head -1 | sed 's/.*://'; }

start_machines() {
  local m
  host_docker network inspect "$SWARM_NET" >/dev/null 2>&1 ||
    host_docker network create --driver bridge --subnet "$SWARM_SUBNET" \
      -o "com.docker.network.bridge.name=${SWARM_BRIDGE}" "$SWARM_NET" >/dev/null || return 1
  for m in "${MACHINES[@]}"; do
    mkdir -p "${MACHINE_SOCK_DIR}/${m}"
    rm -f "$(machine_sock "$m")"
    # The flags machine.md found necessary here (--privileged does not work on this kernel).
    host_docker run -d --name "${MACHINE_PREFIX}${m}" --hostname "swarm-${m}" --network "$SWARM_NET" \
      --cap-add ALL --cap-drop SYS_RESOURCE \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/docker -v "${MACHINE_SOCK_DIR}/${m}:/run/hostside" \
      -p 127.0.0.1::8080 -p 127.0.0.1::9090 --dns 127.0.0.1 \
      --entrypoint sh "$MACHINE_IMAGE" -c \
      'rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid; exec dockerd --log-level=warn -H unix:///var/run/docker.sock -H unix:///run/hostside/docker.sock' \
      >/dev/null 2>"$ENGINE_RUN_DIR/run-${m}.err" || {
      cat "$ENGINE_RUN_DIR/run-${m}.err" >&2
      return 1
    }
  done
  for m in "${MACHINES[@]}"; do
    wait_for 90 "engine of machine ${m}" mdocker "$m" version || {
      host_docker logs --tail 30 "${MACHINE_PREFIX}${m}" >&2
      return 1
    }
  done
  log "machines up: $(for m in "${MACHINES[@]}"; do printf '%s=%s ' "$m" "$(machine_ip "$m")"; done)"
}

form_swarm() {
  local ip1 token m i=1
  ip1=$(machine_ip m1)
  mdocker m1 swarm init --advertise-addr "$ip1" >/dev/null || return 1
  token=$(mdocker m1 swarm join-token -q worker)
  for m in m2 m3; do
    mdocker "$m" swarm join --advertise-addr "$(machine_ip "$m")" --token "$token" "${ip1}:2377" >/dev/null || return 1
  done
  wait_for 60 "3 Ready machines" bash -c "[[ \$(DOCKER_HOST=unix://$(machine_sock m1) docker node ls --format '{{.Status}}' | grep -c Ready) == 3 ]]" || return 1
  for m in "${MACHINES[@]}"; do
    mdocker m1 node update --label-add "node_type=node${i}" "swarm-${m}" >/dev/null || return 1
    i=$((i + 1))
  done
  mdocker m1 node ls
  mdocker m1 node ls -q | xargs env DOCKER_HOST="unix://$(machine_sock m1)" docker node inspect \
    --format '  {{.Description.Hostname}}: {{.Spec.Labels}}'
}

# load_image IMAGE: no registry, so copy the image into every machine's engine.
load_image() {
  local image=$1 tar m pids=() rc=0
  tar="/var/tmp/chatnode-image-$$.tar"
  host_docker save -o "$tar" "$image" || return 1
  for m in "${MACHINES[@]}"; do
    mdocker "$m" load -q -i "$tar" >/dev/null &
    pids+=($!)
  done
  for m in "${pids[@]}"; do wait "$m" || rc=1; done
  rm -f "$tar"
  return $rc
}

remove_machines() {
  local m
  for m in "${MACHINES[@]}"; do
    if host_docker inspect "${MACHINE_PREFIX}${m}" >/dev/null 2>&1; then
      host_docker rm -f -v "${MACHINE_PREFIX}${m}" >/dev/null 2>&1 || warn "could not remove machine ${m}"
    fi
    rm -rf "${MACHINE_SOCK_DIR:?}/${m}"
  done
  host_docker network rm "$SWARM_NET" >/dev/null 2>&1 || true
}
