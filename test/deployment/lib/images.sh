# shellcheck shell=bash
# Local images: no registry is reachable, so the harness makes its own from Debian's mirror.
#  - chatnode-minbase:local   debootstrap --variant=minbase bookworm (what node:24-slim is built on)
#  - chatnode-base:local      minbase + the Node 24 binary the project already uses, at
#                             /usr/local/bin/node like the official image: the stand-in for
#                             node:24-slim, passed to Dockerfile.node as NODE_IMAGE
#  - chatnode-machine:local   minbase + Debian's docker.io: one "machine" of the test Swarm
# Root filesystems are cached as tarballs under IMAGE_CACHE_DIR so reruns skip debootstrap.

IMAGE_CACHE_DIR=${IMAGE_CACHE_DIR:-/var/cache/chatnode-swarm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
BASE_IMAGE=chatnode-base:local
MACHINE_IMAGE=chatnode-machine:local

_debootstrap_tar() { # OUT_TAR EXTRA_PACKAGES...
  local out=$1 dir
  shift
  dir=$(mktemp -d /var/tmp/chatnode-rootfs.XXXXXX)
  log "debootstrap ${DEBIAN_SUITE} (minbase) into ${dir}${1:+ + apt: $*}"
  if ! debootstrap --variant=minbase "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >/tmp/chatnode-debootstrap.log 2>&1; then
    tail -20 /tmp/chatnode-debootstrap.log >&2
    rm -rf "$dir"
    return 1
  fi
  if (($# > 0)); then
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    mount -t proc proc "$dir/proc"
    if ! chroot "$dir" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $*" \
      >/tmp/chatnode-chroot-apt.log 2>&1; then
      umount "$dir/proc"
      tail -20 /tmp/chatnode-chroot-apt.log >&2
      rm -rf "$dir"
      return 1
    fi
    umount "$dir/proc"
    : >"$dir/etc/resolv.conf"
  fi
  chroot "$dir" apt-get clean >/dev/null 2>&1 || true
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/* "$dir"/var/cache/debconf/*-old
  mkdir -p "$IMAGE_CACHE_DIR"
  tar -C "$dir" -cf "${out}.partial" . && mv "${out}.partial" "$out"
  rm -rf "$dir"
}

_image_label() { host_docker image inspect "$1" --format "{{index .Config.Labels \"$2\"}}" 2>/dev/null; }

ensure_minbase_image() {
  local tarball="${IMAGE_CACHE_DIR}/minbase-${DEBIAN_SUITE}.tar"
  host_docker image inspect chatnode-minbase:local >/dev/null 2>&1 && return 0
  [[ -s $tarball ]] || _debootstrap_tar "$tarball" || return 1
  host_docker import --change 'CMD ["bash"]' "$tarball" chatnode-minbase:local >/dev/null
}

# The stand-in for node:24-slim. Rebuilt when the project's Node 24 binary changes version.
ensure_base_image() {
  local node_bin=${NODE_BINARY:-$REPO_ROOT/node_modules/node/bin/node} version ctx
  [[ -x $node_bin ]] || {
    warn "no Node 24 binary at ${node_bin} (run npm ci with install scripts enabled)"
    return 1
  }
  version=$("$node_bin" --version)
  if [[ $(_image_label "$BASE_IMAGE" org.chatnode.node-version) == "$version" ]]; then
    log "${BASE_IMAGE} (node ${version}) already present"
    return 0
  fi
  ensure_minbase_image || return 1
  ctx=$(mktemp -d)
  cp "$node_bin" "$ctx/node"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM chatnode-minbase:local
LABEL org.chatnode.node-version="${version}"
ENV NODE_VERSION=${version#v}
COPY node /usr/local/bin/node
RUN node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)'
CMD ["node"]
DOCKERFILE
  host_docker build --network none -q -t "$BASE_IMAGE" "$ctx" >/dev/null
  local rc=$?
  rm -rf "$ctx"
  ((rc == 0)) && log "built ${BASE_IMAGE} with node ${version}"
  return $rc
}

ensure_machine_image() {
  local tarball="${IMAGE_CACHE_DIR}/machine-${DEBIAN_SUITE}.tar"
  if host_docker image inspect "$MACHINE_IMAGE" >/dev/null 2>&1; then
    log "${MACHINE_IMAGE} already present"
    return 0
  fi
  [[ -s $tarball ]] || _debootstrap_tar "$tarball" docker.io iptables iproute2 procps ca-certificates || return 1
  host_docker import "$tarball" "$MACHINE_IMAGE" >/dev/null && log "imported ${MACHINE_IMAGE}"
}
