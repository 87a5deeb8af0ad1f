# shellcheck shell=bash
# Shared helpers of the Swarm test harness: logging, step timing, waiting with a deadline.

SWARM_T0=${SWARM_T0:-$(date +%s)}
declare -a SWARM_STEP_REPORT=()

log() { printf '[swarm-test %4ss] %s\n' "$(($(date +%s) - SWARM_T0))" "$*"; }
warn() { printf '[swarm-test %4ss] WARNING: %s\n' "$(($(date +%s) - SWARM_T0))" "$*" >&2; }
die() {
  printf '\n[swarm-test] FAILED: %s\n\n' "$*" >&2
  exit 1
}

# step NAME CMD...: runs CMD, records its duration and outcome for the final summary.
step() {
  local name=$1 t0 rc
  shift
  t0=$(date +%s)
  log "==> ${name}"
  if "$@"; then rc=0; else rc=$?; fi
  SWARM_STEP_REPORT+=("$(printf '%-58s %5ss  %s' "$name" "$(($(date +%s) - t0))" "$([[ $rc -eq 0 ]] && echo ok || echo "FAILED (rc=$rc)")")")
  if [[ $rc -ne 0 ]]; then die "step '${name}' failed (rc=${rc})"; fi
}

print_step_report() {
  local line
  printf '\n=== Swarm test summary (total %ss) ===\n' "$(($(date +%s) - SWARM_T0))"
  for line in "${SWARM_STEP_REPORT[@]}"; do printf '  %s\n' "$line"; done
}

# wait_for SECONDS DESCRIPTION CMD...: polls CMD every 2 s until it succeeds or the deadline passes.
wait_for() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) >= deadline)); then
      warn "timed out after ${timeout}s waiting for: ${what}"
      return 1
    fi
    sleep 2
  done
}
