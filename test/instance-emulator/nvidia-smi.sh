#!/bin/sh
# nvidia-smi of an emulated GPU instance (test/instance-emulator; a test component, never shipped).
# It answers only the query the ORCA agent makes, from $HOME/gpus (one line per GPU, written when
# the instance boots: idle, no memory used), and refuses any other arguments as a typo would be.
expected='--query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits'
if [ "$*" != "$expected" ]; then
  echo "nvidia-smi stand-in: only '$expected' is emulated, not '$*'" >&2
  exit 2
fi
cat "$HOME/gpus"
