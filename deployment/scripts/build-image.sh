#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds the chat node image with Dockerfile.node: compile on the host, stage the production
# dependencies, assemble the image. deploy.sh -b and the Swarm test use this same script.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

ENV_FILE=""
TAG=""
BASE_IMAGE=${NODE_IMAGE:-}
COMPILE=1
PUSH=0

usage() {
  cat <<USAGE
Usage: $(basename "$0") [OPTIONS]

Build the chat node image from this checkout (Dockerfile.node).

Options:
  -e, --env FILE     read REGISTRY, VERSION and NODE_IMAGE from FILE (e.g. deployment/.env.prod)
  -t, --tag IMAGE    image name (default: \$REGISTRY/chat-node:\$VERSION, else chat-node:latest)
      --base IMAGE   base image with Node 24 (default: \$NODE_IMAGE, else node:24-slim)
      --no-compile   use the existing dist/ instead of running 'npm run build'
  -p, --push         docker push the image after building it
  -h, --help         show this help

Steps: npm run build (Node 24 from the project's devDependency) -> npm ci --omit=dev into
deployment/.build/prod-deps -> docker build -f Dockerfile.node (no network needed inside).

Exit codes: 0 built (and pushed), 1 a step failed or bad arguments.
USAGE
}

while (($# > 0)); do
  case $1 in
    -e | --env) ENV_FILE=${2:?}; shift 2 ;;
    -t | --tag) TAG=${2:?}; shift 2 ;;
    --base) BASE_IMAGE=${2:?}; shift 2 ;;
    --no-compile) COMPILE=0; shift ;;
    -p | --push) PUSH=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) error "unknown option: $1"; usage >&2; exit 1 ;;
  esac
done

if [[ -n $ENV_FILE ]]; then
  load_env "$ENV_FILE"
  BASE_IMAGE=${BASE_IMAGE:-${NODE_IMAGE:-}}
fi
BASE_IMAGE=${BASE_IMAGE:-node:24-slim}
if [[ -z $TAG ]]; then
  if [[ -n ${REGISTRY:-} ]]; then TAG="${REGISTRY}/chat-node:${VERSION:-latest}"; else TAG="chat-node:${VERSION:-latest}"; fi
fi
APP_VERSION=${TAG##*:}
require_docker
command -v npm >/dev/null 2>&1 || { error "npm not found (needed to compile and stage dependencies)"; exit 1; }
cd "$PROJECT_ROOT"

if ((COMPILE)); then
  info "compiling: npm run build"
  npm run build --silent
fi
for f in dist/main.js dist/healthcheck.js; do
  [[ -f $f ]] || { error "$f is missing: run 'npm run build' (or drop --no-compile)"; exit 1; }
done

STAGE="$DEPLOY_DIR/.build/prod-deps"
info "staging production dependencies: npm ci --omit=dev -> ${STAGE#"$PROJECT_ROOT"/}"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp package.json package-lock.json "$STAGE/"
# --ignore-scripts: production dependencies are plain JavaScript; nothing of ours must run here.
(cd "$STAGE" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)
printf 'sha256:%s omit=dev\n' "$(sha256sum package-lock.json | cut -d' ' -f1)" >"$STAGE/STAMP"
rm -f "$STAGE/package.json" "$STAGE/package-lock.json"

info "building ${TAG} from ${BASE_IMAGE}"
docker build -f Dockerfile.node --network none \
  --build-arg "NODE_IMAGE=${BASE_IMAGE}" --build-arg "APP_VERSION=${APP_VERSION}" \
  -t "$TAG" .
success "built ${TAG} ($(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"

if ((PUSH)); then
  info "pushing ${TAG}"
  docker push "$TAG"
  success "pushed ${TAG}"
fi
