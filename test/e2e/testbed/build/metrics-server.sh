#!/usr/bin/env bash
# Builds metrics-server (what `kubectl top` reads) from the Go module proxy; its go.mod has no
# replace directives, so go install works. Output: $ORCA_TESTBED_CACHE/metrics-server-$V/bin.
# A second run is a no-op.
set -euo pipefail
MV=${ORCA_METRICS_SERVER_VERSION:?ORCA_METRICS_SERVER_VERSION is required}
CACHE=${ORCA_TESTBED_CACHE:?ORCA_TESTBED_CACHE is required}
OUT="$CACHE/metrics-server-$MV"
if [ -x "$OUT/bin/metrics-server" ]; then echo "metrics-server $MV: cached in $OUT/bin"; exit 0; fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$OUT/bin"
start=$(date +%s)
go install -trimpath -ldflags "-s -w" "sigs.k8s.io/metrics-server/cmd/metrics-server@v$MV"
echo "metrics-server $MV: built in $(( $(date +%s) - start ))s into $OUT/bin"
