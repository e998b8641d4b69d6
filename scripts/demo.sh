#!/usr/bin/env bash
# The main job on a fresh Debian machine with Node 20, in one command: installs what the
# demo needs (scripts/setup.sh --demo: no Kafka, no S3 server, no PyTorch) and runs it.
# Flags go to `sere demo`, e.g. `bash scripts/demo.sh --seed 1`. Run again, the set-up part
# takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --demo
echo "== demo"
npm run demo -- "$@"
