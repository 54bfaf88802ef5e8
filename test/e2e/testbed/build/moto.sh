#!/usr/bin/env bash
# Installs moto's server (the AWS emulator) from PyPI into a virtualenv.
# Output: $ORCA_TESTBED_CACHE/moto-$ORCA_MOTO_VERSION/bin/moto_server. A second run is a no-op.
set -euo pipefail
MV=${ORCA_MOTO_VERSION:?ORCA_MOTO_VERSION is required}
CACHE=${ORCA_TESTBED_CACHE:?ORCA_TESTBED_CACHE is required}
OUT="$CACHE/moto-$MV"
if [ -f "$OUT/.complete" ]; then echo "moto $MV: cached in $OUT"; exit 0; fi
rm -rf "$OUT"
"${PYTHON:-python3}" -m venv "$OUT"
start=$(date +%s)
"$OUT/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MV"
touch "$OUT/.complete"
echo "moto $MV: installed in $(( $(date +%s) - start ))s into $OUT"
