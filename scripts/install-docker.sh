#!/usr/bin/env bash
# Makes sure a Docker engine answers, and that the tools spirelab builds images with are
# installed. Uses the engine on the default socket (or DOCKER_HOST) when one answers;
# otherwise, on Debian as root, installs Debian's docker.io and starts dockerd in the
# background. Safe to run again.
set -euo pipefail

log=${SPIRELAB_DOCKERD_LOG:-/var/log/spirelab-dockerd.log}
packages=(docker.io mmdebstrap prometheus)

need_packages() {
  for tool in dockerd mmdebstrap prometheus promtool; do
    command -v "$tool" >/dev/null || return 0
  done
  return 1
}

install_packages() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-docker: install ${packages[*]} (or start a Docker engine) and run again" >&2
    exit 1
  fi
  echo "install-docker: installing ${packages[*]} from the configured apt sources" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
}

engine_answers() {
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start_dockerd() {
  echo "install-docker: starting dockerd (log: $log)" >&2
  nohup dockerd >"$log" 2>&1 &
  for _ in $(seq 1 60); do
    engine_answers && return 0
    sleep 1
  done
  echo "install-docker: dockerd did not answer within 60 s; see $log" >&2
  tail -n 20 "$log" >&2 || true
  exit 1
}

if need_packages; then
  install_packages
fi
if ! engine_answers; then
  start_dockerd
fi
echo "install-docker: Docker engine $(docker version --format '{{.Server.Version}}') is answering" >&2
