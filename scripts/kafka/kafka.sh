#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker + controller) for tests, benchmarks and
# local runs. Jars come from Maven Central through `mvn dependency:copy-dependencies`,
# because Debian ships no Kafka package and Maven Central is the one Java registry every
# machine of the project reaches.
#
#   scripts/kafka/kafka.sh start|stop|status|fetch|restart|reset
#
# Environment:
#   KAFKA_VERSION          org.apache.kafka:kafka_2.13 version (default 3.9.1; kafkajs 2.2.4
#                          speaks the old protocol versions that Kafka 4.x removed, KIP-896)
#   KAFKA_PORT             client listener on 127.0.0.1 (default 19092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener (default KAFKA_PORT + 1)
#   KAFKA_HOME_DIR         cache and state folder (default <repo>/.cache/kafka, git-ignored)
#   KAFKA_HEAP             JVM heap (default 512m: the machines have 2 cores and tests run beside it)
#   KAFKA_START_TIMEOUT    seconds to wait for the listener (default 90)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_HOME_DIR="${KAFKA_HOME_DIR:-$REPO_ROOT/.cache/kafka}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

JARS_DIR="$KAFKA_HOME_DIR/$KAFKA_VERSION/libs"
# State is per port so two brokers (say, CI and a developer's) can live side by side.
STATE_DIR="$KAFKA_HOME_DIR/state-$KAFKA_PORT"
DATA_DIR="$STATE_DIR/data"
CONF="$STATE_DIR/server.properties"
LOG4J="$STATE_DIR/log4j.properties"
PID_FILE="$STATE_DIR/kafka.pid"
LOG_FILE="$STATE_DIR/kafka.log"

SERVICE=kafka.sh
PROCESS_MARK=kafka.Kafka
# shellcheck source=../lib/service.sh
source "$REPO_ROOT/scripts/lib/service.sh"

fetch() {
  if [[ -f "$JARS_DIR/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found; install Maven (Debian package 'maven')"
  command -v java >/dev/null || die "java not found; install a JDK 17 (Debian package 'openjdk-17-jdk-headless')"
  local work="$KAFKA_HOME_DIR/$KAFKA_VERSION"
  mkdir -p "$work"
  # slf4j-reload4j is the logging backend Kafka 3.x's own distribution ships; without a
  # binding the broker logs nothing, and a failed start would be silent.
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>ts.sere</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
POM
  say "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central into $JARS_DIR"
  rm -rf "$JARS_DIR"
  (cd "$work" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS_DIR") \
    || die "mvn dependency:copy-dependencies failed for kafka_2.13:$KAFKA_VERSION (is Maven Central reachable?)"
  ls "$JARS_DIR"/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka_2.13 jar missing from $JARS_DIR after mvn"
  touch "$JARS_DIR/.complete"
}

write_config() {
  mkdir -p "$STATE_DIR"
  cat >"$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# Batches of views run to a few MB; allow 16 MiB messages.
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
# Views are regenerated every epoch; keep little on disk.
log.retention.bytes=1073741824
log.segment.bytes=268435456
num.network.threads=2
num.io.threads=2
PROPS
  cat >"$LOG4J" <<'L4J'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.Append=false
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
L4J
}

JAVA_CMD=(java "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true
  "-Dkafka.logs.dir=$STATE_DIR" "-Dlog4j.configuration=file:$LOG4J" -cp "$JARS_DIR/*")

format_storage() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$("${JAVA_CMD[@]}" kafka.tools.StorageTool random-uuid)" \
    || die "kafka.tools.StorageTool random-uuid failed (java on PATH: $(command -v java))"
  "${JAVA_CMD[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONF" >"$STATE_DIR/format.log" 2>&1 \
    || { cat "$STATE_DIR/format.log" >&2; die "kafka.tools.StorageTool format failed (log: $STATE_DIR/format.log)"; }
}

start() {
  if pid="$(running_pid)"; then
    say "already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    die "port $KAFKA_PORT is taken by another process; set KAFKA_PORT to a free port"
  fi
  fetch
  write_config
  format_storage
  say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (log: $LOG_FILE)"
  # setsid: the broker must outlive the shell (and the test process) that started it.
  # 9>&-: the broker must not inherit the lock, or every later call would wait for it to exit.
  setsid nohup "${JAVA_CMD[@]}" kafka.Kafka "$CONF" >"$LOG_FILE" 2>&1 </dev/null 9>&- &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  local waited=0
  # The listener opens before the broker has caught up with the controller; the log line
  # is the broker's own word that it serves requests.
  until port_open "$KAFKA_PORT" && grep -q 'Transition from STARTING to STARTED' "$STATE_DIR/server.log" 2>/dev/null; do
    # kill -0, not running_pid: until setsid execs, the child's command line is still this
    # script's, and a busy machine can show it to the first check.
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$LOG_FILE" "$STATE_DIR/server.log" 2>/dev/null >&2 || true
      die "Kafka exited during start-up (log: $LOG_FILE, $STATE_DIR/server.log)"
    fi
    if (( waited >= KAFKA_START_TIMEOUT )); then
      stop
      die "Kafka did not open 127.0.0.1:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s (log: $LOG_FILE)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "ready on 127.0.0.1:$KAFKA_PORT after ${waited}s (pid $(cat "$PID_FILE"))"
}

stop() { stop_service TERM 30; }

status() {
  if pid="$(running_pid)"; then
    if port_open "$KAFKA_PORT"; then say "running (pid $pid) on 127.0.0.1:$KAFKA_PORT"; return 0; fi
    say "starting (pid $pid), 127.0.0.1:$KAFKA_PORT not open yet"; return 1
  fi
  say "not running"
  return 3
}

# One start/stop at a time: test files and scripts may race to start the same broker.
mkdir -p "$KAFKA_HOME_DIR"
exec 9>"$KAFKA_HOME_DIR/.lock-$KAFKA_PORT"
flock 9

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  fetch) fetch; say "jars in $JARS_DIR" ;;
  reset) stop; rm -rf "$STATE_DIR"; say "state removed: $STATE_DIR" ;;
  *) echo "usage: scripts/kafka/kafka.sh start|stop|status|restart|fetch|reset" >&2; exit 2 ;;
esac
