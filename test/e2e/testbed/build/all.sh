#!/usr/bin/env bash
# Builds or reuses every test-bed component. Go builds run one after another (they are CPU-bound);
# the PyPI install runs beside them. Cache: $ORCA_TESTBED_CACHE (default ~/.cache/orca-testbed).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
set -a
# shellcheck source=SCRIPTDIR/../versions.env
. "$HERE/../versions.env"
set +a
export ORCA_TESTBED_CACHE=${ORCA_TESTBED_CACHE:-$HOME/.cache/orca-testbed}
mkdir -p "$ORCA_TESTBED_CACHE"
command -v go >/dev/null || { echo "testbed build: Go >= 1.25 is required (go not found)" >&2; exit 1; }
bash "$HERE/moto.sh" > "$ORCA_TESTBED_CACHE/moto-build.log" 2>&1 &
moto_pid=$!
for part in etcd k8s helm metrics-server; do
  if ! bash "$HERE/$part.sh" > "$ORCA_TESTBED_CACHE/$part-build.log" 2>&1; then
    echo "testbed build: $part failed; see $ORCA_TESTBED_CACHE/$part-build.log" >&2
    tail -20 "$ORCA_TESTBED_CACHE/$part-build.log" >&2
    exit 1
  fi
  tail -1 "$ORCA_TESTBED_CACHE/$part-build.log"
done
if ! wait "$moto_pid"; then
  echo "testbed build: moto failed; see $ORCA_TESTBED_CACHE/moto-build.log" >&2
  tail -20 "$ORCA_TESTBED_CACHE/moto-build.log" >&2
  exit 1
fi
tail -1 "$ORCA_TESTBED_CACHE/moto-build.log"
