#!/usr/bin/env bash
# The vigild command-line contract and its signals, on the embedded broker: config
# errors name file:line and exit 1, usage errors exit 2, --check validates (API tokens and
# the loopback rule too), SIGHUP reloads (and is audited), SIGTERM drains and exits 0; `vigilctl produce` reports bad lines by number
# and sends the rest.
# Usage: vigild_test.sh VIGILD VIGILCTL SOURCE_DIR
set -u
vigild=$1
ctl=$2
src=$3
work=$(mktemp -d)
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$vigild" --help >/dev/null 2>&1
check "--help exits 0" test $? -eq 0
"$vigild" --no-such-flag >/dev/null 2>&1
check "an unknown flag is a usage error (2)" test $? -eq 2
"$vigild" --version >"$work/version" 2>&1
check "--version exits 0" test $? -eq 0
check "--version names Vigil, Hyperscan, RE2 and librdkafka with their versions" \
  grep -Eq "^vigild [0-9]+\.[0-9]+\.[0-9]+ \(Hyperscan [0-9][^ ,]*, RE2 [0-9][^ ,]*, librdkafka [0-9][^ ,)]*\)$" \
  "$work/version"

cat >"$work/bad.yaml" <<'YAML'
kafka:
  brokers: embedded
pipeline:
  workers: many
http:
  listen: nowhere
YAML
"$vigild" --config "$work/bad.yaml" --set pipeline.worker=2 >"$work/out" 2>"$work/err"
check "a bad config exits 1" test $? -eq 1
err=$(cat "$work/err")
check "the bad value is named with file:line:col" contains "$err" "bad.yaml:4:12: pipeline.workers"
check "every problem is reported at once" contains "$err" "http.listen"
check "an unknown --set key is named with a suggestion" contains "$err" "did you mean pipeline.workers"

"$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" --check >/dev/null 2>"$work/err"
check "--check passes on the shipped packs" test $? -eq 0
printf 'rules:\n  - id: x\n    when: {any: ["re:("]}\n' >"$work/broken.yaml"
"$vigild" --set rules.paths="$work/broken.yaml" --set state.dir="$work/state" --check >/dev/null 2>"$work/err"
check "--check fails on broken rules" test $? -eq 1
check "the rule error names file:line" grep -q "broken.yaml:3:" "$work/err"

# Without API tokens: open on loopback (with a warning), refused anywhere else unless
# http.insecure; bad tokens named with file:line and the field.
"$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" --check >/dev/null 2>"$work/err"
check "no tokens on 127.0.0.1: a warning that the API is open" grep -q "no API tokens configured" "$work/err"
"$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" \
  --set http.listen=0.0.0.0:0 --check >/dev/null 2>"$work/err"
check "no tokens on 0.0.0.0: --check fails" test $? -eq 1
check "the refusal names http.listen and the fix" grep -q "http.listen 0.0.0.0:0 is not a loopback address.*http.insecure: true" "$work/err"
"$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" \
  --set http.listen=0.0.0.0:0 --set http.insecure=true --check >/dev/null 2>"$work/err"
check "http.insecure: --check passes" test $? -eq 0
check "http.insecure is logged loudly" grep -q "INSECURE" "$work/err"
printf -- '- {name: a, role: viewer, token: aaaaaaaaaaaaaaaaaaaa}\n- {name: a, role: root, token: short}\n' >"$work/tokens.yaml"
"$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" \
  --set http.tokens_file="$work/tokens.yaml" --check >/dev/null 2>"$work/err"
check "bad tokens: --check fails" test $? -eq 1
check "a repeated name is named with file:line" grep -q "tokens.yaml:2: name: \"a\" is used twice" "$work/err"
check "an unknown role is named" grep -q "tokens.yaml:2: role: unknown role \"root\"" "$work/err"
check "a short token is named, not shown" grep -q "tokens.yaml:2: token: shorter than 16" "$work/err"
check "no token text in the errors" lacks "$(cat "$work/err")" "aaaaaaaaaaaaaaaaaaaa"

# The paging file is checked by --check too, every problem with file:line:col.
cat >"$work/paging.yaml" <<'YAML'
channels:
  robot: {type: wecom, url: "http://127.0.0.1:9/send?key=x", budget_per_minute: lots}
roles:
  legal: {members: [nobody]}
YAML
"$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" \
  --set alerts.paging="$work/paging.yaml" --check >/dev/null 2>"$work/err"
check "--check fails on a bad paging file" test $? -eq 1
check "the paging error names file:line:col" grep -q "paging.yaml:2:.*budget_per_minute must be a whole number" "$work/err"
check "every paging problem at once" grep -q "paging.yaml:4:.*role legal: no person named 'nobody'" "$work/err"
"$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" \
  --set alerts.paging="$src/packaging/demo/paging.yaml" --check >/dev/null 2>"$work/err"
check "--check passes on the demo paging file" test $? -eq 0

# The daemon on the embedded broker, HTTP on a free port.
cp -r "$src/rules/packs" "$work/rules"
"$vigild" --set kafka.brokers=embedded --set rules.paths="$work/rules" --set state.dir="$work/state" \
  --set http.listen=127.0.0.1:0 >"$work/daemon.log" 2>&1 &
daemon_pid=$!
wait_for 30 grep -q "vigild running" "$work/daemon.log"
check "vigild starts" grep -q "vigild running" "$work/daemon.log"
brokers=$(grep -o "embedded Kafka broker[^;]* at [0-9.:]*" "$work/daemon.log" | grep -o "[0-9.]*:[0-9]*$")
port=$(grep -o "http: listening on 127.0.0.1:[0-9]*" "$work/daemon.log" | grep -o "[0-9]*$")
check "the embedded broker's address is logged" test -n "$brokers"

{
  head -n 5 "$src/tests/data/demo_feed.jsonl"
  echo 'not json'
  echo '{"id": "no-body"}'
  sed -n 6,10p "$src/tests/data/demo_feed.jsonl"
} >"$work/posts.jsonl"
"$ctl" produce --brokers "$brokers" "$work/posts.jsonl" >"$work/out" 2>"$work/err"
check "produce exits 1 when some lines were bad" test $? -eq 1
err=$(cat "$work/err")
check "produce names bad line 6" contains "$err" "posts.jsonl:6: not_json"
check "produce names bad line 7" contains "$err" "posts.jsonl:7: missing_body"
check "produce sends the good lines" contains "$err" "10 posts sent to vigil.posts (10 acknowledged, 0 failed), 2 bad lines"

status() { curl -s "http://127.0.0.1:$port/api/v1/status"; }
completed_is() { status | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['pipeline']['completed'] == $1 else 1)"; }
wait_for 30 completed_is 10
check "the daemon consumed and completed the 10 posts" completed_is 10
check "readyz is 200" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200

# SIGHUP with a broken rule file: rejected, the old set keeps running.
hash_before=$(status | python3 -c "import json,sys; print(json.load(sys.stdin)['rules']['hash'])")
cp "$work/broken.yaml" "$work/rules/zz_broken.yaml"
kill -HUP "$daemon_pid"
wait_for 20 grep -q "rejected" "$work/daemon.log"
check "a broken reload is rejected with the reason" grep -q "zz_broken.yaml:3:" "$work/daemon.log"
hash_after=$(status | python3 -c "import json,sys; print(json.load(sys.stdin)['rules']['hash'])")
check "the running rule set stays" test "$hash_before" = "$hash_after"
check "the SIGHUP reload is in the audit log" grep -q '"actor":"signal:SIGHUP",.*"action":"rules.reload",.*"status":422,"error":".*zz_broken.yaml:3:' "$work/state/audit.log"
check "the audit log is not world-readable (0640)" test "$(stat -c %a "$work/state/audit.log")" = 640
rm "$work/rules/zz_broken.yaml"

kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM exits 0" test $rc -eq 0
check "SIGTERM drains and reports" grep -q "vigild stopped: 10 posts consumed" "$work/daemon.log"

# Under systemd (JOURNAL_STREAM set) each line starts with its syslog priority, which
# journald reads: `journalctl -p warning` then shows warnings and errors.
JOURNAL_STREAM=8:1234 "$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" \
  --check >/dev/null 2>"$work/journal"
check "journald: info lines carry <6>" grep -q '^<6>.* info vigild .* starting' "$work/journal"
check "journald: warnings carry <4>" grep -q '^<4>.* warning paging: no alerts.paging' "$work/journal"
check "journald: every line has a priority" bash -c "! grep -qv '^<[0-7]>' '$work/journal'"
"$vigild" --set rules.paths="$src/rules/packs" --set state.dir="$work/state" --check \
  >/dev/null 2>"$work/plain"
check "without journald, no priority prefix" bash -c "! grep -q '^<[0-7]>' '$work/plain'"

# Post text in logs: none by default; with log.hit_excerpts (or a demo feed) a line per hit
# with the masked excerpt, never the resident ID itself. JSON logs: one object per line
# with ts, level and msg.
raw_id=440305199206150217
pii_post=$(printf '{"id":"pii-1","community":"c","body":"身份证号%s，帮我查一下"}' "$raw_id")
pii_run() {  # pii_run LOG ARGS... : vigild until its incident from one post with an ID
  local log=$1
  shift
  "$vigild" --set kafka.brokers=embedded --set rules.paths="$src/rules/packs" \
    --set http.listen=127.0.0.1:0 --set state.dir="$work/state-$(basename "$log")" "$@" 2>"$log" &
  daemon_pid=$!
  wait_for 30 grep -q "http: listening on" "$log"
  local p
  p=$(grep -o "http: listening on 127.0.0.1:[0-9]*" "$log" | grep -o "[0-9]*$")
  wait_for 60 bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$p/readyz | grep -q 200"
  curl -s -XPOST --data-binary "$pii_post" "http://127.0.0.1:$p/api/v1/posts" >/dev/null
  wait_for 60 grep -q "incident 1 opened" "$log"
  kill -TERM "$daemon_pid"
  wait "$daemon_pid"
  daemon_pid=
}
pii_run "$work/quiet.log"
check "by default the incident opens" grep -q "incident 1 opened" "$work/quiet.log"
check "by default no hit line (no post text) is logged" bash -c "! grep -q ' info hit ' '$work/quiet.log'"
check "by default not even masked" bash -c "! grep -q '440305\*' '$work/quiet.log'"
pii_run "$work/json.log" --set log.format=json --set log.hit_excerpts=true
check "JSON logs: every line is an object with ts, level and msg" python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    o = json.loads(line)
    assert {"ts", "level", "msg"} <= o.keys(), f"line {n}: {line}"
' "$work/json.log"
check "JSON logs: the hit line shows the masked ID" grep -q '440305\*\*\*\*\*\*\*\*0217' "$work/json.log"
check "JSON logs: the raw ID is never logged" bash -c "! grep -q $raw_id '$work/json.log'"

finish
