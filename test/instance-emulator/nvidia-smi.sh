#!/bin/sh
# nvidia-smi of an emulated GPU instance (test/instance-emulator; a test component, never shipped).
# It answers the query the ORCA agent makes (from the instance's gpus file: one line per GPU,
# written when the instance boots: idle, no memory used) and `-L` (the list a container run with
# --gpus sees, from gpu-names), and refuses any other arguments as a typo would be. Both files are
# in the instance's directory, one above the bin directory this script is linked from.
here=$(dirname "$0")/..
expected='--query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits'
if [ "$*" = "-L" ]; then
  cat "$here/gpu-names"
  exit 0
fi
if [ "$*" != "$expected" ]; then
  echo "nvidia-smi stand-in: only '$expected' and '-L' are emulated, not '$*'" >&2
  exit 2
fi
cat "$here/gpus"
