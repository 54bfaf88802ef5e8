#!/usr/bin/env bash
# Builds helm from the Go module proxy (helm's go.mod has no replace directives, so go install works).
# Output: $ORCA_TESTBED_CACHE/helm-$ORCA_HELM_VERSION/bin/helm. A second run is a no-op.
set -euo pipefail
HV=${ORCA_HELM_VERSION:?ORCA_HELM_VERSION is required}
CACHE=${ORCA_TESTBED_CACHE:?ORCA_TESTBED_CACHE is required}
OUT="$CACHE/helm-$HV"
if [ -x "$OUT/bin/helm" ]; then echo "helm $HV: cached in $OUT/bin"; exit 0; fi
MAJOR=${HV%%.*}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$OUT/bin"
start=$(date +%s)
go install -trimpath -ldflags "-s -w -X helm.sh/helm/v$MAJOR/internal/version.version=v$HV" \
  "helm.sh/helm/v$MAJOR/cmd/helm@v$HV"
echo "helm $HV: built in $(( $(date +%s) - start ))s into $OUT/bin"
