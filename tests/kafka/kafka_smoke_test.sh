#!/usr/bin/env bash
# Smoke test of tests/kafka/kafka.sh: a real single-node KRaft broker on 127.0.0.1, driven
# with kcat (librdkafka, the client library vigild uses). fetch, start, create a 3-partition
# topic, produce 1000 keyed messages, consume them in a consumer group, restart the broker,
# check the messages and the group's committed offsets survived, stop. Always cleans up.
# Exit 0 when every check passed. Set VIGIL_KAFKA_KEEP=1 to keep the broker's directory.
# Typical run on the 2-core machine: ~20 s with a warm jar cache.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA="$HERE/kafka.sh"
TOPIC=vigil.smoke
N=1000

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/vigil-kafka-smoke.XXXXXX")
WORK="$DIR/work"
mkdir -p "$WORK"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # interrupted: first end our own children (a kafka.sh in flight ends the JVM it runs, a
  # broker it just launched included), then stop the broker of $DIR whatever state it is in
  local i
  pkill -TERM -P $$ 2>/dev/null || true
  for i in $(seq 1 100); do pgrep -P $$ >/dev/null || break; sleep 0.1; done
  "$KAFKA" stop "$DIR" >/dev/null 2>&1 || "$KAFKA" kill "$DIR" >/dev/null 2>&1 || true
  if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
    echo "--- last lines of $DIR/server.log and kafka.log"
    tail -n 20 "$DIR/server.log" "$DIR/kafka.log" 2>/dev/null || true
  fi
  if [ "${VIGIL_KAFKA_KEEP:-0}" = 1 ]; then
    echo "kept $DIR"
  else
    rm -rf "$DIR"
  fi
  echo "kafka-smoke: $passed passed, $failed failed"
  if [ "$rc" -eq 0 ] && [ "$failed" -ne 0 ]; then rc=1; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; failed=$((failed + 1)); exit 130' INT TERM

abort() { fail "$*"; exit 1; }

# ------------------------------------------------------------------------------------ fetch
t=$(now)
"$KAFKA" fetch >/dev/null || abort "fetch the Kafka jars"
pass "fetch ($(took "$t"))"

# ------------------------------------------------------------------------------------ start
t=$(now)
BS=$("$KAFKA" start "$DIR") || abort "start the broker"
# this test talks to nothing but the loopback broker it started
[[ "$BS" =~ ^127\.0\.0\.1:[0-9]+$ ]] || abort "bootstrap is not on 127.0.0.1: '$BS'"
pass "start on $BS ($(took "$t"))"
PID=$(cat "$DIR/pid")

t=$(now)
"$KAFKA" create-topic "$DIR" "$TOPIC" 3 || abort "create topic $TOPIC"
"$KAFKA" create-topic "$DIR" "$TOPIC" 3 || abort "create-topic again (idempotent)"
parts=$(kcat -L -b "$BS" -t "$TOPIC" -m 5 | grep -cE '^ +partition [0-9]+, leader 1,' || true)
check "create-topic $TOPIC with 3 partitions, twice ($(took "$t"))" [ "$parts" -eq 3 ]

# ---------------------------------------------------------------------------------- produce
for i in $(seq 1 "$N"); do printf 'key-%04d:post %04d body\n' "$i" "$i"; done >"$WORK/sent"
t=$(now)
if timeout 60 kcat -P -b "$BS" -t "$TOPIC" -K: -X acks=all -l "$WORK/sent"; then
  pass "produce $N keyed messages with kcat -P ($(took "$t"))"
else
  fail "produce $N keyed messages with kcat -P"
fi
sort "$WORK/sent" >"$WORK/sent.sorted"

consume_group() { # GROUP OUTFILE: consume everything not yet committed by GROUP
  timeout 60 kcat -C -b "$BS" -G "$1" -X auto.offset.reset=earliest -e -q \
    -f '%p %k:%s\n' "$TOPIC" >"$2"
}
same_messages() { # OUTFILE: the payloads are exactly the N sent, spread over 3 partitions
  cut -d' ' -f2- "$1" | sort | cmp -s - "$WORK/sent.sorted" \
    && [ "$(cut -d' ' -f1 "$1" | sort -u | wc -l)" -eq 3 ]
}

# ---------------------------------------------------------------------------------- consume
t=$(now)
consume_group smoke-g1 "$WORK/got1" || true
got=$(wc -l <"$WORK/got1")
check "consume with kcat -G (consumer group): $got of $N ($(took "$t"))" [ "$got" -eq "$N" ]
check "consumed messages equal the sent ones, over 3 partitions" same_messages "$WORK/got1"

# ---------------------------------------------------------------------------------- restart
t=$(now)
BS2=$("$KAFKA" restart "$DIR") || abort "restart the broker"
check "restart on the same address $BS2 ($(took "$t"))" [ "$BS2" = "$BS" ]
check "restart replaced the broker process" [ "$(cat "$DIR/pid")" != "$PID" ]

t=$(now)
consume_group smoke-g2 "$WORK/got2" || true
got=$(wc -l <"$WORK/got2")
check "after restart a new group consumes $got of $N ($(took "$t"))" [ "$got" -eq "$N" ]
check "after restart the messages are unchanged" same_messages "$WORK/got2"

# the first group's committed offsets survived: it sees only what is produced now
for i in $(seq 1 10); do printf 'late-%02d:late post %02d\n' "$i" "$i"; done >"$WORK/late"
timeout 60 kcat -P -b "$BS" -t "$TOPIC" -K: -l "$WORK/late" || fail "produce 10 more after restart"
consume_group smoke-g1 "$WORK/got3" || true
got=$(wc -l <"$WORK/got3")
check "after restart group smoke-g1 resumes from its commits: $got of 10 new" [ "$got" -eq 10 ]

# ------------------------------------------------------------------------------------- stop
PID=$(cat "$DIR/pid")
gone() { # PID: no such process, or only a zombie waiting for its reaper
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}
t=$(now)
if "$KAFKA" stop "$DIR"; then pass "stop ($(took "$t"))"; else fail "stop"; fi
check "broker process $PID is gone" gone "$PID"
check "clean shutdown marker written" [ -f "$DIR/data/.kafka_cleanshutdown" ]
check "stop again is a no-op" "$KAFKA" stop "$DIR"
