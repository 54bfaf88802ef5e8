#!/bin/sh
# The docker CLI of an emulated instance (test/instance-emulator; a test component, never shipped).
# It hands its arguments, and its stdin for `login --password-stdin`, to the emulator's docker
# stand-in at $DOCKER_HOST (tcp://127.0.0.1:<port>, as the real CLI is pointed at a daemon), which
# answers with the exit code on the first line and then the output. `docker exec` and `docker
# attach` stream instead: for exec the stand-in answers a script that this shim runs, ending in the
# command itself (so the command has this process's stdin, stdout, stderr and signals); attach is
# relayed by attach-relay.py.
set -u
: "${DOCKER_HOST:?DOCKER_HOST is not set: the instance emulator points it at its docker stand-in}"
daemon="http://${DOCKER_HOST#tcp://}"
unreachable() {
  echo "Cannot connect to the Docker daemon at $DOCKER_HOST. Is the docker daemon running?" >&2
  exit 1
}
case ${1:-} in
  exec)
    nl='
'
    reply=$(printf '%s\0' '' "$@" | curl -s --data-binary @- "$daemon/exec") || unreachable
    [ -n "$reply" ] || unreachable
    code=${reply%%"$nl"*}
    body=${reply#*"$nl"}
    if [ "$code" != 0 ]; then
      printf '%s\n' "$body" >&2
      exit "$code"
    fi
    eval "$body"
    exit 126 ;;
  attach)
    exec python3 "$(dirname "$(readlink -f "$0")")/attach-relay.py" "$@" ;;
esac
input=''
for a in "$@"; do
  [ "$a" = --password-stdin ] && input=$(cat)
done
# NUL-separated: stdin first, then each argument (no argument can hold a NUL).
printf '%s\0' "$input" "$@" | curl -s --data-binary @- "$daemon/cli" | {
  if ! read -r code; then
    unreachable
  fi
  if [ "$code" = 0 ]; then cat; else cat >&2; fi
  exit "$code"
}
