#!/usr/bin/env bash
# Installs moto's server (the AWS emulator) and the AWS CLI v1 from PyPI into one virtualenv. The
# instance emulator puts that `aws` on the agent's PATH (it honours AWS_ENDPOINT_URL, so the agent's
# own calls reach moto). Output: $ORCA_TESTBED_CACHE/moto-$ORCA_MOTO_VERSION/bin/{moto_server,aws}.
# A second run is a no-op. The marker names both versions: a cache without awscli, or with another
# awscli version, keeps its moto and gets awscli installed into it.
set -euo pipefail
MV=${ORCA_MOTO_VERSION:?ORCA_MOTO_VERSION is required}
AV=${ORCA_AWSCLI_VERSION:?ORCA_AWSCLI_VERSION is required}
CACHE=${ORCA_TESTBED_CACHE:?ORCA_TESTBED_CACHE is required}
OUT="$CACHE/moto-$MV"
want="moto[server]==$MV awscli==$AV"
if [ -f "$OUT/.complete" ] && [ -x "$OUT/bin/aws" ] && [ "$(cat "$OUT/.complete")" = "$want" ]; then
  echo "moto $MV, awscli $AV: cached in $OUT"
  exit 0
fi
# A finished moto install is kept (only awscli is added to it); anything else starts afresh.
if [ ! -f "$OUT/.complete" ]; then
  rm -rf "$OUT"
  "${PYTHON:-python3}" -m venv "$OUT"
fi
rm -f "$OUT/.complete"
start=$(date +%s)
# One resolve for both, so the dependencies they share agree.
"$OUT/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MV" "awscli==$AV"
"$OUT/bin/aws" --version >/dev/null
printf '%s\n' "$want" >"$OUT/.complete"
echo "moto $MV, awscli $AV: installed in $(( $(date +%s) - start ))s into $OUT"
