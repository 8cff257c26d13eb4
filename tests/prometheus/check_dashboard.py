#!/usr/bin/env python3
"""Checks the Grafana dashboard packaging/grafana/vigil.json (ctest grafana.dashboard).

1. Structure: a ${datasource} variable of type datasource (prometheus) and an instance
   variable; panel ids unique; panels inside the 24-column grid and not overlapping;
   every panel has a title; every panel but a row has a description, the datasource
   ${datasource} and targets, each with a PromQL expression.
2. Every rate(), irate() and increase() in a panel uses $__rate_interval (or $__range in
   an instant query over the dashboard's time range).
3. Every expression (panels and annotations), with the Grafana variables replaced
   ($__rate_interval -> 5m, $__interval -> 1m, $__range -> 1h, $instance -> .*), is
   written as a recording rule into a temporary rules file that `promtool check rules`
   must accept: each is valid PromQL.
4. Every vigil_*/process_* metric name used is one vigild exposes (the list in --names).

Usage: check_dashboard.py --dashboard FILE --names FILE [--promtool PATH]
Only the Python standard library.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metric_names  # noqa: E402

DATASOURCE_UID = "${datasource}"
SUBSTITUTIONS = [
    (re.compile(r"\$\{?__rate_interval\}?"), "5m"),
    (re.compile(r"\$\{?__interval\}?"), "1m"),
    (re.compile(r"\$\{?__range\}?"), "1h"),
    (re.compile(r"\$\{?instance(?::[a-z]+)?\}?"), ".*"),
]
RANGE_FUNCTION = re.compile(r"\b(rate|irate|increase)\(")

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL: {message}")


def all_panels(panels):
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


def substitute(expr):
    for pattern, value in SUBSTITUTIONS:
        expr = pattern.sub(value, expr)
    return expr


def ranges_of_range_functions(expr):
    """The [range] of every rate/irate/increase call in expr."""
    found = []
    for m in RANGE_FUNCTION.finditer(expr):
        close = expr.find("]", m.end())
        open_ = expr.rfind("[", m.end(), close)
        if open_ < 0 or close < 0:
            continue
        found.append((m.group(1), expr[open_ + 1:close]))
    return found


def check_templating(dashboard):
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        fail("templating: no variable 'datasource' of type datasource with query prometheus")
    instance = variables.get("instance")
    if not instance:
        fail("templating: no variable 'instance'")
    elif instance.get("datasource", {}).get("uid") != DATASOURCE_UID:
        fail(f"templating: variable instance does not use datasource {DATASOURCE_UID}")
    return variables


def check_grid(panels):
    cells = {}
    for panel in panels:
        pos = panel.get("gridPos")
        where = f"panel {panel.get('id')} '{panel.get('title')}'"
        if not pos:
            fail(f"{where}: no gridPos")
            continue
        if pos["x"] < 0 or pos["w"] <= 0 or pos["x"] + pos["w"] > 24:
            fail(f"{where}: gridPos {pos} outside the 24 columns")
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                if (x, y) in cells:
                    fail(f"{where}: overlaps panel {cells[(x, y)]}")
                    break
                cells[(x, y)] = panel.get("id")
            else:
                continue
            break


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dashboard", required=True)
    parser.add_argument("--names", required=True, help="file listing the metric names")
    parser.add_argument("--promtool", default=shutil.which("promtool"))
    args = parser.parse_args()
    if not args.promtool:
        print("FAIL: promtool not found; install Debian's prometheus (packaging/install-deps.sh)")
        return 1

    with open(args.dashboard, encoding="utf-8") as f:
        dashboard = json.load(f)
    variables = check_templating(dashboard)

    panels = list(all_panels(dashboard.get("panels", [])))
    if not panels:
        fail("no panels")
    ids = [p.get("id") for p in panels]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        fail(f"panel id {duplicate} used more than once")
    check_grid(panels)

    # (name, where, expr) of every PromQL expression
    expressions = []
    for panel in panels:
        where = f"panel {panel.get('id')} '{panel.get('title', '')}'"
        if not panel.get("title"):
            fail(f"{where}: no title")
        if panel.get("type") == "row":
            continue
        if not panel.get("description", "").strip():
            fail(f"{where}: no description")
        if panel.get("datasource", {}).get("uid") != DATASOURCE_UID:
            fail(f"{where}: datasource is not {DATASOURCE_UID}")
        targets = panel.get("targets", [])
        if not targets:
            fail(f"{where}: no targets")
        for target in targets:
            ref = target.get("refId", "?")
            expr = target.get("expr", "").strip()
            if not expr:
                fail(f"{where} target {ref}: no expr")
                continue
            if target.get("datasource", {}).get("uid", DATASOURCE_UID) != DATASOURCE_UID:
                fail(f"{where} target {ref}: datasource is not {DATASOURCE_UID}")
            for function, window in ranges_of_range_functions(expr):
                allowed = ["$__rate_interval"] + (["$__range"] if target.get("instant") else [])
                if window not in allowed:
                    fail(f"{where} target {ref}: {function}() over [{window}], not [{' or '.join(allowed)}]")
            expressions.append((f"dashboard:panel_{panel.get('id')}_{ref}", f"{where} target {ref}", expr))

    for n, annotation in enumerate(dashboard.get("annotations", {}).get("list", [])):
        if annotation.get("builtIn"):
            continue
        where = f"annotation '{annotation.get('name')}'"
        if annotation.get("datasource", {}).get("uid") != DATASOURCE_UID:
            fail(f"{where}: datasource is not {DATASOURCE_UID}")
        if not annotation.get("expr"):
            fail(f"{where}: no expr")
            continue
        expressions.append((f"dashboard:annotation_{n}", where, annotation["expr"]))

    # The instance variable's query: label_values(SELECTOR, label); its selector must parse.
    query = variables.get("instance", {}).get("query", "")
    query = query.get("query", "") if isinstance(query, dict) else query
    m = re.fullmatch(r"\s*label_values\((.*),\s*instance\)\s*", query)
    if not m:
        fail(f"templating: instance query {query!r} is not label_values(SELECTOR, instance)")
    else:
        expressions.append(("dashboard:variable_instance", "variable instance", m.group(1)))

    # 3. promtool parses every expression.
    lines = ["groups:", "  - name: dashboard", "    rules:"]
    for record, where, expr in expressions:
        plain = substitute(expr)
        if "$" in plain:
            fail(f"{where}: unknown Grafana variable in {expr!r}")
            continue
        lines.append(f"      # {where}")
        lines.append(f"      - record: {record}")
        lines.append(f"        expr: {json.dumps(plain)}")
    with tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="vigil-dashboard-", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        rules_path = f.name
    try:
        result = subprocess.run([args.promtool, "check", "rules", rules_path], capture_output=True, text=True)
        print(result.stdout + result.stderr, end="")
        if result.returncode != 0:
            with open(rules_path, encoding="utf-8") as f:
                print(f.read())
            fail(f"promtool check rules rejected expressions of {args.dashboard} (the rules are above)")
    finally:
        os.unlink(rules_path)

    # 4. Metric names.
    known = metric_names.known_names(args.names)
    for record, where, expr in expressions:
        for name in metric_names.unknown_names(expr, known):
            fail(f"{where}: uses metric {name}, which {args.names} does not list")

    print(f"{len(panels)} panels, {len(expressions)} expressions checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
