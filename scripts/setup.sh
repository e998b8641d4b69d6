#!/usr/bin/env bash
# One-time setup of a Debian machine: system packages (libtorch, OpenBLAS, Java, Maven, Go,
# PyTorch for the cross-checks in the tests), npm packages (which builds the libtorch addon),
# the Kafka jars and the S3 server binary. Idempotent; .ci/run starts with it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== system packages"
export DEBIAN_FRONTEND=noninteractive
need=(libtorch-dev libgloo-dev libopenblas0-pthread python3-torch python3-torchvision python3-pil python3-numpy g++ make xz-utils)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v go >/dev/null || need+=(golang-go)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== npm packages (builds the libtorch addon)"
npm ci --no-audit --no-fund

echo "== Kafka jars and the S3 server (cached under .cache/)"
bash scripts/kafka/kafka.sh fetch
bash scripts/s3/s3.sh build
