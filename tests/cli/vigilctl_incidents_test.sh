#!/usr/bin/env bash
# vigilctl incidents and silences against a running vigild (embedded broker, free port):
# list aligns Chinese community names by display width, show prints the timeline and the
# masked evidence, ack and resolve record the token's name as who acted (and in the audit
# log), a second ack fails with the 409 message, a missing or refused token and usage
# errors exit 2, an unreachable or silent server exits 1 with a clear message. The silence cases run only when the daemon answers GET /api/v1/silences.
# Usage: vigilctl_incidents_test.sh VIGILD VIGILCTL SOURCE_DIR
set -u
vigild=$1
ctl=$2
src=$3
work=$(mktemp -d)
daemon_pid=
silent_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null
  [ -n "$silent_pid" ] && kill -9 "$silent_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
json_field() {  # json_field PYTHON-EXPRESSION-ON-j : reads $out as JSON, prints the value
  python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" <<<"$out" 2>/dev/null
}

# API tokens: responders alice, bob and carol (carol's by its SHA-256 only), a viewer and
# an ingest account.
alice_token=alice-$(openssl rand -hex 16)
bob_token=bob-$(openssl rand -hex 16)
carol_token=carol-$(openssl rand -hex 16)
viewer_token=viewer-$(openssl rand -hex 16)
feed_token=feed-$(openssl rand -hex 16)
cat >"$work/tokens.yaml" <<TOKENS
- {name: alice, role: responder, token: $alice_token}
- {name: bob, role: responder, token: $bob_token}
- {name: carol, role: responder, sha256: $(printf %s "$carol_token" | sha256sum | cut -d' ' -f1)}
- {name: vic, role: viewer, token: $viewer_token}
- {name: feed, role: ingest, token: $feed_token}
TOKENS
"$vigild" --set kafka.brokers=embedded --set rules.paths="$src/rules/packs" \
  --set state.dir="$work/state" --set http.listen=127.0.0.1:0 \
  --set http.tokens_file="$work/tokens.yaml" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
wait_for 30 grep -qs "http: listening on" "$work/daemon.log"
port=$(grep -o "http: listening on 127.0.0.1:[0-9]*" "$work/daemon.log" | grep -o "[0-9]*$")
check "vigild listens" test -n "$port"
server="http://127.0.0.1:$port"
ready() { test "$(curl -s -o /dev/null -w '%{http_code}' "$server/readyz")" = 200; }
wait_for 60 ready
check "vigild is ready" ready

# privacy.cn_resident_id opens an incident at its first hit (count 1), per community;
# the ID numbers are the pack's synthetic examples.
cat >"$work/posts.jsonl" <<'EOF'
{"id": "cli-1", "platform": "tieba", "community": "拾光吧", "url": "https://tieba.example/p/1", "body": "身份证号440305199206150217，麻烦帮我查一下订单"}
{"id": "cli-2", "platform": "tieba", "community": "拾光吧", "body": "这个骗子的身份证：37020219750710081X，大家认准了"}
{"id": "cli-3", "platform": "forum", "community": "ops-forum", "body": "身份证号440305199206150217，麻烦帮我查一下订单"}
{"id": "cli-4", "platform": "forum", "community": "evil\u001b[31mred", "body": "身份证号440305199206150217，麻烦帮我查一下订单"}
EOF
ingest=$(curl -s -w ' %{http_code}' -X POST -H "Authorization: Bearer $feed_token" \
  --data-binary @"$work/posts.jsonl" "$server/api/v1/posts")
check "the posts are ingested (202)" contains "$ingest" " 202"

export VIGIL_SERVER=$server
export VIGIL_TOKEN=$viewer_token
three_incidents() {
  "$ctl" incidents list 2>/dev/null | grep -c "privacy.cn_resident_id" | grep -qx 3
}
wait_for 60 three_incidents
check "incidents list shows an incident per community" three_incidents

run incidents list
check "list exits 0" test "$rc" -eq 0
check "list has the header" contains "$out" "ID  STATE"
check "list names the community in Chinese" contains "$out" "拾光吧"
check "list shows local time and age" grep -qE "20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} \(([0-9]+s ago|just now)\)" <<<"$out"
check "list replaces terminal escapes from posts" lacks "$out" $'\e'
# The OPENED and OWNER columns start at the same display column in every row.
aligned() {
  python3 - "$1" <<'PY'
import re, sys, unicodedata
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in s)
lines = sys.argv[1].splitlines()
opened = {width(l[:re.search(r"OPENED|\d{4}-\d\d-\d\d \d\d:\d\d \(", l).start()]) for l in lines}
owner = {width(l[:re.search(r"OWNER|legal$", l).start()]) for l in lines}
sys.exit(0 if len(lines) > 2 and len(opened) == 1 and len(owner) == 1 else 1)
PY
}
check "columns align by display width with Chinese names" aligned "$out"

run incidents list --format json
check "list --format json parses" test "$(json_field "len(j['incidents'])")" = 3
id=$(json_field "[i['id'] for i in j['incidents'] if i['community'] == '拾光吧'][0]")
other=$(json_field "[i['id'] for i in j['incidents'] if i['community'] == 'ops-forum'][0]")
check "the 拾光吧 incident has an id" test -n "$id"

run incidents list --state open --severity high --since 1h --limit 2
check "list with filters exits 0" test "$rc" -eq 0
check "--limit 2 prints two rows" test "$(wc -l <<<"$out")" -eq 3

run incidents show "$id"
check "show exits 0" test "$rc" -eq 0
check "show has the header block" contains "$out" "Rule:         privacy.cn_resident_id"
check "show has the timeline" contains "$out" "Timeline:"
check "show has the evidence" contains "$out" "Evidence (2):"
check "the evidence is masked" contains "$out" "440305********0217"
check "the raw value never shows" lacks "$out" "440305199206150217"

# Tokens: none, unknown, or a role that may not: a clear message and exit 2.
VIGIL_TOKEN= run incidents list
check "no token exits 2" test "$rc" -eq 2
check "no token: the 401 and the fix" contains "$err" "pass --token or set VIGIL_TOKEN"
run incidents list --token not-a-known-token-at-all
check "an unknown token exits 2" test "$rc" -eq 2
check "an unknown token: the 401" contains "$err" "vigilctl: incidents: 401 the API token is not known"
run incidents ack "$id"
check "a viewer acking exits 2" test "$rc" -eq 2
check "the 403 names the role needed" contains "$err" "has role viewer; POST /api/v1/incidents/$id/ack needs responder or admin"

run incidents ack "$id" --token "$alice_token" --as mallory
check "ack exits 0" test "$rc" -eq 0
check "ack says who" contains "$out" "incident $id acknowledged by alice"
run incidents show "$id" --format json
check "the incident is acknowledged" test "$(json_field "j['state']")" = acknowledged
check "acknowledged.by is the token's name, not --as" test "$(json_field "j['acknowledged']['by']")" = alice

VIGIL_TOKEN=$bob_token run incidents resolve "$id" --comment "post taken down"
check "resolve exits 0" test "$rc" -eq 0
run incidents show "$id" --format json
check "the incident is resolved" test "$(json_field "j['state']")" = resolved
check "resolved.by is the token's name" test "$(json_field "j['resolved']['by']")" = bob
check "the comment is in the timeline" test "$(json_field "[t['detail'] for t in j['timeline'] if t['action'] == 'resolved'][0]")" = "post taken down"
run incidents show "$id"
check "the timeline names who acted" grep -qE "bob +resolved +post taken down" <<<"$out"

run incidents ack "$id" --token "$alice_token"
check "acking a resolved incident exits 1" test "$rc" -eq 1
check "the 409 message names the incident" contains "$err" "vigilctl: incident $id: 409 incident $id is not open"
run incidents ack "$id" "$other" --token "$carol_token"
check "ack of several ids exits 1 when one failed" test "$rc" -eq 1
check "the other id is still acknowledged" contains "$out" "incident $other acknowledged by carol"
run incidents show 999999
check "an unknown incident exits 1" test "$rc" -eq 1
check "the 404 names the incident" contains "$err" "vigilctl: incident 999999: 404"

run incidents list --category nonsense
check "a server 400 exits 1" test "$rc" -eq 1
check "the 400 names the field" contains "$err" "vigilctl: incidents: 400 category"

# Usage errors: exit 2.
for args in "incidents" "incidents ack" "incidents show" "incidents show 1 2" "incidents ack x" \
  "incidents list --state bogus" "incidents list --since yesterday" "incidents list --limit 0" \
  "incidents list --format yaml" "incidents list --timeout 0" "silences add --comment x --for 1h" \
  "silences add --match owner=legal --for 1h" "silences add --match owner=legal --comment x" \
  "silences add --match bogus=1 --for 1h --comment x" "silences add --match owner --for 1h --comment x" \
  "silences add --match owner=legal --for soon --comment x" \
  "silences add --match owner=legal --for 1h --until 2030-01-01 --comment x" "silences expire"; do
  # shellcheck disable=SC2086
  run $args
  check "usage error (2): $args" test "$rc" -eq 2
done
run silences add --match owner=a --match owner=b --for 1h --comment x
check "a matcher key given twice is a usage error (2)" test "$rc" -eq 2

# Silences, once the daemon has them (they land in parallel).
if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $viewer_token" \
  "$server/api/v1/silences")" = 200 ]; then
  run silences add --match 'rule=privacy.*' --match community=拾光吧 --for 2h \
    --comment "known leak, takedown requested" --token "$alice_token" --format json
  check "silences add exits 0" test "$rc" -eq 0
  silence=$(json_field "j['id']")
  check "the silence is active" test "$(json_field "j['state']")" = active
  check "the author is the token's name" test "$(json_field "j['author']")" = alice
  check "it ends in 2h" test "$(json_field "round((j['ends_ms'] - j['starts_ms']) / 60000)")" = 120
  run silences add --match owner=legal --starts "2030-01-01 08:00" --until 2030-01-02T08:00:00Z \
    --comment "pending one" --token "$bob_token"
  check "a future silence is pending" contains "$out" "pending from"
  run silences list
  check "silences list exits 0" test "$rc" -eq 0
  check "silences list shows the matchers" contains "$out" "rule=privacy.*"
  check "silences list shows the Chinese community" contains "$out" "community=拾光吧"
  check "silences list shows the comment" contains "$out" "known leak, takedown requested"
  VIGIL_TOKEN=$bob_token run silences expire "$silence" 999999
  check "expire with an unknown id exits 1" test "$rc" -eq 1
  check "the known one is expired" contains "$out" "silence $silence expired"
  check "the unknown one is named" contains "$err" "vigilctl: silence 999999: 404"
  run silences list --state expired --format json
  check "the expired silence is listed as expired" test "$(json_field "[s['state'] for s in j['silences'] if s['id'] == $silence][0]")" = expired
  run silences add --match owner=legal --until 2020-01-01 --comment x --token "$bob_token"
  check "a silence that ends in the past exits 1" test "$rc" -eq 1
else
  echo "NOTE: GET /api/v1/silences does not answer 200 yet; the silence cases are skipped"
fi

# The audit log: who did what, refusals included, no token anywhere.
audit=$(cat "$work/state/audit.log")
check "the audit log records alice's ack" contains "$audit" '"actor":"alice","role":"responder","remote":"127.0.0.1","action":"incident.ack","target":"incident/'"$id"'","status":200'
check "the audit log records bob's resolve" contains "$audit" '"actor":"bob","role":"responder","remote":"127.0.0.1","action":"incident.resolve"'
check "the audit log records the viewer's refused ack" contains "$audit" '"actor":"vic","role":"viewer","remote":"127.0.0.1","action":"incident.ack","target":"incident/'"$id"'","status":403'
for token in "$alice_token" "$bob_token" "$carol_token" "$viewer_token" "$feed_token"; do
  check "no token in the audit log" lacks "$audit" "$token"
  check "no token in the daemon's log" lacks "$(cat "$work/daemon.log")" "$token"
done

# A server that does not answer, or is not there.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$work/silent_port" &
silent_pid=$!
wait_for 10 test -s "$work/silent_port"
run incidents list --server "http://127.0.0.1:$(cat "$work/silent_port")" --timeout 0.5
check "a silent server exits 1" test "$rc" -eq 1
check "the timeout is named" contains "$err" "within 0.5s"
kill "$silent_pid"
wait "$silent_pid" 2>/dev/null
silent_pid=
run incidents list --server https://127.0.0.1:$port
check "https:// to a plain HTTP server exits 1" test "$rc" -eq 1
check "the failed handshake is named" contains "$err" \
  "TLS handshake with 127.0.0.1:$port failed: wrong version number (SSL routines) (is it a plain http:// server?)"

# Rotating tokens: SIGHUP reads the tokens file again; vic's token is retired, dora's is
# new; a broken file is refused and the tokens in use stay.
dora_token=dora-$(openssl rand -hex 16)
grep -v "name: vic" "$work/tokens.yaml" >"$work/tokens.new"
echo "- {name: dora, role: viewer, token: $dora_token}" >>"$work/tokens.new"
mv "$work/tokens.new" "$work/tokens.yaml"
kill -HUP "$daemon_pid"
wait_for 20 grep -q "SIGHUP: 5 API tokens" "$work/daemon.log"
run incidents list --token "$dora_token"
check "after SIGHUP a new token works" test "$rc" -eq 0
run incidents list --token "$viewer_token"
check "after SIGHUP a retired token is refused (2)" test "$rc" -eq 2
echo "- {name: eve, role: boss, token: eve-0123456789abcdef}" >>"$work/tokens.yaml"
kill -HUP "$daemon_pid"
wait_for 20 grep -q "SIGHUP: keeping the API tokens in use" "$work/daemon.log"
check "a broken tokens file is refused with the reason" grep -q 'unknown role "boss"' "$work/daemon.log"
run incidents list --token "$dora_token"
check "the tokens in use stay" test "$rc" -eq 0
check "token reloads are audited" grep -q '"action":"tokens.reload".*"status":422' \
  "$work/state/audit.log"
check "no token in the log after reloads" bash -c "! grep -qF '$dora_token' '$work/daemon.log'"

kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=
run incidents list
check "an unreachable server exits 1" test "$rc" -eq 1
check "the message names the server" contains "$err" "vigilctl: cannot connect to 127.0.0.1:$port: Connection refused"
run incidents ack 1 2 3
check "ack stops at the first connection failure" test "$(grep -c "cannot connect" <<<"$err")" -eq 1

finish
