# Shared by scripts/kafka/kafka.sh and scripts/s3/s3.sh: messages, a port probe, the pid of
# the running server, and a stop that escalates to SIGKILL. Source it after setting
#   SERVICE       name used in messages (e.g. kafka.sh)
#   PID_FILE      where the server's pid is kept
#   PROCESS_MARK  a string its /proc/<pid>/cmdline contains, so a reused pid is not mistaken for it

say() { echo "$SERVICE: $*"; }
die() { echo "$SERVICE: error: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q "$PROCESS_MARK" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# stop_service SIGNAL TIMEOUT_S [SETTLED]: sends SIGNAL, waits up to TIMEOUT_S for the exit,
# then SIGKILL. SETTLED, a command, tells when the part of the shutdown that keeps data safe
# is over (files flushed and closed); from then on the process gets 2 s more.
stop_service() {
  local signal="$1" timeout="$2" settled="${3:-}" pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  kill "-$signal" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout)) why="no clean exit after ${timeout} s" killed=""
  while kill -0 "$pid" 2>/dev/null; do
    if [[ -n "$settled" ]] && $settled; then
      settled=""
      if ((SECONDS + 2 < deadline)); then
        deadline=$((SECONDS + 2))
        why="its data is closed, the rest of its shutdown is not over after 2 s"
      fi
    fi
    if [[ -z "$killed" ]] && ((SECONDS >= deadline)); then
      say "$why; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      killed=1
    fi
    sleep 0.1
  done
  rm -f "$PID_FILE"
  say "stopped (pid $pid, SIG$signal${killed:+, then SIGKILL})"
}
