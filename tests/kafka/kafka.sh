#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, combined broker+controller, one node) on 127.0.0.1
# for Vigil's integration tests. The jars come from Maven Central (tests/kafka/pom.xml);
# java 17, mvn, kcat and python3 must be on PATH (packaging/install-deps.sh installs them).
#
# Usage:
#   kafka.sh fetch                         jars -> $VIGIL_KAFKA_CACHE/libs once; prints that libs dir
#   kafka.sh start DIR [PORT]              format (first time only) + start; prints 127.0.0.1:PORT
#   kafka.sh stop DIR                      SIGTERM, up to 20 s, then SIGKILL; idempotent
#   kafka.sh kill DIR                      SIGKILL now (crash tests); idempotent
#   kafka.sh restart DIR                   stop + start on the same ports and data; prints bootstrap
#   kafka.sh create-topic DIR NAME PARTS   replication factor 1, --if-not-exists; waits for leaders
#   kafka.sh wait DIR                      wait until the broker answers metadata; prints bootstrap
#   kafka.sh bootstrap DIR                 prints 127.0.0.1:PORT
#
# DIR holds: server.properties, log4j2.properties, data/ (log.dirs), ports ("BROKER CONTROLLER"),
# pid, bootstrap, kafka.log (stdout/stderr of the JVM) and server.log (the broker's own log).
# `start` on a DIR whose data/ is already formatted (a restart) reuses data/ and the ports
# saved in DIR. The broker runs in its own process group; always `stop DIR` (e.g. in a trap).
#
# Environment:
#   VIGIL_KAFKA_CACHE   jar cache (default $HOME/.cache/vigil/kafka-<version>); jars in ./libs
#   VIGIL_KAFKA_WAIT    seconds to wait for the broker to answer (default 60)
#   VIGIL_KAFKA_HEAP    broker heap (default 512m)
#
# Typical timings on the 2-core dev/CI machine (Kafka 4.4.0), idle / busy (load ~8, a
# parallel C++ build):
#   fetch         cold (empty ~/.m2, mvn downloads ~45 MB) ~5 s; warm (stamp present) 0 s
#   start         first time 3.5-4.5 s / 8-14 s: 2 JVMs (storage format, then the broker)
#   restart       3-4 s / 9-12 s (stop + one broker JVM; data and ports reused)
#   start after kill ~+3 s more: the old registration must expire (broker.session.timeout.ms)
#   create-topic  ~1 s / 2-3 s (1 JVM: TopicCommand)
#   stop          ~0.5 s / ~1 s (controlled shutdown of a single node); kill: immediate
# Only start and create-topic launch JVMs; prefer one create-topic per topic per test run
# (auto.create.topics.enable=true with num.partitions=3 is on as well).
set -euo pipefail

# Kafka 4.x dropped old protocol versions (KIP-896); 4.4.0 was checked against librdkafka
# 2.0.2 (kcat 1.7.1 and a C admin client): metadata, produce (acks=all, idempotent,
# transactional, gzip/snappy/lz4/zstd), classic-protocol consumer groups with commits and
# resume, ListOffsets, admin (create/delete topics, configs, partitions, groups, records),
# restart. librdkafka 2.0.2 negotiates versions above every removed one (Produce v7,
# Fetch v11, Metadata v4, JoinGroup v5, OffsetCommit/OffsetFetch v7, FindCoordinator v2,
# ListOffsets v2). Keep the pom's default kafka.version equal to this.
KAFKA_VERSION=4.4.0

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VIGIL_KAFKA_CACHE:-${HOME:-/tmp}/.cache/vigil/kafka-$KAFKA_VERSION}
LIBS=$CACHE/libs
STAMP=$CACHE/.fetched-$KAFKA_VERSION
WAIT_SECS=${VIGIL_KAFKA_WAIT:-60}
HEAP=${VIGIL_KAFKA_HEAP:-512m}

# Short-lived tool JVMs: C1 only and the serial collector start noticeably faster.
TOOL_JVM_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
               -Djava.awt.headless=true)

die() { echo "kafka.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH (run packaging/install-deps.sh)"; }

usage() {
  sed -n '5,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

abs_dir() { # DIR -> absolute path, created
  mkdir -p "$1"
  (cd "$1" && pwd)
}

# ---------------------------------------------------------------------------------- fetch
fetched() { [ -f "$STAMP" ] && [ -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]; }

cmd_fetch() {
  if ! fetched; then
    need mvn
    mkdir -p "$CACHE"
    # parallel test runs on a cold cache: one fetches, the others wait for it
    exec 9>"$CACHE/.lock"
    flock 9
  fi
  if ! fetched; then
    local tmp="$CACHE/libs.tmp.$$"
    rm -rf "$tmp"
    # quiet unless it fails; -B: no colour codes, no progress
    local out
    if ! out=$(mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" \
                 -Dkafka.version="$KAFKA_VERSION" \
                 dependency:copy-dependencies -DincludeScope=runtime \
                 -DoutputDirectory="$tmp" 2>&1); then
      rm -rf "$tmp"
      printf '%s\n' "$out" >&2
      die "mvn could not fetch the Kafka $KAFKA_VERSION jars"
    fi
    ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 \
      || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"; }
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    date -u +%FT%TZ >"$STAMP"
  fi
  exec 9>&- # release the lock (and keep the fd out of the broker JVM)
  echo "$LIBS"
}

ensure_libs() {
  fetched || cmd_fetch >/dev/null
}

# ------------------------------------------------------------------------------- helpers
# A broker is found by its pid file or, failing that (e.g. start was interrupted right after
# launching it), by its command line: only a java running `kafka.Kafka DIR/server.properties`.
is_broker_of() { # PID DIR -> 0 if PID is a live (non-zombie) broker of DIR
  local st
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $2/server.properties"
}

broker_pid() { # DIR -> prints the pid of the live broker of DIR, if any
  local dir=$1 pid f
  pid=$(cat "$dir/pid" 2>/dev/null || true)
  if is_broker_of "$pid" "$dir"; then echo "$pid"; return 0; fi
  for f in $(grep -lasF "$dir/server.properties" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    if is_broker_of "$pid" "$dir"; then echo "$pid"; return 0; fi
  done
  return 1
}

pid_alive() { # DIR -> 0 if the broker of DIR runs
  broker_pid "$1" >/dev/null
}

# Interrupted (TERM/INT/HUP): end the tool JVM in flight and a broker this `start` launched
# but has not yet seen answer, so an interrupted start leaves nothing behind.
CHILD=""
LAUNCHED_DIR=""
on_signal() {
  trap - TERM INT HUP
  [ -z "$CHILD" ] || kill -TERM "$CHILD" 2>/dev/null || true
  [ -z "$LAUNCHED_DIR" ] || signal_and_wait "$LAUNCHED_DIR" KILL 10 || true
  exit 143
}
trap on_signal TERM INT HUP

run_tool() { # LOG4J_CONFIG CLASS ARGS...: a short-lived Kafka tool JVM, interruptible
  local cfg=$1; shift
  java "${TOOL_JVM_OPTS[@]}" -Dlog4j2.configurationFile="$cfg" -cp "$LIBS/*" "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return $rc
}

free_ports() { # prints two distinct free loopback ports
  python3 -c '
import socket
ss = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))'
}

probe() { # bootstrap -> 0 if the broker answers metadata with itself in it
  # a refused connect costs kcat its whole -m timeout, so first a cheap TCP connect (the
  # broker opens its listener only once it is ready to serve)
  (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null || return 1
  kcat -L -b "$1" -m 2 -X socket.connection.setup.timeout.ms=1000 2>/dev/null \
    | grep -q 'broker 1 at 127.0.0.1'
}

wait_ready() { # DIR
  local dir=$1 bs deadline
  bs=$(cat "$dir/bootstrap")
  deadline=$((SECONDS + WAIT_SECS))
  while :; do
    if ! pid_alive "$dir"; then
      echo "kafka.sh: broker in $dir is not running; last lines of its logs:" >&2
      tail -n 30 "$dir/kafka.log" "$dir/server.log" >&2 2>/dev/null || true
      return 1
    fi
    probe "$bs" && return 0
    if [ $SECONDS -ge $deadline ]; then
      echo "kafka.sh: broker $bs did not answer within ${WAIT_SECS}s; last lines of its logs:" >&2
      tail -n 30 "$dir/kafka.log" "$dir/server.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
}

write_log4j() { # DIR: broker log at INFO to DIR/server.log, chatty loggers at WARN; tools: WARN to stderr
  local dir=$1
  cat >"$dir/log4j2.properties" <<EOF
# generated by tests/kafka/kafka.sh
status = error
# no log4j shutdown hook: it closed the file before the broker's own shutdown finished
shutdownHook = disable
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $dir/server.log
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser
logger.appinfo.level = WARN
EOF
  cat >"$dir/log4j2-tools.properties" <<'EOF'
# generated by tests/kafka/kafka.sh
status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
}

write_server_properties() { # DIR PORT CPORT
  local dir=$1 port=$2 cport=$3
  cat >"$dir/server.properties" <<EOF
# generated by tests/kafka/kafka.sh: single-node KRaft (combined broker + controller)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# after a SIGKILL the restarted broker cannot register until the old registration's session
# expires (DUPLICATE_BROKER_REGISTRATION); the 9 s default made crash-restarts take ~13 s
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=104857600
EOF
}

# ---------------------------------------------------------------------------------- start
cmd_start() {
  [ $# -ge 1 ] || usage
  need java; need kcat; need python3
  local dir port cport
  dir=$(abs_dir "$1")
  ensure_libs

  if pid_alive "$dir"; then # already running: just make sure it answers
    if [ $# -ge 2 ] && [ "$(cat "$dir/bootstrap")" != "127.0.0.1:$2" ]; then
      die "a broker already runs in $dir on $(cat "$dir/bootstrap"), not on port $2"
    fi
    wait_ready "$dir" || die "broker in $dir does not answer"
    cat "$dir/bootstrap"
    return 0
  fi

  local formatted=0
  [ -f "$dir/data/meta.properties" ] && formatted=1
  if [ $formatted -eq 1 ] && [ -f "$dir/ports" ]; then
    read -r port cport <"$dir/ports"
    if [ $# -ge 2 ] && [ "$2" != "$port" ]; then
      die "$dir was formatted for port $port; refusing to move it to $2"
    fi
  else
    read -r port cport < <(free_ports)
    if [ $# -ge 2 ]; then
      port=$2
      [ "$cport" != "$port" ] || read -r _ cport < <(free_ports)
    fi
    echo "$port $cport" >"$dir/ports"
  fi
  [[ "$port" =~ ^[0-9]+$ && "$cport" =~ ^[0-9]+$ ]] || die "bad ports in $dir/ports"

  write_server_properties "$dir" "$port" "$cport"
  write_log4j "$dir"
  echo "127.0.0.1:$port" >"$dir/bootstrap"

  if [ $formatted -eq 0 ]; then
    local cid
    # a Kafka Uuid: 16 random bytes, URL-safe base64 without padding; avoid a leading '-'
    cid=$(python3 -c '
import base64, os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"):
        print(s); break')
    rm -rf "$dir/data"
    if ! run_tool "$dir/log4j2-tools.properties" kafka.tools.StorageTool format -t "$cid" \
          -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
      cat "$dir/format.log" >&2
      die "storage format failed in $dir"
    fi
  fi

  # Own process group (setsid), detached from our stdin/stdout so callers' pipes close.
  # From a non-interactive shell the background child is not a group leader, so setsid
  # does not fork and $! is the JVM itself (pid == pgid).
  LAUNCHED_DIR=$dir
  setsid java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
    </dev/null >>"$dir/kafka.log" 2>&1 &
  echo $! >"$dir/pid"

  if ! wait_ready "$dir"; then
    signal_and_wait "$dir" KILL 10 || true
    die "broker did not come up (see $dir/kafka.log, $dir/server.log)"
  fi
  LAUNCHED_DIR=""
  cat "$dir/bootstrap"
}

# ---------------------------------------------------------------------------- stop / kill
signal_and_wait() { # DIR SIGNAL SECS
  local dir=$1 sig=$2 secs=$3 pid deadline
  pid=$(broker_pid "$dir") || { rm -f "$dir/pid"; return 0; }
  # the whole process group (pid == pgid, see cmd_start), else the pid alone
  kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null || true
  deadline=$((SECONDS + secs))
  while is_broker_of "$pid" "$dir" && [ $SECONDS -lt $deadline ]; do
    sleep 0.1
  done
  is_broker_of "$pid" "$dir" && return 1
  rm -f "$dir/pid"
}

cmd_stop() {
  [ $# -ge 1 ] || usage
  local dir
  [ -d "$1" ] || return 0
  dir=$(abs_dir "$1")
  signal_and_wait "$dir" TERM 20 && return 0
  echo "kafka.sh: broker in $dir ignored SIGTERM for 20s; killing it" >&2
  signal_and_wait "$dir" KILL 10 || die "could not kill the broker in $dir"
}

cmd_kill() {
  [ $# -ge 1 ] || usage
  local dir
  [ -d "$1" ] || return 0
  dir=$(abs_dir "$1")
  signal_and_wait "$dir" KILL 10 || die "could not kill the broker in $dir"
}

cmd_restart() {
  [ $# -ge 1 ] || usage
  [ -f "$1/data/meta.properties" ] || die "$1 has no formatted broker to restart"
  cmd_stop "$1"
  cmd_start "$1"
}

cmd_wait() {
  [ $# -ge 1 ] || usage
  local dir
  dir=$(abs_dir "$1")
  [ -f "$dir/bootstrap" ] || die "$dir has no broker (run start first)"
  wait_ready "$dir" || die "broker in $dir does not answer"
  cat "$dir/bootstrap"
}

cmd_bootstrap() {
  [ $# -ge 1 ] || usage
  [ -f "$1/bootstrap" ] || die "$1 has no broker (run start first)"
  cat "$1/bootstrap"
}

# --------------------------------------------------------------------------- create-topic
cmd_create_topic() {
  [ $# -eq 3 ] || usage
  need java; need kcat
  local dir name parts bs
  dir=$(abs_dir "$1"); name=$2; parts=$3
  [[ "$parts" =~ ^[1-9][0-9]*$ ]] || die "partitions must be a positive integer: $parts"
  ensure_libs
  bs=$(cat "$dir/bootstrap" 2>/dev/null) || die "$dir has no broker (run start first)"
  run_tool "$dir/log4j2-tools.properties" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" \
    --create --if-not-exists --topic "$name" --partitions "$parts" --replication-factor 1 \
    >/dev/null || die "could not create topic $name"
  # the controller has created it; wait until every partition has a leader here as well
  local deadline=$((SECONDS + 30)) n
  while :; do
    n=$(kcat -L -b "$bs" -t "$name" -m 2 2>/dev/null \
          | grep -cE '^ +partition [0-9]+, leader 1,' || true)
    [ "$n" -ge "$parts" ] && return 0
    [ $SECONDS -lt $deadline ] || die "topic $name: only $n of $parts partitions have a leader"
    sleep 0.2
  done
}

# ----------------------------------------------------------------------------------- main
[ $# -ge 1 ] || usage
cmd=$1; shift
case "$cmd" in
  fetch) cmd_fetch ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  kill) cmd_kill "$@" ;;
  restart) cmd_restart "$@" ;;
  create-topic) cmd_create_topic "$@" ;;
  wait) cmd_wait "$@" ;;
  bootstrap) cmd_bootstrap "$@" ;;
  -h|--help|help) usage ;;
  *) echo "kafka.sh: unknown command: $cmd" >&2; usage ;;
esac
