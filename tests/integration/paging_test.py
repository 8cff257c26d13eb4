#!/usr/bin/env python3
"""vigild's paging path against real receivers on 127.0.0.1 (embedded Kafka broker).

Registered with CTest as `paging.integration`:

    paging_test.py --vigild PATH --source-dir DIR [--keep] [--only CASE,...]

Every case runs its own vigild (`kafka.brokers=embedded`, its own HTTP port and state dir,
the shipped rule packs, a paging file written by the case) and its own receivers, threads in
this process: an HTTP server that plays WeCom, DingTalk and Feishu robots and signed
webhooks, and a minimal SMTP server (EHLO/HELO, MAIL, RCPT, DATA, QUIT; no TLS). Posts are
ingested with `POST /api/v1/posts`; `privacy.cn_resident_id` (owner `legal`, severity high)
opens an incident at its first hit, and the posts carry the pack's synthetic ID numbers.

  every_channel                  one person of the `legal` role has contacts on WeCom,
                                 DingTalk (signed), Feishu (signed), a webhook (signed), Slack,
                                 PagerDuty (Events v2), Alertmanager (API v2) and e-mail:
                                 each receiver gets exactly one page for incident 1,
                                 every signature verifies, every page has the incident link
                                 and the masked ID and never the raw digits; the API shows 8
                                 delivered deliveries and a `notified` timeline entry.
  retry_after_receiver_down      the webhook answers 503 twice, then 200: three attempts with
                                 one idempotency key, backing off (2 s, 4 s), delivered once;
                                 a WeCom robot answers errcode 45009 (rate limit) once: retried.
  ack_link_and_escalation        level 0 (owner) ack_within 2s, level 1 (crisis_advisor,
                                 another person and webhook) repeating every 2s: level 1 is
                                 paged when level 0 does not acknowledge; a tampered link is
                                 403, a GET of the link shows a form and changes nothing, the
                                 POST acknowledges as the person; both receivers get the
                                 acknowledge notice and no page follows it.
  kill_between_decision_and_delivery
                                 the webhook is not listening: the page is decided and its
                                 delivery pending after a failed attempt when vigild is
                                 SIGKILLed; the receiver comes up, vigild restarts on the same
                                 state dir and the page arrives exactly once, for the same
                                 incident id.
  silence_holds_then_resolve_notice
                                 a silence on `privacy.*` made before the posts holds the page
                                 (timeline `page held`) while hits are counted; expiring the
                                 silence (DELETE) releases the page, with both hits; resolving
                                 the incident sends the resolve notice.

Waits poll receivers and the API against deadlines (timers in vigild: the engine ticks every
second, the outbox backs off 2 s, 4 s, ...); "nothing more arrives" is a poll over a short
window. Prints `PASS name (...)` or `FAIL name: why` per case (with the tail of the vigild
log on a failure) and exits 1 if any case failed, 130 if interrupted. Each vigild dies with
this process (PR_SET_PDEATHSIG). Talks to nothing but 127.0.0.1. Standard library only.
"""

import base64
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (LOOPBACK, CaseFailure, Daemon, Env, check, fetch, free_port, stays,  # noqa: E402
                     wait_for)
import harness  # noqa: E402

CASES = ("every_channel", "retry_after_receiver_down", "ack_link_and_escalation",
         "kill_between_decision_and_delivery", "silence_holds_then_resolve_notice")

# The rule pack's synthetic resident ID numbers, and how the matcher masks them.
RAW_ID, MASKED_ID = "440305199206150217", "440305********0217"
RAW_ID_2, MASKED_ID_2 = "37020219750710081X", "370202********081X"
COMMUNITY = "拾光吧"


def post(post_id, body=f"身份证号{RAW_ID}，麻烦帮我查一下订单", community=COMMUNITY):
    return {"id": post_id, "platform": "tieba", "community": community,
            "url": f"https://tieba.example/p/{post_id}", "body": body}


# ---------------------------------------------------------------------------------- receivers


def hmac_sha256(key, message):
    return hmac.new(key.encode() if isinstance(key, str) else key,
                    message.encode() if isinstance(message, str) else message, hashlib.sha256).digest()


class Received:
    """One request a receiver got: what came, what it means, what was wrong with it."""

    def __init__(self, path, query, headers, body):
        self.at = time.monotonic()
        self.path, self.query, self.headers, self.body = path, query, headers, body
        self.doc = None      # the JSON body, parsed
        self.text = ""       # everything a person would read, decoded, for content checks
        self.problems = []   # signature or format errors found by the receiver
        self.status = None   # what the receiver answered

    def header(self, name):
        return self.headers.get(name.lower(), "")


class Endpoint:
    """A robot or webhook at one path: checks each request the way the real service
    would (signatures, format) and answers like it. `script` answers the n-th request
    (0-based) with (status, JSON body) instead; None falls through to the normal answer."""

    def __init__(self, kind, secret="", script=None):
        self.kind, self.secret, self.script = kind, secret, script
        self.requests = []
        self.lock = threading.Lock()

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def handle(self, r):
        try:
            r.doc = json.loads(r.body)
            r.text = json.dumps(r.doc, ensure_ascii=False)
        except ValueError:
            r.problems.append("the body is not JSON")
        getattr(self, "_check_" + self.kind)(r)
        with self.lock:
            n = len(self.requests)
            self.requests.append(r)
        scripted = self.script(n) if self.script else None
        if scripted is not None:
            return scripted
        if r.problems:
            return self._reject(r)
        if self.kind == "pagerduty":  # the Events API v2 answer
            return 202, {"status": "success", "message": "Event processed",
                         "dedup_key": (r.doc or {}).get("dedup_key")}
        return 200, {"code": 0, "msg": "success"} if self.kind == "feishu" else \
            {"errcode": 0, "errmsg": "ok"} if self.kind in ("wecom", "dingtalk") else {"ok": True}

    def _reject(self, r):
        if self.kind == "dingtalk":
            return 200, {"errcode": 310000, "errmsg": "sign not match: " + "; ".join(r.problems)}
        if self.kind == "feishu":
            return 200, {"code": 19021, "msg": "sign match fail: " + "; ".join(r.problems)}
        if self.kind == "wecom":
            return 200, {"errcode": 40008, "errmsg": "invalid message: " + "; ".join(r.problems)}
        return 401, {"error": "; ".join(r.problems)}

    def _check_wecom(self, r):
        if r.doc is not None and r.doc.get("msgtype") not in ("markdown", "text"):
            r.problems.append(f"msgtype {r.doc.get('msgtype')!r}")

    def _check_dingtalk(self, r):
        raw = dict(kv.split("=", 1) for kv in r.query.split("&") if "=" in kv)
        timestamp, sign = raw.get("timestamp", ""), raw.get("sign", "")
        if not timestamp.isdigit():
            r.problems.append(f"timestamp {timestamp!r} is not milliseconds")
            return
        if abs(int(timestamp) - time.time() * 1000) > 3_600_000:
            r.problems.append(f"timestamp {timestamp} is more than an hour off")
        expected = base64.b64encode(hmac_sha256(self.secret, f"{timestamp}\n{self.secret}")).decode()
        # The signature travels percent-encoded (base64 has '+', '/' and '=').
        if sign != urllib.parse.quote(expected, safe=""):
            r.problems.append(f"sign {sign!r} is not the percent-encoded {expected!r}")
        if r.doc is not None and r.doc.get("msgtype") != "markdown":
            r.problems.append(f"msgtype {r.doc.get('msgtype')!r}")

    def _check_feishu(self, r):
        if r.doc is None:
            return
        timestamp, sign = str(r.doc.get("timestamp", "")), r.doc.get("sign", "")
        if not timestamp.isdigit():
            r.problems.append(f"timestamp {timestamp!r} is not seconds")
            return
        if abs(int(timestamp) - time.time()) > 3600:
            r.problems.append(f"timestamp {timestamp} is more than an hour off")
        expected = base64.b64encode(hmac_sha256(f"{timestamp}\n{self.secret}", b"")).decode()
        if sign != expected:
            r.problems.append(f"sign {sign!r} is not {expected!r}")

    def _check_slack(self, r):
        if r.doc is not None and not (isinstance(r.doc.get("blocks"), list) and r.doc.get("text")):
            r.problems.append("not an incoming-webhook message (text and blocks)")

    def _check_pagerduty(self, r):
        d = r.doc or {}
        if d.get("routing_key") != self.secret:
            r.problems.append(f"routing_key {d.get('routing_key')!r}")
        if d.get("event_action") not in ("trigger", "acknowledge", "resolve"):
            r.problems.append(f"event_action {d.get('event_action')!r}")
        if not d.get("dedup_key"):
            r.problems.append("no dedup_key")
        if d.get("event_action") == "trigger":
            payload = d.get("payload") or {}
            for field in ("summary", "source", "severity"):
                if not payload.get(field):
                    r.problems.append(f"payload.{field} missing")
            if payload.get("severity") not in ("critical", "error", "warning", "info"):
                r.problems.append(f"payload.severity {payload.get('severity')!r}")

    def _check_alertmanager(self, r):
        alerts = r.doc
        if not isinstance(alerts, list) or not alerts:
            r.problems.append("not a list of alerts")
            return
        for a in alerts:
            if not isinstance(a.get("labels"), dict) or "alertname" not in a["labels"]:
                r.problems.append(f"an alert without labels.alertname: {a}")

    def _check_webhook(self, r):
        expected = "sha256=" + hmac.new(self.secret.encode(), r.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(r.header("X-Vigil-Signature"), expected):
            r.problems.append(f"X-Vigil-Signature {r.header('X-Vigil-Signature')!r} is not {expected!r}")
        key = r.header("Idempotency-Key")
        if not key:
            r.problems.append("no Idempotency-Key header")
        if r.doc is not None:
            if r.doc.get("idempotency_key") != key:
                r.problems.append(f"Idempotency-Key {key!r} differs from the body's "
                                  f"{r.doc.get('idempotency_key')!r}")
            if str(r.doc.get("sent_at_ms")) != r.header("X-Vigil-Timestamp"):
                r.problems.append(f"X-Vigil-Timestamp {r.header('X-Vigil-Timestamp')!r} differs "
                                  f"from the signed sent_at_ms {r.doc.get('sent_at_ms')!r}")


class HttpReceivers:
    """One HTTP server on 127.0.0.1 for a case's robots and webhooks, one Endpoint per path.
    `port`: listen there (a receiver that comes up later on a port given out before)."""

    def __init__(self, endpoints, port=0):
        self.endpoints = endpoints
        receivers = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as robots' APIs do

            def do_POST(self):
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                endpoint = receivers.endpoints.get(path)
                if endpoint is None:
                    status, answer = 404, {"error": f"no endpoint {path}"}
                else:
                    r = Received(path, query, {k.lower(): v for k, v in self.headers.items()}, body)
                    status, answer = endpoint.handle(r)
                    r.status = status
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((LOOPBACK, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://{LOOPBACK}:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """A minimal SMTP server: EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT; it
    offers no STARTTLS and no AUTH. Stores each accepted message with its envelope and
    notes each session's commands (to tell what a client that gave up did)."""

    def __init__(self):
        self.messages, self.sessions = [], []
        self.lock = threading.Lock()
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                commands, mail_from, rcpt = [], None, []
                with receiver.lock:
                    receiver.sessions.append(commands)
                self.reply("220 vigil-test ESMTP ready")
                while True:
                    line = self.rfile.readline(65536)
                    if not line:
                        return
                    text = line.decode("utf-8", "replace").rstrip("\r\n")
                    verb = text.split(" ", 1)[0].upper()
                    commands.append(verb)
                    if verb == "EHLO":
                        self.wfile.write(b"250-vigil-test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n")
                    elif verb == "HELO":
                        self.reply("250 vigil-test")
                    elif verb == "MAIL":
                        mail_from, rcpt = text[10:].strip().strip("<>").split(">")[0], []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpt.append(text[8:].strip().strip("<>").split(">")[0])
                        self.reply("250 OK")
                    elif verb == "DATA":
                        if mail_from is None or not rcpt:
                            self.reply("503 need MAIL and RCPT first")
                            continue
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while True:
                            data = self.rfile.readline(1 << 20)
                            if not data or data in (b".\r\n", b".\n"):
                                break
                            lines.append(data[1:] if data.startswith(b"..") else data)
                        with receiver.lock:
                            receiver.messages.append(
                                {"at": time.monotonic(), "from": mail_from, "rcpt": list(rcpt),
                                 "data": b"".join(lines)})
                        mail_from, rcpt = None, []
                        self.reply("250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 command not implemented")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server((LOOPBACK, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.messages), [list(s) for s in self.sessions]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------------------ vigild

class Vigild(Daemon):
    """One vigild on the embedded broker with its own port, state dir, paging file and log.
    A restart is `start()` again: the same arguments, so the same state dir."""

    def __init__(self, env, name, paging):
        self.port = free_port()
        self.base = f"http://{LOOPBACK}:{self.port}"
        self.state_dir = os.path.join(env.tmp, name, "state")
        self.paging_path = os.path.join(env.tmp, name, "paging.yaml")
        os.makedirs(self.state_dir, exist_ok=True)
        paging = dict(paging, public_url=self.base)
        with open(self.paging_path, "w", encoding="utf-8") as f:
            json.dump(paging, f, ensure_ascii=False, indent=2)  # JSON is YAML
        super().__init__(name, [env.vigild,
                                "--set", "kafka.brokers=embedded",
                                "--set", f"rules.paths={env.rules}",
                                "--set", f"rules.cache_dir={env.rules_cache}",
                                "--set", f"http.listen={LOOPBACK}:{self.port}",
                                "--set", f"state.dir={self.state_dir}",
                                "--set", f"alerts.paging={self.paging_path}",
                                "--set", f"alerts.public_url={self.base}"],
                         os.path.join(env.tmp, name, "vigild.log"), env.tmp)

    def start(self, timeout=60):
        super().start()

        def ready():
            self.check_alive()
            try:
                return fetch("GET", self.base + "/readyz", timeout=2)[0] == 200
            except OSError:
                return False

        wait_for(f"{self.name} to be ready", ready, timeout)
        return self

    def check_alive(self):
        if self.proc.poll() is not None:
            raise CaseFailure(f"{self.name} exited with code {self.proc.returncode}")

    def api(self, method, path, body=None, expect=None):
        self.check_alive()
        status, _, data = fetch(method, self.base + path, body)
        if expect is not None:
            check(status == expect, f"{method} {path}: {status} (expected {expect}): "
                                    f"{data.decode('utf-8', 'replace')[:300]}")
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode("utf-8", "replace")

    def ingest(self, *posts):
        body = "\n".join(json.dumps(p, ensure_ascii=False) for p in posts).encode()
        self.check_alive()
        status, _, data = fetch("POST", self.base + "/api/v1/posts", body,
                               {"Content-Type": "application/x-ndjson"}, timeout=30)
        check(status == 202, f"POST /api/v1/posts: {status}: {data.decode('utf-8', 'replace')[:300]}")

    def incident(self, incident_id=1):
        """GET /api/v1/incidents/ID, or None while it does not exist."""
        status, body = self.api("GET", f"/api/v1/incidents/{incident_id}")
        if status == 404:
            return None
        check(status == 200, f"GET /api/v1/incidents/{incident_id}: {status}: {body}")
        return body

    def wait_incident(self, what, probe, timeout=30):
        """Until incident 1 exists and `probe(incident)` holds; returns the incident."""
        return wait_for(what, lambda: (lambda i: i if i and probe(i) else None)(self.incident()),
                        timeout)



# ------------------------------------------------------------------------------------ checks


def timeline(incident, action):
    return [t for t in incident.get("timeline", []) if t["action"] == action]


def check_page_content(what, text, raw, link, masked=MASKED_ID, raws=(RAW_ID,), markdown=False):
    """A page names the incident by its link and shows the masked ID, never the digits.
    `markdown`: the channel renders markdown, so excerpts come defanged: '*' as the
    full-width '＊' (U+FF0A), which cannot start emphasis."""
    if markdown:
        masked = masked.replace("*", "\uff0a")
    check(link in text, f"{what}: the page lacks the incident link {link}: {text[:600]}")
    check(masked in text, f"{what}: the page lacks the masked ID {masked}: {text[:600]}")
    for digits in raws:
        check(digits not in text and digits.encode() not in raw,
              f"{what}: the page carries the raw ID {digits}")


def pages(endpoint, kind="page"):
    return [r for r in endpoint.snapshot() if r.doc and r.doc.get("kind") == kind]


def no_problems(endpoint, what):
    for r in endpoint.snapshot():
        check(not r.problems, f"{what}: {'; '.join(r.problems)}")


# ------------------------------------------------------------------------------------- cases


def case_every_channel(env, note):
    secrets = {"dingtalk": "SEC7a1c0ffee", "feishu": "feishu-s3cret", "webhook": "hook-s3cret"}
    endpoints = {
        "/cgi-bin/webhook/send": Endpoint("wecom"),
        "/robot/send": Endpoint("dingtalk", secrets["dingtalk"]),
        "/open-apis/bot/v2/hook/legal": Endpoint("feishu", secrets["feishu"]),
        "/hooks/legal": Endpoint("webhook", secrets["webhook"]),
        "/services/T000/B000/slack": Endpoint("slack"),
        "/v2/enqueue": Endpoint("pagerduty", "R0UT1NGKEY0000000000000000000000"),
        "/am/api/v2/alerts": Endpoint("alertmanager"),
    }
    receivers, smtp = HttpReceivers(endpoints), SmtpReceiver()
    try:
        paging = {
            "time_zone": "Asia/Shanghai",
            "channels": {
                "legal-wecom": {"type": "wecom", "url": receivers.url("/cgi-bin/webhook/send?key=legal")},
                "legal-ding": {"type": "dingtalk", "url": receivers.url("/robot/send?access_token=legal"),
                               "secret": secrets["dingtalk"]},
                "legal-feishu": {"type": "feishu", "url": receivers.url("/open-apis/bot/v2/hook/legal"),
                                 "secret": secrets["feishu"]},
                "legal-hook": {"type": "webhook", "url": receivers.url("/hooks/legal"),
                               "secret": secrets["webhook"], "headers": {"X-Team": "legal"}},
                "legal-mail": {"type": "email", "smtp_url": f"smtp://{LOOPBACK}:{smtp.port}",
                               "from": "Vigil <vigil@example.com>", "to": ["legal-team@example.com"],
                               "starttls": False},  # a relay on loopback, as smtp_sender.h allows
                "legal-slack": {"type": "slack", "url": receivers.url("/services/T000/B000/slack")},
                "legal-pd": {"type": "pagerduty", "url": receivers.url("/v2/enqueue"),
                             "routing_key": "R0UT1NGKEY0000000000000000000000"},
                "legal-am": {"type": "alertmanager", "url": receivers.url("/am"),
                             "labels": {"team": "legal"}},
            },
            "people": {"alice": {"name": "王丽", "contacts": [
                {"channel": "legal-wecom", "mention": "13800000001"},
                {"channel": "legal-ding", "mention": "13800000001"},
                {"channel": "legal-feishu", "mention": "ou_alice"},
                {"channel": "legal-hook", "mention": "alice"},
                {"channel": "legal-mail", "mention": "alice@example.com"},
                {"channel": "legal-slack", "mention": "<@U0ALICE>"},
                {"channel": "legal-pd"},
                {"channel": "legal-am"}]}},
            "roles": {"legal": {"members": ["alice"]}},
            "policies": {"default": {"levels": [{"notify": ["owner"], "ack_within": "10m"}]}},
        }
        v = Vigild(env, "every_channel", paging).start()
        link = f"{v.base}/api/v1/incidents/1"
        v.ingest(post("every-1"))
        problems = []  # every channel is checked, and every problem reported

        def settled():
            i = v.incident()
            return i if i and len(i["deliveries"]) == 8 and all(
                d["state"] in ("delivered", "dead") for d in i["deliveries"]) else None

        try:
            incident = wait_for("8 deliveries, each delivered or dead", settled, 30)
        except CaseFailure as e:
            incident = v.incident() or {}
            problems.append(f"{e}; deliveries: {json.dumps(incident.get('deliveries'), ensure_ascii=False)}")
        for name, endpoint in endpoints.items():
            try:
                got = endpoint.snapshot()
                check(len(got) == 1, f"{len(got)} requests, expected exactly one page")
                r = got[0]
                check(not r.problems, "; ".join(r.problems))
                check(r.status == (202 if endpoint.kind == "pagerduty" else 200), f"answered {r.status}")
                if endpoint.kind == "wecom":
                    # A mobile number is a mention only in a text message.
                    check(r.doc["msgtype"] == "text", f"msgtype {r.doc['msgtype']}, expected text")
                    check(r.doc["text"].get("mentioned_mobile_list") == ["13800000001"],
                          f"mentioned_mobile_list {r.doc['text'].get('mentioned_mobile_list')}")
                    text = r.doc["text"]["content"]
                elif endpoint.kind == "dingtalk":
                    check("access_token=legal" in r.query, f"the access_token was lost: {r.query}")
                    check(r.doc["at"]["atMobiles"] == ["13800000001"], f"at: {r.doc['at']}")
                    text = r.doc["markdown"]["text"]
                elif endpoint.kind == "feishu":
                    check(r.doc["msg_type"] == "interactive", f"msg_type {r.doc['msg_type']}")
                    check("<at id=ou_alice></at>" in r.text, "no <at id=ou_alice> mention")
                    text = r.text
                elif endpoint.kind == "slack":
                    check("<@U0ALICE>" in r.text, "no <@U0ALICE> mention")
                    text = r.text
                elif endpoint.kind == "pagerduty":
                    check(r.doc["event_action"] == "trigger", f"event_action {r.doc['event_action']}")
                    check(r.doc["payload"]["severity"] == "error", f"high is PagerDuty's error, "
                                                                   f"got {r.doc['payload']['severity']}")
                    text = r.text
                elif endpoint.kind == "alertmanager":
                    a = r.doc[0]
                    check(a["labels"].get("team") == "legal", f"labels {a['labels']}")
                    check(a.get("generatorURL") == link, f"generatorURL {a.get('generatorURL')}")
                    text = r.text
                else:
                    d = r.doc
                    check((d["kind"], d["incident_id"], d["rule_id"], d["owner"], d["severity"]) ==
                          ("page", 1, "privacy.cn_resident_id", "legal", "high"),
                          f"kind/incident/rule/owner/severity: {d['kind']}, {d['incident_id']}, "
                          f"{d['rule_id']}, {d['owner']}, {d['severity']}")
                    check(d["incident_url"] == link, f"incident_url {d['incident_url']}")
                    check(d["ack_url"].startswith(link + "/ack?by=alice&sig="), f"ack_url {d['ack_url']}")
                    check(d["mentions"] == ["alice"], f"mentions {d['mentions']}")
                    check(r.header("X-Team") == "legal", "the configured X-Team header is missing")
                    check(r.header("Idempotency-Key") == "incident-1-open/legal-hook",
                          f"Idempotency-Key {r.header('Idempotency-Key')}")
                    text = r.text
                check_page_content(name, text, r.body, link,
                                   markdown=endpoint.kind in ("dingtalk", "feishu"))
            except (CaseFailure, KeyError, TypeError) as e:
                kind = "" if isinstance(e, CaseFailure) else type(e).__name__ + " "
                problems.append(f"{endpoint.kind} ({name}): {kind}{e}")
        messages, sessions = smtp.snapshot()
        try:
            check(len(messages) == 1, f"{len(messages)} messages, expected exactly one "
                                      f"(SMTP sessions' commands: {sessions})")
            m = messages[0]
            check(m["from"] == "vigil@example.com", f"MAIL FROM {m['from']}")
            check(sorted(m["rcpt"]) == ["alice@example.com", "legal-team@example.com"], f"RCPT TO {m['rcpt']}")
            msg = email.message_from_bytes(m["data"], policy=email.policy.default)
            check(msg["X-Vigil-Incident"] == "1", f"X-Vigil-Incident {msg['X-Vigil-Incident']}")
            check(msg["X-Vigil-Idempotency-Key"] == "incident-1-open/legal-mail",
                  f"X-Vigil-Idempotency-Key {msg['X-Vigil-Idempotency-Key']}")
            body = msg.get_content()
            check_page_content("email", str(msg["Subject"]) + "\n" + body, m["data"], link)
        except (CaseFailure, KeyError) as e:
            problems.append(f"email: {e}")
        incident = v.incident() or {}
        deliveries = incident.get("deliveries", [])
        states = {d["destination"]: (d["state"], d["attempts"], d["last_error"]) for d in deliveries}
        if sorted(states) != ["legal-am", "legal-ding", "legal-feishu", "legal-hook", "legal-mail", "legal-pd",
                              "legal-slack", "legal-wecom"] or \
                any(s[0] != "delivered" for s in states.values()):
            problems.append(f"API deliveries are not 8 delivered ones: {json.dumps(states, ensure_ascii=False)}")
        if not timeline(incident, "notified"):
            problems.append(f"no `notified` timeline entry: {incident.get('timeline')}")
        if incident.get("evidence") and MASKED_ID not in incident["evidence"][0]["excerpt"]:
            problems.append(f"the evidence is not masked: {incident['evidence'][0]['excerpt']}")
        check(not problems, "\n    " + "\n    ".join(problems))
        return (f"one page each on wecom, dingtalk, feishu, webhook, slack, pagerduty, alertmanager "
                f"and email, signatures verified, "
                f"link and masked ID in each; notified: {timeline(incident, 'notified')[0]['detail']}")
    finally:
        receivers.close()
        smtp.close()


def webhook_paging(receivers, path, secret, ack_within="10m"):
    return {
        "channels": {"legal-hook": {"type": "webhook", "url": receivers.url(path), "secret": secret}},
        "people": {"alice": {"name": "Alice", "contacts": [{"channel": "legal-hook", "mention": "alice"}]}},
        "roles": {"legal": {"members": ["alice"]}},
        "policies": {"default": {"levels": [{"notify": ["owner"], "ack_within": ack_within}]}},
    }


def case_retry_after_receiver_down(env, note):
    hook = Endpoint("webhook", "retry-s3cret",
                    script=lambda n: (503, {"error": "down for maintenance"}) if n < 2 else None)
    # A robot's errors come as HTTP 200 with an error code; 45009 is WeCom's rate limit.
    wecom = Endpoint("wecom", script=lambda n: (200, {"errcode": 45009, "errmsg": "api freq out of limit"})
                     if n < 1 else None)
    receivers = HttpReceivers({"/hooks/legal": hook, "/cgi-bin/webhook/send": wecom})
    try:
        paging = webhook_paging(receivers, "/hooks/legal", "retry-s3cret")
        paging["channels"]["legal-wecom"] = {"type": "wecom", "url": receivers.url("/cgi-bin/webhook/send?key=l")}
        paging["people"]["alice"]["contacts"].append({"channel": "legal-wecom", "mention": "alice"})
        v = Vigild(env, "retry_after_receiver_down", paging).start()
        v.ingest(post("retry-1"))
        wait_for("the webhook's third attempt (after two 503s)", lambda: len(hook.snapshot()) >= 3, 30)
        wait_for("WeCom's second attempt (after errcode 45009)", lambda: len(wecom.snapshot()) >= 2, 10)
        got = hook.snapshot()
        no_problems(hook, "webhook")
        no_problems(wecom, "wecom")
        keys = {r.header("Idempotency-Key") for r in got}
        check(keys == {"incident-1-open/legal-hook"}, f"idempotency keys {keys}")
        check([r.status for r in got[:3]] == [503, 503, 200], f"answers {[r.status for r in got]}")
        gaps = [b.at - a.at for a, b in zip(got, got[1:3])]
        # The dispatcher backs off 2 s, then 4 s (a little less is the poll granularity).
        check(gaps[0] >= 1.5 and gaps[1] >= 3.5, f"attempts {', '.join(f'{g:.1f}' for g in gaps)} s apart")
        check_page_content("webhook", got[2].text, got[2].body, f"{v.base}/api/v1/incidents/1")
        robot = wecom.snapshot()
        check(robot[1].at - robot[0].at >= 1.5, f"WeCom retried {robot[1].at - robot[0].at:.1f} s after 45009")
        check(robot[0].doc == robot[1].doc, "WeCom's retry differs from the first attempt")
        incident = v.wait_incident("both deliveries to be marked delivered",
                                   lambda i: [d["state"] for d in i["deliveries"]] == ["delivered"] * 2, 10)
        d = {x["destination"]: x for x in incident["deliveries"]}
        check("45009" in d["legal-wecom"]["last_error"], f"WeCom's last error {d['legal-wecom']['last_error']!r}")
        stays("no request after the successful ones",
              lambda: len(hook.snapshot()) == 3 and len(wecom.snapshot()) == 2, 1.0)
        return (f"webhook 503, 503, 200 with one idempotency key, {gaps[0]:.1f} s and {gaps[1]:.1f} s "
                f"apart; WeCom 45009 then ok, {robot[1].at - robot[0].at:.1f} s apart; API: delivered, "
                f"last errors {d['legal-hook']['last_error']!r} and {d['legal-wecom']['last_error']!r}")
    finally:
        receivers.close()


def case_ack_link_and_escalation(env, note):
    owner_hook, advisor_hook = Endpoint("webhook", "owner-s3cret"), Endpoint("webhook", "advisor-s3cret")
    receivers = HttpReceivers({"/hooks/alice": owner_hook, "/hooks/carol": advisor_hook})
    try:
        paging = {
            "channels": {
                "owner-hook": {"type": "webhook", "url": receivers.url("/hooks/alice"), "secret": "owner-s3cret"},
                "advisor-hook": {"type": "webhook", "url": receivers.url("/hooks/carol"), "secret": "advisor-s3cret"},
            },
            "people": {
                "alice": {"name": "Alice", "contacts": [{"channel": "owner-hook", "mention": "alice"}]},
                "carol": {"name": "陈静", "contacts": [{"channel": "advisor-hook", "mention": "carol"}]},
            },
            "roles": {"legal": {"members": ["alice"]}, "crisis_advisor": {"members": ["carol"]}},
            # Level 1 pages again every 2 s until acknowledged: after the ack, silence proves
            # that the acknowledgement stopped the escalation.
            "policies": {"default": {"levels": [{"notify": ["owner"], "ack_within": "2s"},
                                                {"notify": ["role:crisis_advisor"], "ack_within": "2s"}],
                                     "repeat_last": 20}},
        }
        v = Vigild(env, "ack_link_and_escalation", paging).start()
        v.ingest(post("ack-1"))
        first = wait_for("the owner's page", lambda: pages(owner_hook), 30)[0]
        check(first.doc["escalation_level"] == 0, f"the owner's page is level {first.doc['escalation_level']}")
        level1 = wait_for("the crisis advisor's level-1 page", lambda: pages(advisor_hook), 15)[0]
        check(level1.doc["escalation_level"] == 1, f"the advisor's page is level {level1.doc['escalation_level']}")
        check(level1.at - first.at >= 1.5, f"level 1 paged {level1.at - first.at:.1f} s after level 0 (ack_within 2s)")
        check(level1.doc["ack_url"].split("?")[1].startswith("by=carol&"), f"level-1 ack_url {level1.doc['ack_url']}")
        check(len(pages(owner_hook)) == 1, f"the owner got {len(pages(owner_hook))} pages (level 0 pages once)")
        check(timeline(v.incident(), "escalated"), "no `escalated` timeline entry")
        ack_url = first.doc["ack_url"]
        check(ack_url.startswith(f"{v.base}/api/v1/incidents/1/ack?by=alice&sig="), f"ack_url {ack_url}")
        sig = ack_url.rsplit("sig=", 1)[1]
        tampered = ack_url[:-1] + ("0" if sig[-1] != "0" else "1")
        impostor = ack_url.replace("by=alice", "by=mallory")
        for method, url in (("GET", tampered), ("POST", tampered), ("POST", impostor)):
            status, _, body = fetch(method, url, b"" if method == "POST" else None,
                                   {"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else {})
            check(status == 403, f"{method} of a tampered link: {status}: {body[:200]}")
        status, headers, body = fetch("GET", ack_url)
        html = body.decode("utf-8", "replace")
        check(status == 200 and headers.get("Content-Type", "").startswith("text/html"),
              f"GET of the link: {status} {headers.get('Content-Type')}")
        check('<form method="post"' in html and "Acknowledge as alice" in html, f"GET shows no form: {html[:400]}")
        check(v.incident()["state"] == "open", "a GET of the link changed the incident")
        status, headers, body = fetch("POST", ack_url, b"", {"Content-Type": "application/x-www-form-urlencoded"})
        check(status == 200 and "acknowledged" in body.decode("utf-8", "replace"),
              f"POST of the link: {status}: {body[:300]}")
        acked = v.incident()
        check(acked["state"] == "acknowledged", f"state {acked['state']} after the POST")
        check("alice" in acked["acknowledged"]["by"], f"acknowledged.by {acked['acknowledged']['by']!r}")
        for who, hook in (("owner", owner_hook), ("advisor", advisor_hook)):
            notice = wait_for(f"the {who}'s acknowledge notice", lambda h=hook: pages(h, "acknowledge"), 15)[0]
            check(notice.doc["state"] == "acknowledged", f"{who}'s notice: state {notice.doc['state']}")
        counts = (len(pages(owner_hook)), len(pages(advisor_hook)))
        stays("a page after the acknowledgement",
              lambda: (len(pages(owner_hook)), len(pages(advisor_hook))) == counts, 4.5)
        no_problems(owner_hook, "owner webhook")
        no_problems(advisor_hook, "advisor webhook")
        for hook in (owner_hook, advisor_hook):
            keys = [r.header("Idempotency-Key") for r in hook.snapshot()]
            check(len(keys) == len(set(keys)), f"a message delivered twice: {keys}")
        return (f"level 1 paged {level1.at - first.at:.1f} s after level 0; tampered links 403; GET shows "
                f"a form; POST: acknowledged by {acked['acknowledged']['by']!r}; notices to both; "
                f"pages before the ack: owner {counts[0]}, advisor {counts[1]}, none after")
    finally:
        receivers.close()


def case_kill_between_decision_and_delivery(env, note):
    hook_port = free_port()  # given out now, listened on after the kill
    hook = Endpoint("webhook", "kill-s3cret")
    url = f"http://{LOOPBACK}:{hook_port}/hooks/legal"
    paging = {
        "channels": {"legal-hook": {"type": "webhook", "url": url, "secret": "kill-s3cret"}},
        "people": {"alice": {"name": "Alice", "contacts": [{"channel": "legal-hook", "mention": "alice"}]}},
        "roles": {"legal": {"members": ["alice"]}},
        "policies": {"default": {"levels": [{"notify": ["owner"], "ack_within": "10m"}]}},
    }
    v = Vigild(env, "kill_between_decision_and_delivery", paging).start()
    v.ingest(post("kill-1"))
    before = v.wait_incident("a pending delivery after a failed attempt", lambda i: any(
        d["state"] == "pending" and d["attempts"] >= 1 for d in i["deliveries"]))
    d = before["deliveries"][0]
    note(f"delivery {d['idempotency_key']} {d['state']} after {d['attempts']} attempt(s): {d['last_error']}")
    check(timeline(before, "notified"), "no `notified` entry although a delivery exists")
    v.proc.send_signal(signal.SIGKILL)
    v.proc.wait()
    receivers = HttpReceivers({"/hooks/legal": hook}, port=hook_port)
    try:
        v.start()
        first = wait_for("the page after the restart", lambda: hook.snapshot(), 30)[0]
        stays("a duplicate page", lambda: len(hook.snapshot()) == 1, 3.0)
        no_problems(hook, "webhook")
        check(first.doc["kind"] == "page" and first.doc["incident_id"] == 1,
              f"kind {first.doc['kind']}, incident {first.doc['incident_id']}")
        check(first.header("Idempotency-Key") == d["idempotency_key"],
              f"Idempotency-Key {first.header('Idempotency-Key')}, before the kill {d['idempotency_key']}")
        check_page_content("webhook", first.text, first.body, f"{v.base}/api/v1/incidents/1")
        after = v.wait_incident("the delivery to be marked delivered",
                                lambda i: [x["state"] for x in i["deliveries"]] == ["delivered"], 10)
        check((after["id"], after["key"], after["opened_ms"]) == (before["id"], before["key"], before["opened_ms"]),
              f"the incident changed: {after['id']} {after['key']} vs {before['id']} {before['key']}")
        status, listed = v.api("GET", "/api/v1/incidents", expect=200)
        check([i["id"] for i in listed["incidents"]] == [1], f"incidents after the restart: {listed}")
        return (f"SIGKILL with {d['idempotency_key']} pending ({d['attempts']} attempt(s)); after the restart "
                f"one page, same key, incident {after['id']} unchanged")
    finally:
        receivers.close()


def case_silence_holds_then_resolve_notice(env, note):
    hook = Endpoint("webhook", "silence-s3cret")
    receivers = HttpReceivers({"/hooks/legal": hook})
    try:
        v = Vigild(env, "silence_holds_then_resolve_notice",
                   webhook_paging(receivers, "/hooks/legal", "silence-s3cret")).start()
        _, silence = v.api("POST", "/api/v1/silences",
                           {"matchers": {"rule": "privacy.*"}, "duration": "1h",
                            "comment": "known leak, takedown requested"}, expect=201)
        check(silence["state"] == "active", f"silence state {silence['state']}")
        v.ingest(post("silence-1"))
        held = v.wait_incident("the incident with its page held", lambda i: timeline(i, "page held"))
        check(f"silence {silence['id']}" in timeline(held, "page held")[0]["detail"],
              f"`page held` does not name the silence: {timeline(held, 'page held')}")
        check(held["hits"] == 1, f"hits {held['hits']}")
        stays("a page while silenced", lambda: not hook.snapshot(), 3.0)
        v.ingest(post("silence-2", body=f"这个骗子的身份证：{RAW_ID_2}，大家认准了"))
        two = v.wait_incident("hits 2", lambda i: i["hits"] == 2)
        check(not hook.snapshot() and not two["deliveries"], f"paged while silenced: {two['deliveries']}")
        check(two["state"] == "open", f"state {two['state']}")
        v.api("DELETE", f"/api/v1/silences/{silence['id']}", expect=200)
        expired_at = time.monotonic()
        page = wait_for("the page released by the expired silence", lambda: pages(hook), 15)[0]
        stays("a second page", lambda: len(hook.snapshot()) == 1, 1.5)
        no_problems(hook, "webhook")
        check(page.doc["hits"] == 2, f"the released page says {page.doc['hits']} hits")
        check_page_content("webhook", page.text, page.body, f"{v.base}/api/v1/incidents/1",
                           masked=MASKED_ID_2, raws=(RAW_ID, RAW_ID_2))
        released = v.incident()
        check(timeline(released, "page released"), f"no `page released` entry: {released['timeline']}")
        # Whoever was paged hears that it is over.
        _, resolved = v.api("POST", "/api/v1/incidents/1/resolve", {"comment": "post taken down"}, expect=200)
        check(resolved["state"] == "resolved", f"state {resolved['state']} after resolve")
        notice = wait_for("the resolve notice", lambda: pages(hook, "resolve"), 15)[0]
        check(notice.doc["state"] == "resolved" and notice.doc["ack_url"] == "",
              f"resolve notice: state {notice.doc['state']}, ack_url {notice.doc['ack_url']!r}")
        check(MASKED_ID not in notice.text and RAW_ID not in notice.text, "the resolve notice carries excerpts")
        stays("more than the page and the resolve notice", lambda: len(hook.snapshot()) == 2, 1.0)
        no_problems(hook, "webhook")
        return (f"held while silenced (2 hits, no delivery), paged {page.at - expired_at:.1f} s after the "
                f"silence was expired, with 2 hits; resolve notice after the resolve")
    finally:
        receivers.close()


# -------------------------------------------------------------------------------------- main


def main():
    return harness.main(
        __doc__, "paging.integration", CASES,
        make_env=lambda args: Env(args, prefix="vigil-paging-it."),
        prepare=lambda env, only: lambda case, note: globals()["case_" + case](env, note),
        keep_variable="VIGIL_PAGING_KEEP")


if __name__ == "__main__":
    sys.exit(main())
