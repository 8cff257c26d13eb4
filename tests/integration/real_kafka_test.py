#!/usr/bin/env python3
"""vigild against a real Apache Kafka broker (KRaft, one node on 127.0.0.1).

Registered with CTest as `kafka.integration`:

    real_kafka_test.py --vigild PATH --vigilctl PATH --source-dir DIR [--keep] [--only CASE,...]

One broker (tests/kafka/kafka.sh fetch/start, in a temporary directory) serves every case;
each case has its own topics (posts and hits: 3 partitions, DLQ: 1) and consumer group:

  clean_run       ~3000 generated posts and a set of bad ones (not JSON, invalid UTF-8,
                  missing body/id, too deep, too large, not an object, bad field), all sent
                  with `kcat -P`. The hit_ids on the hits topic equal those of
                  `vigilctl match` on the valid posts, with no duplicates, and every hit equals
                  vigilctl's JSON, keyed by its incident key; each bad post is on the DLQ exactly
                  once, byte-identical, with its key, the expected vigil.reason and the
                  vigil.source.* headers of where it was read; /api/v1/status counters agree.
                  SIGTERM exits 0, and a second vigild in the same group then consumes only
                  three new marker posts (one per partition): the offsets were committed.
  kill_restart    ~24000 posts streamed at 3000/s with `kcat -P` (a live stream, as in
                  production); vigild is SIGKILLed well into it and restarted in the same group
                  while the stream goes on: no expected hit is missing, something had been
                  committed, and the posts read again (hence the duplicates, counted and
                  printed) stay within the at-least-once window: posts in flight
                  (pipeline.queue_capacity) + posts completed since the last auto-commit.
  two_daemons     a second vigild joins the group while the first one works through a backlog
                  (paused by backpressure most of the time: pipeline.queue_capacity=256): their
                  /api/v1/status assignments become disjoint, non-empty and cover the 3
                  partitions; after more posts both finish, every expected hit is there, and
                  nothing was consumed twice (a rebalance drains and commits).
  broker_restart  `kafka.sh restart` while vigild consumes ~20000 posts, then 3000 more posts:
                  no expected hit is missing, vigild keeps running, finishes, and exits 0.
  broker_outage   the broker stopped for longer than the consumer group session (10 s) while
                  vigild works through a backlog and cannot deliver its hits (so it is paused by
                  backpressure when the session expires), then started: vigild rejoins, no
                  expected hit is missing, and it exits 0.

Waits poll /api/v1/status (and the hits topic) against deadlines; a vigild that looks idle
but owes hits and consumes nothing for 15 s is reported as stalled.

Prints `PASS name (...)` or `FAIL name: why` per case (with the tail of the vigild logs on a
failure) and exits 1 if any case failed, 130 if interrupted. The broker and every vigild it
started are stopped on every exit path (also on Ctrl-C / SIGTERM); each vigild also dies with
this process (PR_SET_PDEATHSIG). Talks to nothing but 127.0.0.1. Standard library only; needs
kcat, java and mvn (through kafka.sh) on PATH.
"""

import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LOOPBACK, CaseFailure, Daemon, check, fetch, free_port, log, say  # noqa: E402
import harness  # noqa: E402

CASES = ("clean_run", "kill_restart", "two_daemons", "broker_restart", "broker_outage")
TOOLS = ("vigild", "vigilctl")  # --vigild PATH --vigilctl PATH


# ------------------------------------------------------------------------------ processes

_children = set()  # helper processes in flight (kafka.sh, kcat, vigilctl)
_children_lock = threading.Lock()


def _end_child(p, grace=20.0):
    """SIGTERM (kafka.sh then ends the JVM it runs), then SIGKILL after `grace` seconds."""
    if p.poll() is not None:
        return
    try:
        p.terminate()
        p.wait(grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    except ProcessLookupError:
        pass


def run(cmd, what, timeout, input_bytes=None, check_rc=True):
    """Runs a helper to completion; returns (stdout bytes, stderr text)."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if input_bytes is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with _children_lock:
        _children.add(p)
    try:
        out, err = p.communicate(input_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise CaseFailure(f"{what}: no result after {timeout} s") from None
    except BaseException:
        _end_child(p)
        raise
    finally:
        with _children_lock:
            _children.discard(p)
    err = err.decode("utf-8", "replace")
    if check_rc and p.returncode != 0:
        raise CaseFailure(f"{what}: exit code {p.returncode}: {err.strip()[-800:]}")
    return out, err


def wait_for(what, probe, timeout, interval=0.1):
    """harness.wait_for, polling every 100 ms unless told."""
    return harness.wait_for(what, probe, timeout, interval)


# ---------------------------------------------------------------------------------- vigild


class Vigild(Daemon):
    """One vigild process with its own HTTP port, state dir and stderr log."""

    def __init__(self, env, name, topics, group, extra=(), state=None):
        """`state`: the name of the vigild whose state.dir (and so state store) to use: a
        restart of the same instance; by default its own."""
        self.topics, self.group = topics, group
        self.port = free_port()
        self.state_dir = os.path.join(env.tmp, "state", state or name)
        log_path = os.path.join(env.tmp, "logs", name + ".log")
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        args = [env.vigild,
                "--set", f"kafka.brokers={env.bootstrap}",
                "--set", f"kafka.group_id={group}",
                "--set", f"kafka.topics.posts={topics.posts}",
                "--set", f"kafka.topics.hits={topics.hits}",
                "--set", f"kafka.topics.dlq={topics.dlq}",
                "--set", f"rules.paths={env.rules}",
                "--set", f"rules.cache_dir={env.rules_cache}",
                "--set", f"http.listen={LOOPBACK}:{self.port}",
                "--set", f"state.dir={self.state_dir}",
                "--set", "log.level=warn"]
        for setting in extra:
            args += ["--set", setting]
        self.last_status = None
        super().__init__(name, args, log_path, env.tmp)

    def status(self):
        """GET /api/v1/status, or None if it does not answer. Fails if vigild exited."""
        if not self.alive():
            raise CaseFailure(f"{self.name} exited unexpectedly with code {self.proc.returncode}")
        try:
            code, _, body = fetch("GET", f"http://{LOOPBACK}:{self.port}/api/v1/status", timeout=5)
            if code != 200:
                return None
            self.last_status = json.loads(body)
            return self.last_status
        except (OSError, ValueError):
            return None

    def wait_assigned(self, timeout=60):
        return wait_for(f"{self.name} to answer and get partitions",
                        lambda: (lambda s: s if s and s.get("consumer", {}).get("assigned") else None)(
                            self.status()), timeout)

    def assignment(self, status=None):
        status = status or self.status() or {}
        return {p["partition"] for p in status.get("consumer", {}).get("partitions", [])}

    def wait_drained(self, timeout, total=None, stall=30.0):
        """Until nothing is in flight and every assigned partition is caught up, seen on two
        polls >= 1.2 s apart with the same consumed count (the consumer refreshes partition
        figures once a second). With `total`, also until exactly that many were consumed.
        Fails early when vigild is not there yet and makes no progress for `stall` seconds."""
        first = {}
        progress = {"at": time.monotonic(), "figures": None}

        def probe():
            s = self.status()
            if not s or not drained(s) or (total is not None and s["consumer"]["consumed"] != total):
                first.clear()
                now = time.monotonic()
                figures = s and (s["consumer"]["consumed"], s["pipeline"]["completed"], s["consumer"]["assigned"])
                if figures != progress["figures"]:
                    progress.update(at=now, figures=figures)
                elif now - progress["at"] >= stall:
                    raise CaseFailure(
                        f"{self.name} made no progress for {stall:.0f} s and is not done"
                        + (f" ({total} messages due)" if total is not None else "") + ": consumed "
                        + (f"{s['consumer']['consumed']}, completed {s['pipeline']['completed']}, "
                           f"assigned {s['consumer']['assigned']}, paused {s['consumer']['paused']}, "
                           f"in flight {s['consumer']['in_flight']}" if s else "? (no status)"))
                return None
            now = time.monotonic()
            if not first or first["consumed"] != s["consumer"]["consumed"]:
                first.update(t=now, consumed=s["consumer"]["consumed"])
                return None
            return s if now - first["t"] >= 1.2 else None

        return wait_for(f"{self.name} to consume and complete everything"
                        + (f" ({total} messages)" if total is not None else ""), probe, timeout)

    def terminate(self, timeout=45):
        """SIGTERM and wait; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise CaseFailure(f"{self.name} did not exit within {timeout} s of SIGTERM") from None

    def tail(self, n=25):
        status = json.dumps({k: self.last_status.get(k) for k in ("consumer", "pipeline")}) \
            if self.last_status else "none"
        return super().tail(n, footer=[f"--- {self.name} last status: {status}"])


def drained(s):
    c, p = s.get("consumer"), s.get("pipeline")
    if not c or not p or not c["assigned"] or not c["partitions"]:
        return False
    for part in c["partitions"]:
        if part["high_watermark"] < 0:
            return False  # not fetched yet
        if part["committed"] >= 0 and part["lag"] != 0:
            return False
        # committed -1 with lag -1: nothing consumed from it since the assignment (librdkafka
        # reports no position before the first message); it is caught up iff it stays so.
    return (c["in_flight"] == 0 and p["queued"] == 0
            and p["completed"] == p["consumed"] == c["consumed"])


# ----------------------------------------------------------------------------------- kafka


class Topics:
    def __init__(self, case):
        self.posts, self.hits, self.dlq = (f"it.{case}.posts", f"it.{case}.hits", f"it.{case}.dlq")


class Env(harness.Env):
    def __init__(self, args):
        super().__init__(args, prefix="vigil-kafka-it.", tools=TOOLS)
        self.kafka_sh = os.path.join(self.src, "tests", "kafka", "kafka.sh")
        self.gen_corpus = os.path.join(self.src, "tests", "bench", "gen_corpus.py")
        self.broker_dir = os.path.join(self.tmp, "broker")
        self.bootstrap = None

    def kafka(self, *args, timeout=180):
        out, _ = run([self.kafka_sh, *args], f"kafka.sh {' '.join(args[:1])}", timeout)
        return out.decode().strip()

    def start_broker(self):
        self.kafka("fetch", timeout=600)
        bootstrap = self.kafka("start", self.broker_dir).splitlines()[-1]
        check(re.fullmatch(r"127\.0\.0\.1:\d+", bootstrap), f"broker bootstrap is not loopback: {bootstrap!r}")
        self.bootstrap = bootstrap

    def create_topics(self, topics):
        jobs = []
        for t in topics:
            jobs += [(t.posts, 3), (t.hits, 3), (t.dlq, 1)]
        pool = ThreadPoolExecutor(max_workers=4)  # a JVM each; 4 at a time suit 2 cores
        try:
            for f in [pool.submit(self.kafka, "create-topic", self.broker_dir, name, str(n)) for name, n in jobs]:
                f.result()
        finally:
            # interrupted: do not wait here for the JVMs in flight, the cleanup ends them
            pool.shutdown(wait=False, cancel_futures=True)

    def kcat_produce(self, topic, lines, partition=None):
        """Raw messages with kcat -P, each 'key\\tvalue' (the value may be any bytes but \\n)."""
        data = b"".join(line + b"\n" for line in lines)
        cmd = ["kcat", "-P", "-b", self.bootstrap, "-t", topic, "-K", "\t", "-X", "acks=all",
               "-X", "message.max.bytes=1000000"]
        if partition is not None:
            cmd += ["-p", str(partition)]
        run(cmd, f"kcat -P {topic}", 120, input_bytes=data)

    def vigilctl_produce(self, topic, path):
        _, err = run([self.vigilctl, "produce", "--brokers", self.bootstrap, "--topic", topic, path],
                     f"vigilctl produce {topic}", 180)
        check(" 0 failed" in err, f"vigilctl produce {topic}: {err.strip()}")

    def consume_framed(self, topic):
        """Every message of `topic`: list of (partition, offset, key bytes|None, value bytes)."""
        out, _ = run(["kcat", "-C", "-b", self.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                      "-f", "%p %o %K %S\n%k%s\n"], f"kcat -C {topic}", 120)
        messages, i = [], 0
        while i < len(out):
            nl = out.index(b"\n", i)
            p, o, klen, vlen = (int(x) for x in out[i:nl].split())
            i = nl + 1
            key = out[i:i + klen] if klen >= 0 else None
            i += max(klen, 0)
            value = out[i:i + max(vlen, 0)]
            i += max(vlen, 0)
            check(out[i:i + 1] == b"\n", f"kcat -C {topic}: cannot parse its output at byte {i}")
            i += 1
            messages.append((p, o, key, value))
        return messages

    def consume_json(self, topic):
        """Every message of `topic` as kcat's -J envelope (headers as a dict)."""
        out, _ = run(["kcat", "-C", "-b", self.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-J"],
                     f"kcat -C -J {topic}", 120)
        messages = []
        for line in out.decode("utf-8", "surrogateescape").splitlines():
            m = json.loads(line)
            h = m.get("headers") or []
            m["headers"] = dict(zip(h[0::2], h[1::2]))
            messages.append(m)
        return messages

    def hits(self, topic):
        """hit_id -> list of (key, hit dict) for every message on the hits topic."""
        by_id = collections.defaultdict(list)
        for m in self.consume_json(topic):
            hit = json.loads(m["payload"])
            by_id[hit["hit_id"]].append((m["key"], hit))
        return by_id

    def corpus(self, name, count, seed, hit_rate=0.2):
        path = os.path.join(self.tmp, f"{name}.jsonl")
        run([sys.executable, self.gen_corpus, "--count", str(count), "--seed", str(seed),
             "--hit-rate", str(hit_rate), "--out", path], f"gen_corpus {name}", 120)
        return path

    def expected_hits(self, path):
        """hit_id -> hit dict from `vigilctl match` (fails on a duplicate hit_id)."""
        out, _ = run([self.vigilctl, "match", "--rules", self.rules, "--cache-dir", self.rules_cache, path],
                     f"vigilctl match {os.path.basename(path)}", 300)
        expected = {}
        for line in out.decode().splitlines():
            hit = json.loads(line)
            check(hit["hit_id"] not in expected, f"vigilctl match gave hit_id {hit['hit_id']} twice")
            expected[hit["hit_id"]] = hit
        check(expected, f"vigilctl match {path}: no hits at all; the corpus is useless")
        return expected


def compare_hits(expected, got, allow_duplicates):
    """Asserts every expected hit_id is on the hits topic and nothing else is; returns
    (extra copies, hit_ids with duplicates, posts with duplicated hits)."""
    missing = set(expected) - set(got)
    unexpected = set(got) - set(expected)
    check(not missing, f"{len(missing)} of {len(expected)} expected hits missing from the hits topic, "
                       f"e.g. {sorted(missing)[:3]}")
    check(not unexpected, f"{len(unexpected)} hits not produced by vigilctl match, e.g. {sorted(unexpected)[:3]}")
    dup_ids = [h for h, copies in got.items() if len(copies) > 1]
    extra = sum(len(got[h]) - 1 for h in dup_ids)
    if not allow_duplicates:
        check(not dup_ids, f"{len(dup_ids)} hit_ids appear more than once (e.g. {dup_ids[:3]})")
    for hit_id, copies in got.items():
        for key, hit in copies:
            check(key == hit["incident_key"], f"hit {hit_id}: key {key!r} is not its incident_key")
    return extra, len(dup_ids), len({got[h][0][1]["post_id"] for h in dup_ids})


def wait_complete(env, vigilds, hits_topic, expected, timeout):
    """Until every vigild is drained and every expected hit is on the hits topic. A partition
    from which a vigild consumed nothing since its assignment shows no position, so "drained"
    alone cannot tell caught up from stuck: a vigild that looks idle, consumes nothing for
    `stall` seconds and still owes hits has stalled. Returns (statuses, hits)."""
    stall = 15.0
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        statuses = [v.wait_drained(timeout=max(1.0, deadline - time.monotonic())) for v in vigilds]
        got = env.hits(hits_topic)
        missing = set(expected) - set(got)
        if not missing:
            return statuses, got
        consumed = tuple(s["consumer"]["consumed"] for s in statuses)
        now = time.monotonic()
        if consumed != last:
            last, since = consumed, now
        if now - since >= stall or now >= deadline:
            detail = "; ".join(
                f"{v.name}: consumed {s['consumer']['consumed']}, paused {s['consumer']['paused']}, "
                f"rebalances {s['consumer']['rebalances']}, partitions "
                + ", ".join(f"{p['partition']}@{p['committed']}/{p['high_watermark']}" for p in s["consumer"]["partitions"])
                for v, s in zip(vigilds, statuses))
            raise CaseFailure(f"{len(missing)} of {len(expected)} expected hits missing and vigild consumed nothing "
                              f"for {now - since:.0f} s although its partitions have more (stalled): {detail}")
        time.sleep(0.5)


def post_ids(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["id"] for line in f if line.strip()]


# ------------------------------------------------------------------------------------ cases


def bad_posts():
    """(key, raw value, expected vigil.reason); sent with max_post_bytes=64KiB."""
    big_body = "填充" * 20000 + " refund please " * 500  # ~127 KB of valid JSON
    return [
        (b"bad-not-json", b"this is not json {", "not_json"),
        (b"bad-truncated", b'{"id":"bad-truncated","body":"cut off in the mid', "not_json"),
        (b"bad-utf8", b'{"id":"bad-utf8","body":"caf\xc3 au lait \xff\xfe broken"}', "not_utf8"),
        (b"bad-no-body", '{"id":"bad-no-body","title":"退款没到账 no body"}'.encode(), "missing_body"),
        (b"bad-no-id", '{"body":"退款一个月了还没到账，客服一直不处理 no id"}'.encode(), "missing_id"),
        (b"bad-deep", b'{"id":"bad-deep","body":"deep","x":' + b"[" * 40 + b"1" + b"]" * 40 + b"}", "too_deep"),
        (b"bad-large", json.dumps({"id": "bad-large", "body": big_body}, ensure_ascii=False).encode(), "too_large"),
        (b"bad-array", b'[{"id":"bad-array","body":"an array"}]', "not_object"),
        (b"bad-date", b'{"id":"bad-date","body":"refund","created_at":"yesterday"}', "bad_field"),
    ]


def case_clean_run(env, topics, note):
    posts_path = env.corpus("clean", 3000, seed=101)
    expected = env.expected_hits(posts_path)
    valid_ids = post_ids(posts_path)
    bad = bad_posts()
    with open(posts_path, "rb") as f:
        valid = [line.rstrip(b"\n") for line in f if line.strip()]
    # key = post id; the bad posts spread through the stream
    lines, step = [], len(valid) // (len(bad) + 1)
    for i, raw in enumerate(valid):
        lines.append(valid_ids[i].encode() + b"\t" + raw)
        if i % step == step - 1 and i // step < len(bad):
            key, value, _ = bad[i // step]
            lines.append(key + b"\t" + value)
    total = len(lines)
    check(total == len(valid) + len(bad), "test bug: not every bad post was placed")
    env.kcat_produce(topics.posts, lines)
    where = {}  # bad key -> (partition, offset) on the posts topic
    for p, o, key, value in env.consume_framed(topics.posts):
        if key and key.startswith(b"bad-"):
            where[key] = (p, o)
    check(len(where) == len(bad), f"only {len(where)} of {len(bad)} bad posts are on {topics.posts}")

    v = Vigild(env, "clean_run", topics, "it-clean", ["pipeline.max_post_bytes=64KiB"]).start()
    v.wait_assigned()
    s = v.wait_drained(timeout=90, total=total)
    note(f"{total} messages consumed")

    # hits: exactly vigilctl match's, no duplicates, same JSON
    got = env.hits(topics.hits)
    compare_hits(expected, got, allow_duplicates=False)
    for hit_id, [(key, hit)] in got.items():
        if hit != expected[hit_id]:
            diff = {k: (hit.get(k), expected[hit_id].get(k)) for k in set(hit) | set(expected[hit_id])
                    if hit.get(k) != expected[hit_id].get(k)}
            raise CaseFailure(f"hit {hit_id} differs from vigilctl match's: (hits topic, vigilctl) {diff}")

    # DLQ: each bad post once, byte-identical, with its reason and origin
    framed = env.consume_framed(topics.dlq)
    envelopes = {(m["partition"], m["offset"]): m for m in env.consume_json(topics.dlq)}
    check(len(framed) == len(bad), f"{len(framed)} messages on the DLQ, expected {len(bad)}")
    seen = collections.Counter(key for _, _, key, _ in framed)
    for key, value, reason in bad:
        check(seen[key] == 1, f"bad post {key.decode()} is on the DLQ {seen[key]} times")
        [(p, o, _, dlq_value)] = [m for m in framed if m[2] == key]
        check(dlq_value == value, f"bad post {key.decode()}: DLQ value differs from what was sent "
                                  f"({len(dlq_value)} vs {len(value)} bytes)")
        headers = envelopes[(p, o)]["headers"]
        want = {"vigil.reason": reason, "vigil.source.topic": topics.posts,
                "vigil.source.partition": str(where[key][0]), "vigil.source.offset": str(where[key][1])}
        for h, w in want.items():
            check(headers.get(h) == w, f"bad post {key.decode()}: header {h} is {headers.get(h)!r}, expected {w!r}")
        check(headers.get("vigil.detail"), f"bad post {key.decode()}: no vigil.detail header")

    # the status counters agree
    c, p = s["consumer"], s["pipeline"]
    reasons = collections.Counter(r for _, _, r in bad)
    want = {"consumer.consumed": total, "consumer.in_flight": 0, "consumer.lag": 0,
            "pipeline.consumed": total, "pipeline.completed": total, "pipeline.matched": len(valid),
            "pipeline.hits": len(expected), "pipeline.hits_produced": len(expected),
            "pipeline.dead_lettered": len(bad), "pipeline.delivery_failures": 0, "pipeline.queued": 0}
    for reason in p["invalid"]:
        want[f"pipeline.invalid.{reason}"] = reasons.get(reason, 0)
    have = {"consumer." + k: c[k] for k in ("consumed", "in_flight", "lag")}
    have.update({"pipeline." + k: p[k] for k in ("consumed", "completed", "matched", "hits", "hits_produced",
                                                 "dead_lettered", "delivery_failures", "queued")})
    have.update({"pipeline.invalid." + k: n for k, n in p["invalid"].items()})
    wrong = {k: (have.get(k), w) for k, w in want.items() if have.get(k) != w}
    check(not wrong, f"/api/v1/status disagrees (have, want): {wrong}")
    check(sorted(c["partitions"][i]["partition"] for i in range(len(c["partitions"]))) == [0, 1, 2],
          f"status shows partitions {c['partitions']}")
    check(sum(part["committed"] for part in c["partitions"]) == total,
          f"stored offsets {[part['committed'] for part in c['partitions']]} do not add up to {total}")

    rc = v.terminate()
    check(rc == 0, f"vigild exited {rc} on SIGTERM")

    # Restarted (same state.dir, so the same state store) and then as a new instance (a fresh
    # state.dir: Kafka's committed offsets), vigild must resume right after what the first one
    # did: once it fetches every partition, one new marker post per partition must be all it
    # consumes.
    for round_, (name, state, what) in enumerate([
            ("clean_run.restart", "clean_run", "restarted with the same state.dir"),
            ("clean_run.fresh", "clean_run.fresh", "a new vigild (own state.dir) in the same group")]):
        v2 = Vigild(env, name, topics, "it-clean", ["pipeline.max_post_bytes=64KiB"], state=state).start()
        v2.wait_assigned()
        wait_for(f"{name} to fetch every partition",
                 lambda: (lambda s: s and len(s["consumer"]["partitions"]) == 3
                          and all(x["high_watermark"] >= 0 for x in s["consumer"]["partitions"]))(v2.status()), 60)
        for part in range(3):
            marker = f"marker-{round_}-{part}"
            env.kcat_produce(topics.posts, [marker.encode() + b"\t"
                                            + json.dumps({"id": marker, "body": "hello again"}).encode()],
                             partition=part)
        s2 = v2.wait_drained(timeout=60)
        c2 = s2["consumer"]["consumed"]
        check(c2 == 3, f"{what} consumed {c2} messages, {c2 - 3} of them already done before (only the 3 new "
                       f"markers were due){store_offsets_note(v2, topics.posts)}")
        rc = v2.terminate()
        check(rc == 0, f"{name} exited {rc} on SIGTERM")
    return (f"{len(valid)} posts + {len(bad)} bad, {len(expected)} hits equal vigilctl's, "
            f"DLQ byte-identical, resumed exactly after a restart and in a new instance")


def store_offsets_note(v, topic):
    """For a failure message: the offsets the vigild's state store holds for `topic` and
    the ends of its partitions (read-only; the schema is vigild's business, so best effort)."""
    try:
        import sqlite3
        db = sqlite3.connect(f"file:{os.path.join(v.state_dir, 'vigil.db')}?mode=ro", uri=True, timeout=5)
        try:
            rows = db.execute("SELECT partition, next_offset FROM offsets WHERE topic = ?", (topic,)).fetchall()
        finally:
            db.close()
        ends = {p["partition"]: p["high_watermark"] for p in (v.last_status or {}).get("consumer", {}).get("partitions", [])}
        return f"; state store offsets {dict(sorted(rows))}, partition ends {ends}"
    except Exception as e:  # noqa: BLE001 - only a diagnostic
        return f"; (state store offsets unreadable: {e})"


class Streamer:
    """Sends a posts file through one `kcat -P` at a steady rate, on a thread, so that
    vigild works on a live stream (as in production) rather than on a backlog."""

    def __init__(self, env, topic, path, rate_per_s):
        with open(path, "rb") as f:
            raws = [line.rstrip(b"\n") for line in f if line.strip()]
        self.lines = [json.loads(raw)["id"].encode() + b"\t" + raw + b"\n" for raw in raws]
        self.rate = rate_per_s
        self.err_path = os.path.join(env.tmp, "logs", f"stream.{topic}.err")
        os.makedirs(os.path.dirname(self.err_path), exist_ok=True)
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(["kcat", "-P", "-b", env.bootstrap, "-t", topic, "-K", "\t",
                                          "-X", "acks=all"], stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=err)
        with _children_lock:
            _children.add(self.proc)
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        chunk = max(1, self.rate // 20)  # every 50 ms
        t0 = time.monotonic()
        try:
            for i in range(0, len(self.lines), chunk):
                delay = t0 + i / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.proc.stdin.write(b"".join(self.lines[i:i + chunk]))
                self.proc.stdin.flush()
            self.proc.stdin.close()
        except (OSError, ValueError) as e:
            self.error = f"writing to kcat -P: {e}"

    def finish(self, timeout=120):
        self.thread.join(timeout)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise CaseFailure("kcat -P (stream) did not finish") from None
        finally:
            with _children_lock:
                _children.discard(self.proc)
        check(self.error is None, self.error or "")
        with open(self.err_path, errors="replace") as f:
            err = f.read()
        check(self.proc.returncode == 0, f"kcat -P (stream) exit code {self.proc.returncode}: {err[-500:]}")


def case_kill_restart(env, topics, note, posts_path, expected):
    total = len(post_ids(posts_path))
    capacity = 4096  # pipeline.queue_capacity: the consumer's bound on posts in flight
    commit_interval = 1.0  # auto.commit.interval.ms of vigild's consumer (kafka_consumer.cc)
    rate = 3000  # posts/s: the stream lasts total / rate seconds
    a = Vigild(env, "kill_restart.a", topics, "it-kill", [f"pipeline.queue_capacity={capacity}"]).start()
    a.wait_assigned()
    stream = Streamer(env, topics.posts, posts_path, rate)
    history = []  # (time, completed) of every poll

    def far_enough():
        s = a.status()
        if not s:
            return None
        now, completed = time.monotonic(), s["pipeline"]["completed"]
        history.append((now, completed))
        if completed == 0 or s["pipeline"]["hits_produced"] == 0:
            return None
        started = next(t for t, c in history if c > 0)
        # well into the stream, several auto-commits behind us, well before its end
        return s if now - started >= 5 * commit_interval or completed >= total * 0.7 else None

    at_kill = wait_for("vigild to have completed a good part of the stream", far_enough, 90, interval=0.02)
    a.kill()
    t_kill = history[-1][0]
    started = next(t for t, c in history if c > 0)
    consumed_a, completed_a = at_kill["consumer"]["consumed"], at_kill["pipeline"]["completed"]
    check(completed_a < total, f"vigild completed all {total} posts before the SIGKILL")
    # Posts completed within the last two auto-commit intervals before the kill: the committed
    # offsets are those stored at the last auto-commit (<= 1 interval ago), and a stored offset
    # also waits for every earlier post of its partition (and the acks of their hits).
    earlier = [c for t, c in history if t <= t_kill - 2 * commit_interval]
    recent = completed_a - (earlier[-1] if earlier else 0)
    note(f"SIGKILL at >= {consumed_a} consumed, {completed_a} completed of {total} streamed at {rate}/s, "
         f"{t_kill - started:.1f} s after the first completion ({recent} completed in the last "
         f"{2 * commit_interval:.0f} s)")

    b = Vigild(env, "kill_restart.b", topics, "it-kill", [f"pipeline.queue_capacity={capacity}"],
               state="kill_restart.a").start()
    stream.finish()  # the stream goes on while vigild is down
    b.wait_assigned()
    [s], got = wait_complete(env, [b], topics.hits, expected, timeout=120)
    consumed_b = s["consumer"]["consumed"]
    extra, dup_ids, dup_posts = compare_hits(expected, got, allow_duplicates=True)
    # The restart (same state.dir) resumes from the offsets saved before the kill (the state
    # store's, else Kafka's committed ones): it re-reads the `window` posts the first run had
    # consumed after them, i.e. those in flight at the kill (<= capacity) and those completed
    # since the offsets were last saved (Kafka auto-commits every second). Only these may have
    # duplicate hits.
    committed = total - consumed_b
    window = consumed_a - committed  # (the first run may have consumed a few more after our poll)
    margin = 512
    bound = capacity + recent + margin
    note(f"restart consumed {consumed_b} (saved before the kill: {committed}); re-read window {window} "
         f"posts (bound {bound}); duplicates: {extra} extra hit copies of {dup_ids} hit_ids from {dup_posts} posts")
    check(committed > 0, "no offset was saved before the kill: the restart re-read everything")
    check(consumed_b <= total, f"the restart consumed {consumed_b} > {total} posts (duplicates within one run)")
    check(dup_posts <= window + margin,
          f"{dup_posts} posts have duplicate hits, more than the {window} (+{margin}) posts re-read after the restart")
    check(window <= bound, f"the restart re-read {window} posts: more than in flight ({capacity}) + completed "
                           f"in the last two auto-commit intervals ({recent}) + {margin}: offsets were saved too "
                           f"late{store_offsets_note(b, topics.posts)}")
    rc = b.terminate()
    check(rc == 0, f"the restarted vigild exited {rc} on SIGTERM")
    return (f"{total} posts streamed, SIGKILL at {consumed_a} consumed, none of {len(expected)} hits missing; "
            f"duplicates: {extra} hit copies from {dup_posts} posts, re-read window {window} <= {bound}")


def split_file(path, first_count):
    """Writes the first `first_count` lines of `path` and the rest to two files."""
    with open(path, "rb") as f:
        lines = [line for line in f if line.strip()]
    head, tail = path + ".head", path + ".tail"
    with open(head, "wb") as f:
        f.writelines(lines[:first_count])
    with open(tail, "wb") as f:
        f.writelines(lines[first_count:])
    return head, tail


def case_two_daemons(env, topics, note, posts_path, expected):
    total = len(post_ids(posts_path))
    # A small in-flight bound keeps the first vigild paused by backpressure most of the time
    # while it works through a backlog, so the second one joins (and the group rebalances)
    # in the middle of it: scale-out as it happens when a deployment falls behind.
    capacity = 256
    settings = [f"pipeline.queue_capacity={capacity}"]
    backlog, rest = split_file(posts_path, total * 3 // 5)
    env.vigilctl_produce(topics.posts, backlog)
    a = Vigild(env, "two_daemons.a", topics, "it-two", settings).start()
    a.wait_assigned()
    wait_for("the first vigild to be busy with the backlog",
             lambda: (lambda s: s and s["consumer"]["consumed"] >= 1000)(a.status()), 60, interval=0.05)
    b = Vigild(env, "two_daemons.b", topics, "it-two", settings).start()

    def split():
        sa, sb = a.status(), b.status()
        if not sa or not sb:
            return None
        pa, pb = a.assignment(sa), b.assignment(sb)
        if pa and pb and not (pa & pb) and (pa | pb) == {0, 1, 2}:
            return pa, pb, sa
        return None

    pa, pb, sa = wait_for("both vigild to hold disjoint, non-empty sets of the 3 partitions", split, 60)
    note(f"a holds {sorted(pa)}, b holds {sorted(pb)}; a had consumed {sa['consumer']['consumed']} "
         f"of the {total * 3 // 5} backlog (paused: {sa['consumer']['paused']})")
    env.vigilctl_produce(topics.posts, rest)
    (sa, sb), got = wait_complete(env, [a, b], topics.hits, expected, timeout=120)
    check(a.assignment(sa) == pa and b.assignment(sb) == pb,
          f"the assignment changed: a {sorted(a.assignment(sa))}, b {sorted(b.assignment(sb))}")
    ca, cb = sa["consumer"]["consumed"], sb["consumer"]["consumed"]
    check(cb > 0, f"the second vigild consumed nothing (a {ca})")
    extra, _, dup_posts = compare_hits(expected, got, allow_duplicates=True)
    # A rebalance drains and commits what the leaving owner holds, so nothing is read twice.
    check(ca + cb == total, f"a consumed {ca} and b {cb}: {ca + cb} messages for {total} posts")
    check(extra == 0, f"{extra} duplicate hits ({dup_posts} posts) after a graceful rebalance")
    for v in (a, b):
        rc = v.terminate()
        check(rc == 0, f"{v.name} exited {rc} on SIGTERM")
    return (f"b joined a mid-backlog: partitions {sorted(pa)} + {sorted(pb)}, consumed {ca} + {cb} "
            f"of {total}, all {len(expected)} hits, no duplicates")


def case_broker_restart(env, topics, note, posts_path, expected, more_path, more_expected):
    total = len(post_ids(posts_path))
    env.vigilctl_produce(topics.posts, posts_path)
    v = Vigild(env, "broker_restart", topics, "it-broker").start()
    v.wait_assigned()
    before = wait_for("vigild to start consuming",
                      lambda: (lambda s: s if s and s["consumer"]["consumed"] >= 1000 else None)(v.status()),
                      60, interval=0.03)
    t = time.monotonic()
    env.kafka("restart", env.broker_dir)
    note(f"broker restarted in {time.monotonic() - t:.1f} s; vigild had consumed "
         f"{before['consumer']['consumed']} of {total} when it began")
    check(v.alive(), f"vigild exited ({v.proc.returncode}) during the broker restart")
    env.vigilctl_produce(topics.posts, more_path)  # and the stream goes on after the restart
    total += len(post_ids(more_path))
    expected = dict(expected, **more_expected)
    [s], got = wait_complete(env, [v], topics.hits, expected, timeout=150)
    extra, _, dup_posts = compare_hits(expected, got, allow_duplicates=True)
    check(v.alive(), "vigild exited")
    note(f"vigild consumed {s['consumer']['consumed']} messages for {total} posts, "
         f"rebalances {s['consumer']['rebalances']}, {extra} duplicate hit copies ({dup_posts} posts), "
         f"delivery failures {s['pipeline']['delivery_failures']}")
    rc = v.terminate()
    check(rc == 0, f"vigild exited {rc} on SIGTERM after the broker restart")
    return f"{total} posts across a broker restart, none of {len(expected)} hits missing, {extra} duplicates"


def case_broker_outage(env, topics, note, posts_path, expected):
    """The broker is down longer than the consumer group session (session.timeout.ms = 10 s)
    while vigild works through a backlog, so vigild is paused by backpressure (its hits cannot
    be delivered) when the session expires and the group rebalances on the broker's return."""
    total = len(post_ids(posts_path))
    session_timeout = 10.0  # vigild's consumer session.timeout.ms (kafka_consumer.cc)
    env.vigilctl_produce(topics.posts, posts_path)
    v = Vigild(env, "broker_outage", topics, "it-outage", ["pipeline.queue_capacity=1024"]).start()
    v.wait_assigned()
    before = wait_for("vigild to be busy with the backlog",
                      lambda: (lambda s: s if s and s["consumer"]["consumed"] >= 1000
                               and s["pipeline"]["hits_produced"] > 0 else None)(v.status()), 60, interval=0.03)
    t = time.monotonic()
    env.kafka("stop", env.broker_dir)
    down = time.monotonic()
    # The outage itself is the stimulus: it must outlast the session.
    while time.monotonic() < down + session_timeout + 3:
        check(v.alive(), f"vigild exited ({v.proc.returncode}) while the broker was down")
        time.sleep(0.5)
    during = v.status()
    env.kafka("start", env.broker_dir)
    note(f"broker down for {time.monotonic() - down:.1f} s (stop + start took {time.monotonic() - t:.1f} s); "
         f"vigild had consumed {before['consumer']['consumed']} of {total} when it went down"
         + (f", {during['consumer']['consumed']} (paused: {during['consumer']['paused']}) during the outage"
            if during else ""))
    [s], got = wait_complete(env, [v], topics.hits, expected, timeout=120)
    extra, _, dup_posts = compare_hits(expected, got, allow_duplicates=True)
    check(v.alive(), "vigild exited")
    note(f"vigild consumed {s['consumer']['consumed']} messages for {total} posts, rebalances "
         f"{s['consumer']['rebalances']}, {extra} duplicate hit copies ({dup_posts} posts)")
    rc = v.terminate()
    check(rc == 0, f"vigild exited {rc} on SIGTERM after the outage")
    return f"{total} posts across a {session_timeout + 3:.0f} s outage, none of {len(expected)} hits missing, {extra} duplicates"


# ------------------------------------------------------------------------------------ main


def prepare(env, only):
    """The broker, every case's topics and the corpora they need; returns the case runner."""
    env.start_broker()
    log(f"broker at {env.bootstrap}")
    topics = {case: Topics(case) for case in only}
    env.create_topics(topics.values())
    log(f"{3 * len(topics)} topics created")
    big = small = None
    if "kill_restart" in only:
        kill = env.corpus("kill", 24000, seed=404)
        kill_expected = env.expected_hits(kill)
    if {"two_daemons", "broker_restart", "broker_outage"} & set(only):
        big = env.corpus("big", 20000, seed=202)
        big_expected = env.expected_hits(big)
    if "broker_restart" in only:
        small = env.corpus("more", 3000, seed=303)
        small_expected = env.expected_hits(small)
    log("corpora generated and matched")
    runners = {
        "clean_run": lambda note: case_clean_run(env, topics["clean_run"], note),
        "kill_restart": lambda note: case_kill_restart(env, topics["kill_restart"], note, kill, kill_expected),
        "two_daemons": lambda note: case_two_daemons(env, topics["two_daemons"], note, big, big_expected),
        "broker_restart": lambda note: case_broker_restart(env, topics["broker_restart"], note, big,
                                                           big_expected, small, small_expected),
        "broker_outage": lambda note: case_broker_outage(env, topics["broker_outage"], note, big, big_expected),
    }
    return lambda case, note: runners[case](note)


def cleanup(env, failures):
    """Ends the helpers in flight and stops the broker (killed if it does not stop, which
    fails the run); on a failure, prints the tails of the broker's logs. Returns how many
    failures it adds."""
    with _children_lock:
        children = list(_children)
    for p in children:
        _end_child(p)
    if env is None or not os.path.isdir(env.broker_dir):
        return 0
    added = 0
    try:
        run([env.kafka_sh, "stop", env.broker_dir], "kafka.sh stop", 60)
    except CaseFailure as e:
        say(f"FAIL cleanup: {e}; killing the broker")
        run([env.kafka_sh, "kill", env.broker_dir], "kafka.sh kill", 30, check_rc=False)
        added += 1
    if failures + added:
        for name in ("server.log", "kafka.log"):
            path = os.path.join(env.broker_dir, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = f.read().splitlines()[-15:]
                say(f"--- broker {name}, last lines:\n" + "\n".join(tail))
    return added


def main():
    return harness.main(
        __doc__, "kafka.integration", CASES, make_env=Env, prepare=prepare, cleanup=cleanup,
        keep_variable="VIGIL_KAFKA_KEEP", tools=TOOLS,
        case_errors=(CaseFailure, AssertionError, OSError, ValueError, KeyError, subprocess.SubprocessError))


if __name__ == "__main__":
    sys.exit(main())
