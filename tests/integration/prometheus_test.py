#!/usr/bin/env python3
"""A real Prometheus (Debian's) scraping a running vigild (embedded Kafka broker).

Registered with CTest as `metrics.prometheus`:

    prometheus_test.py --vigild PATH --source-dir DIR [--keep] [--only CASE,...]

  scrape            vigild with a paging file (one signed webhook on a receiver in this
                    process) gets posts through the API (a resident ID: an incident and a
                    page) and one invalid message straight onto the posts topic (kcat).
                    `promtool check metrics` accepts /metrics; every metric family served is
                    documented in docs/metrics.md and every one documented is served.
                    Prometheus (scrape and rule evaluation every second, the shipped
                    vigil-alerts.yml loaded) sees the target up and the counts: posts,
                    invalid by reason, hits by rule, pages sent on the channel, incidents
                    open. Every alerting and recording rule evaluates without error against
                    the real series, and every query of the Grafana dashboard runs.
  reload_alert      a rule file that breaks on reload: the reload is rejected (422), the
                    running set stays, vigil_rules_last_reload_success drops to 0 and
                    Prometheus has VigilRuleReloadFailed pending.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "prometheus"))
import harness  # noqa: E402
import metric_names  # noqa: E402
from harness import LOOPBACK, CaseFailure, Daemon, Env, check, fetch, free_port, wait_for  # noqa: E402
from paging_test import Vigild, post  # noqa: E402
from check_dashboard import all_panels, substitute  # noqa: E402

CASES = ["scrape", "reload_alert"]


class Hook:
    """A webhook receiver answering 200, counting requests."""

    def __init__(self):
        hook = self
        self.count = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.count += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Prometheus(Daemon):
    """Debian's prometheus on a free port, scraping `target` every second, with the
    shipped alert rules; its TSDB in the case's directory."""

    def __init__(self, env, name, target):
        self.port = free_port()
        self.base = f"http://{LOOPBACK}:{self.port}"
        work = os.path.join(env.tmp, name, "prometheus")
        os.makedirs(work, exist_ok=True)
        rules = os.path.join(env.src, "packaging", "prometheus", "vigil-alerts.yml")
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as f:
            json.dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                       "rule_files": [rules],
                       "scrape_configs": [{"job_name": "vigil",
                                           "static_configs": [{"targets": [target]}]}]}, f)
        super().__init__(name + "-prometheus",
                         [shutil.which("prometheus") or "prometheus",
                          f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                          f"--web.listen-address={LOOPBACK}:{self.port}", "--log.level=warn"],
                         os.path.join(work, "prometheus.log"), work)

    def start(self):
        super().start()
        wait_for("prometheus to be ready",
                 lambda: self.alive() and _ok(lambda: fetch("GET", self.base + "/-/ready",
                                                            timeout=2)[0] == 200), 60)
        return self

    def api(self, path, **params):
        url = self.base + "/api/v1/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, _, data = fetch("GET", url, timeout=10)
        body = json.loads(data)
        check(status == 200 and body.get("status") == "success",
              f"prometheus {path} {params}: {status}: {data[:300]!r}")
        return body["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def value(self, expr):
        """The single value of an instant vector query, or None when it is empty."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None


def _ok(probe):
    try:
        return probe()
    except OSError:
        return False


def paging_file(hook_url):
    return {
        "time_zone": "Asia/Shanghai",
        "channels": {"legal-hook": {"type": "webhook", "url": hook_url, "secret": "hook-s3cret"}},
        "people": {"alice": {"name": "Alice", "contacts": [{"channel": "legal-hook",
                                                            "mention": "alice"}]}},
        "roles": {"legal": {"members": ["alice"]}},
        "policies": {"default": {"levels": [{"notify": ["owner"], "ack_within": "10m"}]}},
    }


def documented_names(env):
    with open(os.path.join(env.src, "docs", "metrics.md"), encoding="utf-8") as f:
        text = f.read()
    # The tables' first column: | `name` | type | ...
    return set(re.findall(r"^\| `((?:vigil|process)_[a-z0-9_]+)` \|", text, re.M))


def case_scrape(env, note):
    hook = Hook()
    try:
        v = Vigild(env, "scrape", paging_file(hook.url)).start()
        v.ingest(post("m-1"), post("m-2", body="退款一个月了还没到账"),
                 post("m-3", body="lovely weather"))
        _, status = v.api("GET", "/api/v1/status", expect=200)
        bootstrap = status["kafka"]["bootstrap"]
        kcat = subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", "vigil.posts"],
                              input=b"this is not json\n", capture_output=True, timeout=30)
        check(kcat.returncode == 0, f"kcat: {kcat.stderr.decode()[:300]}")
        wait_for("the page on the webhook", lambda: hook.count >= 1, 30)

        # The exposition itself: promtool's linter, and the docs.
        status_code, headers, body = fetch("GET", v.base + "/metrics")
        check(status_code == 200, f"/metrics: {status_code}")
        check(headers["Content-Type"].startswith("text/plain; version=0.0.4"),
              f"/metrics content type {headers['Content-Type']}")
        lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                              timeout=30)
        check(lint.returncode == 0,
              f"promtool check metrics: {(lint.stdout + lint.stderr).decode()[:600]}")
        served = set(re.findall(r"^# TYPE (\S+) ", body.decode(), re.M))
        documented = documented_names(env)
        check(not served - documented,
              f"served but not documented in docs/metrics.md: {sorted(served - documented)}")
        check(not documented - served,
              f"documented in docs/metrics.md but not served: {sorted(documented - served)}")
        note(f"{len(served)} metric families, each documented; promtool check metrics passed")

        p = Prometheus(env, "scrape", f"{LOOPBACK}:{v.port}").start()
        wait_for("the target up", lambda: p.value('up{job="vigil"}') == 1.0, 30)
        wait_for("4 posts consumed in Prometheus",
                 lambda: (p.value("vigil_posts_consumed_total") or 0) >= 4, 30)
        expected = {
            'vigil_posts_invalid_total{reason="not_json"}': 1,
            'vigil_posts_dead_lettered_total': 1,
            'vigil_hits_total{rule="privacy.cn_resident_id",category="privacy_leak"}': 1,
            'vigil_pages_total{channel="legal-hook",outcome="sent"}': 1,
            'sum(vigil_incidents_open{state="open"})': 1,
            'vigil_rules_last_reload_success': 1,
        }
        for expr, at_least in expected.items():
            wait_for(f"{expr} >= {at_least}", lambda e=expr, n=at_least: (p.value(e) or 0) >= n, 20)
        check(p.value('vigil_build_info{re2!="",hyperscan!="",librdkafka!=""}') == 1,
              "vigil_build_info with the three versions")

        # The shipped rules evaluate cleanly against the real series.
        def groups_evaluated():
            groups = p.api("rules")["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(r.get("lastEvaluation", "").startswith("2") and
                                          not r["lastEvaluation"].startswith("0001")
                                          for r in rules) else None

        rules = wait_for("every rule evaluated once", groups_evaluated, 30)
        bad = [f"{r['name']}: {r.get('lastError')}" for r in rules if r.get("health") != "ok"]
        check(not bad, f"rules with errors: {bad}")
        firing = [r["name"] for r in rules if r.get("type") == "alerting" and r["state"] != "inactive"]
        note(f"{len(rules)} rules evaluated without error; not inactive: {firing or 'none'}")

        # Every dashboard query runs on the real data (rates need a few scrapes).
        wait_for("5 scrapes", lambda: (p.value('count_over_time(up{job="vigil"}[1m])') or 0) >= 5, 30)
        with open(os.path.join(env.src, "packaging", "grafana", "vigil.json"), encoding="utf-8") as f:
            dashboard = json.load(f)
        exprs = [t["expr"] for panel in all_panels(dashboard.get("panels", []))
                 for t in panel.get("targets", []) if t.get("expr")]
        empty = [e for e in exprs if not p.query(substitute(e))]
        with_data = len(exprs) - len(empty)
        for e in empty:
            note(f"no data: {substitute(e)}")
        note(f"{len(exprs)} dashboard queries ran, {with_data} returned data")
        # Only a robot's budget may be missing: this paging file has no rate-limited channel.
        missing = [e for e in empty if "vigil_robot_budget_remaining" not in e]
        check(not missing, f"dashboard queries without data: {missing}")
        return (f"{len(served)} families documented and linted; Prometheus scraped them; "
                f"{len(rules)} rules healthy; {len(exprs)} dashboard queries ran")
    finally:
        hook.close()


def case_reload_alert(env, note):
    rules_dir = os.path.join(env.tmp, "reload_alert", "rules")
    os.makedirs(rules_dir, exist_ok=True)
    rule_file = os.path.join(rules_dir, "site.yaml")
    with open(rule_file, "w", encoding="utf-8") as f:
        f.write("rules:\n  - id: site.refund\n    category: complaint\n    severity: medium\n"
                "    owner: customer_service\n    when: {all: [refund]}\n")
    v = Vigild(env, "reload_alert", paging_file("http://127.0.0.1:9/unused"))
    v.args = [a if not a.startswith("rules.paths=") else f"rules.paths={rule_file}" for a in v.args]
    v.start()
    p = Prometheus(env, "reload_alert", f"{LOOPBACK}:{v.port}").start()
    wait_for("the target up", lambda: p.value('up{job="vigil"}') == 1.0, 30)
    with open(rule_file, "w", encoding="utf-8") as f:
        f.write("rules:\n  - id: site.refund\n    when: {all: [refund\n")
    status, body = v.api("POST", "/api/v1/rules/reload")
    check(status == 422, f"a broken reload: {status} (expected 422): {body}")
    _, rules = v.api("GET", "/api/v1/rules", expect=200)
    check("site.refund" in json.dumps(rules), "the running set stays after a failed reload")
    wait_for("vigil_rules_last_reload_success == 0 in Prometheus",
             lambda: p.value("vigil_rules_last_reload_success") == 0.0, 20)
    wait_for('vigil_rule_reloads_total{outcome="failed"} == 1',
             lambda: p.value('vigil_rule_reloads_total{outcome="failed"}') == 1.0, 20)

    def alert_state():
        alerts = p.api("alerts")["alerts"]
        return [a for a in alerts if a["labels"].get("alertname") == "VigilRuleReloadFailed"]

    pending = wait_for("VigilRuleReloadFailed pending", alert_state, 20)
    check(pending[0]["state"] in ("pending", "firing"), f"alert state {pending[0]['state']}")
    note(f"VigilRuleReloadFailed {pending[0]['state']}, severity {pending[0]['labels'].get('severity')}")
    return "a rejected reload shows in the metrics and raises VigilRuleReloadFailed"


def main():
    def make_env(args):
        for tool in ("prometheus", "promtool", "kcat"):
            if shutil.which(tool) is None:
                raise CaseFailure(f"{tool} is not installed (packaging/install-deps.sh installs it)")
        return Env(args, prefix="vigil-prometheus-it.")

    return harness.main(
        __doc__, "metrics.prometheus", CASES, make_env=make_env,
        prepare=lambda env, only: lambda case, note: globals()["case_" + case](env, note),
        keep_variable="VIGIL_PROMETHEUS_KEEP")


if __name__ == "__main__":
    sys.exit(main())
