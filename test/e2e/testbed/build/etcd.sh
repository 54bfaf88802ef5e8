#!/usr/bin/env bash
# Builds etcd from the Go module proxy (go.etcd.io/etcd/server/v3 holds package main).
# Output: $ORCA_TESTBED_CACHE/etcd-$ORCA_ETCD_VERSION/bin/etcd. A second run is a no-op.
set -euo pipefail
EV=${ORCA_ETCD_VERSION:?ORCA_ETCD_VERSION is required}
CACHE=${ORCA_TESTBED_CACHE:?ORCA_TESTBED_CACHE is required}
OUT="$CACHE/etcd-$EV"
if [ -x "$OUT/bin/etcd" ]; then echo "etcd $EV: cached in $OUT/bin"; exit 0; fi
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$OUT/src" "$OUT/bin"
cd "$OUT/src"
[ -f go.mod ] || go mod init orcatestbed.local/etcdbuild >/dev/null 2>&1
go get "go.etcd.io/etcd/server/v3@v$EV" >/dev/null
start=$(date +%s)
go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcd.tmp" go.etcd.io/etcd/server/v3
mv "$OUT/bin/etcd.tmp" "$OUT/bin/etcd"
echo "etcd $EV: built in $(( $(date +%s) - start ))s into $OUT/bin"
