#!/usr/bin/env python3
"""The demo's robots: plays WeCom, DingTalk and Feishu group robots and a signed webhook on
127.0.0.1:9095 (or --listen), checks each signature the way the real service does, and
prints every page as the people in the group would see it: channel, headline, who is
mentioned, and the acknowledge link. Standard library only. Used by `make demo`.
"""
import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRETS = {"dingtalk": "SECdemo-dingtalk-secret", "feishu": "demo-feishu-secret",
           "webhook": "demo-webhook-secret"}


def check_dingtalk(query):
    timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
    key = SECRETS["dingtalk"].encode()
    expected = base64.b64encode(hmac.new(key, f"{timestamp}\n{SECRETS['dingtalk']}".encode(),
                                         hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, sign)


def check_feishu(body):
    timestamp = str(body.get("timestamp", ""))
    key = f"{timestamp}\n{SECRETS['feishu']}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, str(body.get("sign", "")))


def check_webhook(headers, raw):
    got = headers.get("X-Vigil-Signature", "")
    digest = hmac.new(SECRETS["webhook"].encode(), raw, hashlib.sha256).hexdigest()
    return got.endswith(digest)


def first_line(text):
    for line in text.splitlines():
        line = line.strip("#> *")
        if line:
            return line
    return ""


class Robot(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            body = json.loads(raw)
        except ValueError:
            return self.answer(400, {"errcode": 40001, "errmsg": "not JSON"})
        kind = url.path.split("/")[1]
        signed, text, mentions, link = "", "", [], ""
        if kind == "wecom":
            part = body.get(body.get("msgtype", "text"), {})
            text = part.get("content", "")
            mentions = part.get("mentioned_mobile_list", []) or part.get("mentioned_list", [])
        elif kind == "dingtalk":
            signed = "signed ok" if check_dingtalk(query) else "BAD SIGNATURE"
            part = body.get(body.get("msgtype", "text"), {})
            text = part.get("text", "") or part.get("content", "")
            mentions = body.get("at", {}).get("atMobiles", [])
        elif kind == "feishu":
            signed = "signed ok" if check_feishu(body) else "BAD SIGNATURE"
            card = body.get("card", {})
            text = card.get("header", {}).get("title", {}).get("content", "") or json.dumps(
                body.get("content", {}), ensure_ascii=False)
            everything = json.dumps(body, ensure_ascii=False)
            mentions = re.findall(r"<at id=(ou_[A-Za-z0-9_]+)", everything)
            links = re.findall(r"https?://[^\s\"()\\]+/ack\?by=[^\s\"()\\]+", everything)
            link = links[0] if links else ""
        elif kind == "webhook":
            signed = "signed ok" if check_webhook(self.headers, raw) else "BAD SIGNATURE"
            text = body.get("title", "")
            link = body.get("ack_url", "")
        if not link:
            links = re.findall(r"https?://[^\s\"()\\]+/ack\?by=[^\s\"()\\]+", text)
            link = links[0] if links else ""
        who = f" @{','.join(mentions)}" if mentions else ""
        stamp = time.strftime("%H:%M:%S")
        print(f"{stamp} 📟 {kind:8} {url.path.split('/')[-1][:24]:24} {first_line(text)[:110]}{who}"
              f"{'  [' + signed + ']' if signed else ''}", flush=True)
        if link:
            print(f"{'':9}   acknowledge: {link}", flush=True)
        answer = {"code": 0, "msg": "success"} if kind == "feishu" else {"errcode": 0, "errmsg": "ok"}
        self.answer(200, answer)

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:9095")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Robot)
    print(f"demo robots listening on http://{args.listen} (WeCom, DingTalk, Feishu, webhook)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
