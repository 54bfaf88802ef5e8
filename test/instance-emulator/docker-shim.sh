#!/bin/sh
# The docker CLI of an emulated instance (test/instance-emulator; a test component, never shipped).
# It hands its arguments, and its stdin for `login --password-stdin`, to the emulator's docker
# stand-in at $DOCKER_HOST (tcp://127.0.0.1:<port>, as the real CLI is pointed at a daemon), which
# answers with the exit code on the first line and then the output.
set -u
: "${DOCKER_HOST:?DOCKER_HOST is not set: the instance emulator points it at its docker stand-in}"
input=''
for a in "$@"; do
  [ "$a" = --password-stdin ] && input=$(cat)
done
# NUL-separated: stdin first, then each argument (no argument can hold a NUL).
printf '%s\0' "$input" "$@" | curl -s --data-binary @- "http://${DOCKER_HOST#tcp://}/cli" | {
  if ! read -r code; then
    echo "Cannot connect to the Docker daemon at $DOCKER_HOST. Is the docker daemon running?" >&2
    exit 1
  fi
  if [ "$code" = 0 ]; then cat; else cat >&2; fi
  exit "$code"
}
