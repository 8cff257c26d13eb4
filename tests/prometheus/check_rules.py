#!/usr/bin/env python3
"""Checks packaging/prometheus/vigil-alerts.yml (ctest prometheus.rules).

1. promtool check rules: the file loads, every expression is valid PromQL.
2. promtool test rules on the unit tests beside it (vigil-alerts.test.yml).
3. Every metric name the rules use is one vigild exposes (the list in --names).
4. Every alert has a unique name, a for:, a severity label (critical or warning), a
   summary, a description, a runbook link to docs/operations.md#alert-<name in lower
   case>, and a unit test in which it fires; recording rules are named
   vigil:<metric>:<operations>.

Usage: check_rules.py --rules FILE --tests FILE --names FILE [--promtool PATH]
Only the Python standard library.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metric_names  # noqa: E402

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL: {message}")


def run(command):
    print("$ " + " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout + result.stderr, end="")
    if result.returncode != 0:
        fail(f"{' '.join(command)} exited {result.returncode}")


def alert_blocks(text):
    """(name, block text) for every '- alert: Name' rule; a block ends at the next rule."""
    starts = [m for m in re.finditer(r"^\s*- (alert|record):\s*(\S+)", text, re.M)]
    blocks = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        if m.group(1) == "alert":
            blocks.append((m.group(2), text[m.start():end]))
    return blocks


def check_alert(name, block, rules_path):
    where = f"{rules_path}: alert {name}"
    if not re.search(r"^\s*for:\s*\d+[smh]\s*$", block, re.M):
        fail(f"{where}: no 'for:'")
    if not re.search(r"^\s*severity:\s*(critical|warning)\s*$", block, re.M):
        fail(f"{where}: no severity label critical or warning")
    for annotation in ("summary", "description"):
        if not re.search(rf"^\s*{annotation}:\s*\S", block, re.M):
            fail(f"{where}: no {annotation} annotation")
    runbook = f"docs/operations.md#alert-{name.lower()}"
    if not re.search(rf"^\s*runbook:\s*{re.escape(runbook)}\s*$", block, re.M):
        fail(f"{where}: no 'runbook: {runbook}'")


def fired_in_tests(tests_text):
    """Alert names that some unit test expects to fire (exp_alerts not empty)."""
    fired = set()
    for m in re.finditer(r"alertname:\s*(\w+)\s*\n\s*exp_alerts:\s*\n\s*- exp_labels", tests_text):
        fired.add(m.group(1))
    return fired


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", required=True)
    parser.add_argument("--tests", required=True)
    parser.add_argument("--names", required=True, help="file listing the metric names")
    parser.add_argument("--promtool", default=shutil.which("promtool"))
    args = parser.parse_args()
    if not args.promtool:
        print("FAIL: promtool not found; install Debian's prometheus (packaging/install-deps.sh)")
        return 1

    run([args.promtool, "check", "rules", args.rules])
    run([args.promtool, "test", "rules", args.tests])

    with open(args.rules, encoding="utf-8") as f:
        rules_text = f.read()
    with open(args.tests, encoding="utf-8") as f:
        tests_text = f.read()

    known = metric_names.known_names(args.names)
    for name in metric_names.unknown_names(rules_text, known):
        fail(f"{args.rules}: uses metric {name}, which {args.names} does not list")
    for name in metric_names.unknown_names(tests_text, known):
        fail(f"{args.tests}: uses metric {name}, which {args.names} does not list")

    blocks = alert_blocks(rules_text)
    if not blocks:
        fail(f"{args.rules}: no alerts found")
    names = [name for name, _ in blocks]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        fail(f"{args.rules}: alert {duplicate} defined more than once")
    # Recording rules are named level:metric:operations (Prometheus naming conventions).
    for record in re.findall(r"^\s*- record:\s*(\S+)", rules_text, re.M):
        if not re.fullmatch(r"vigil:[a-z0-9_]+:[a-z0-9_]+", record):
            fail(f"{args.rules}: recording rule {record} is not named vigil:<metric>:<operations>")
    fired = fired_in_tests(tests_text)
    # Each alert's runbook anchor is a heading "### Alert: Name" in docs/operations.md.
    runbook_path = os.path.join(os.path.dirname(os.path.abspath(args.rules)), "..", "..",
                                "docs", "operations.md")
    with open(runbook_path, encoding="utf-8") as f:
        headings = set(re.findall(r"^#+ Alert: (\w+)\s*$", f.read(), re.M))
    for name, block in blocks:
        check_alert(name, block, args.rules)
        if name not in fired:
            fail(f"{args.tests}: no test in which {name} fires")
        if name not in headings:
            fail(f"docs/operations.md: no heading '### Alert: {name}' for its runbook anchor")

    print(f"{len(blocks)} alerts checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
