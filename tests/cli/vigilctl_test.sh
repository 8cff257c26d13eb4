#!/usr/bin/env bash
# The vigilctl command-line contract: exit codes (0 ok, 1 user error, 2 usage), messages
# that name file:line, JSON outputs that parse, masked values that stay masked.
# Usage: vigilctl_test.sh VIGILCTL SOURCE_DIR
set -u
ctl=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


run --help
check "--help exits 0" test "$rc" -eq 0
run
check "no subcommand is a usage error (2)" test "$rc" -eq 2
run rules lint --no-such-flag x
check "unknown flag is a usage error (2)" test "$rc" -eq 2
run --version
check "--version exits 0" test "$rc" -eq 0
check "--version names Vigil, Hyperscan, RE2 and librdkafka with their versions" \
  grep -Eq "^vigilctl [0-9]+\.[0-9]+\.[0-9]+ \(Hyperscan [0-9][^ ,]*, RE2 [0-9][^ ,]*, librdkafka [0-9][^ ,)]*\)$" "$work/out"

cat >"$work/bad.yaml" <<'YAML'
rules:
  - id: bad.rule
    category: complaint
    severity: extreme
    owner: legal
    when: {any: [退款]}
YAML
run rules lint "$work/bad.yaml"
check "lint of a bad file exits 1" test "$rc" -eq 1
check "lint names file:line:col and rule id" \
  grep -q "bad.yaml:4:15: error: unknown severity 'extreme' (expected info, low, medium, high or critical) \[bad.rule\]" "$work/out"

run rules lint "$src/rules/packs"
check "shipped packs lint clean" test "$rc" -eq 0

run rules list "$src/rules/packs" --format json
check "list --format json exits 0" test "$rc" -eq 0
check "list --format json has id/category/severity/owner/status" python3 -c '
import json, sys
rules = json.load(open(sys.argv[1]))
assert len(rules) >= 40, len(rules)
for r in rules:
    assert set(["id", "category", "severity", "owner", "status"]) <= set(r), r
' "$work/out"

cat >"$work/posts.jsonl" <<'JSONL'
{"id":"p1","body":"我的身份证号11010519491231002X，客服还说退款已经处理","community":"acme"}
not json at all
{"id":"p2"}
{"id":"p3","body":"物流很快，包装很好，谢谢"}
JSONL
run match --rules "$src/rules/packs" "$work/posts.jsonl"
check "match with bad lines exits 1" test "$rc" -eq 1
check "bad lines are reported with their line numbers" grep -q "posts.jsonl:2: not_json" "$work/err"
check "missing body is reported" grep -q "posts.jsonl:3: missing_body: no 'body'" "$work/err"
check "the resident ID rule fired on p1" grep -q '"rule_id":"privacy.cn_resident_id"' "$work/out"
check "the leaked ID never appears in clear" bash -c "! grep -q 11010519491231002X '$work/out'"
check "the masked ID appears" grep -q '110105\*\*\*\*\*\*\*\*002X' "$work/out"
check "hits are JSON with the contract fields" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    hit = json.loads(line)
    for key in ["hit_id", "post_id", "rule_id", "category", "severity", "owner", "spans", "excerpt"]:
        assert key in hit, key
    for span in hit["spans"]:
        assert span["start"] < span["end"], span
' "$work/out"

run match --explain --rules "$src/rules/packs" "$work/posts.jsonl"
check "explain adds the matched parts" grep -q '"explain":\[' "$work/out"

if [ -f "$src/tests/data/demo_feed.jsonl" ]; then
  run match --rules "$src/rules/packs" "$src/tests/data/demo_feed.jsonl"
  check "the demo feed is all valid posts" test "$rc" -eq 0
  check "the demo feed produces hits" test "$(wc -l <"$work/out")" -ge 20
fi

finish
