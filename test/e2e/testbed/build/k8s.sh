#!/usr/bin/env bash
# Builds etcd-free Kubernetes control-plane binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl) of one version from the Go module proxy, through a wrapper module that
# pins every staging module. Output: $ORCA_TESTBED_CACHE/k8s-$KV/bin. A second run is a no-op.
set -euo pipefail
KV=${ORCA_K8S_VERSION:?ORCA_K8S_VERSION is required, e.g. 1.35.4}
CACHE=${ORCA_TESTBED_CACHE:?ORCA_TESTBED_CACHE is required}
OUT="$CACHE/k8s-$KV"
BINS="kube-apiserver kube-controller-manager kube-scheduler kubectl"
done_all=1
for b in $BINS; do [ -x "$OUT/bin/$b" ] || done_all=0; done
if [ "$done_all" = 1 ]; then echo "k8s $KV: cached in $OUT/bin"; exit 0; fi

MINOR=$(echo "$KV" | cut -d. -f2)
SV="0.${KV#1.}"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$OUT/src" "$OUT/bin"
cd "$OUT/src"
[ -f go.mod ] || go mod init orcatestbed.local/k8sbuild >/dev/null 2>&1
GOMOD=$(go mod download -json "k8s.io/kubernetes@v$KV" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[ -f "$GOMOD" ] || { echo "k8s build: could not download k8s.io/kubernetes@v$KV" >&2; exit 1; }
MODS=$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$GOMOD")
for m in $MODS; do
  go list -m "$m@v$SV" >/dev/null 2>&1 || { echo "k8s build: the module proxy lacks $m@v$SV" >&2; exit 1; }
  go mod edit -replace="$m=$m@v$SV"
done
GODEBUG_DEFAULT=$(sed -n 's/^godebug default=\(go[0-9.]*\)$/\1/p' "$GOMOD")
[ -z "$GODEBUG_DEFAULT" ] || go mod edit -godebug=default="$GODEBUG_DEFAULT"
PKGS=()
GETS=("k8s.io/kubernetes@v$KV")
for b in $BINS; do
  PKGS+=("k8s.io/kubernetes/cmd/$b")
  GETS+=("k8s.io/kubernetes/cmd/$b@v$KV")
done
go get "${GETS[@]}" >/dev/null
V=k8s.io/component-base/version
C=k8s.io/client-go/pkg/version
BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LDF="-s -w -X $V.gitVersion=v$KV -X $V.gitMajor=1 -X $V.gitMinor=$MINOR -X $V.gitTreeState=clean"
LDF="$LDF -X $V.buildDate=$BUILD_DATE -X $C.gitVersion=v$KV -X $C.gitMajor=1 -X $C.gitMinor=$MINOR"
LDF="$LDF -X $C.gitTreeState=clean -X $C.buildDate=$BUILD_DATE"
start=$(date +%s)
go build -trimpath -tags selinux,notest -ldflags "$LDF" -o "$OUT/bin/" "${PKGS[@]}"
echo "k8s $KV: built $BINS in $(( $(date +%s) - start ))s into $OUT/bin"
