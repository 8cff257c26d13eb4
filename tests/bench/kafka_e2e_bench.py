#!/usr/bin/env python3
"""End-to-end benchmark of vigild through a real Apache Kafka broker on loopback.

What it measures (DESIGN.md, "Performance targets"):

  1. raw     the rate at which `kcat -C` reads the posts topic (N posts, 3 partitions) from
             the beginning to the end: the best of --raw-runs runs, posts/s and MB/s;
  2. vigild  the rate at which vigild (a fresh consumer group, --workers matcher threads,
             the shipped rule packs) consumes that backlog, matches it and produces its hits,
             from its first consumed post until pipeline.completed == N (status counters
             sampled every --sample-ms, so start-up, rule compilation and the group join are
             excluded); target: at least 70% of the raw rate. vigild's RSS is sampled at the
             same time (VmRSS); target: flat (after the first 20% of the run the peak stays
             within 10% of the RSS at that point);
  3. latency with vigild caught up, posts are produced at half vigild's measured rate for
             --latency-seconds (a paced pipe into `vigilctl produce`); for every such post
             with hits: hit timestamp - post timestamp, p50/p95/p99/max in ms; target: p99
             under 100 ms. The post's timestamp is its CreateTime (set by the producer when
             the post is handed to librdkafka); the hit's is, by default, its LogAppendTime
             (the hits topic is created with message.timestamp.type=LogAppendTime, so the
             broker stamps a hit when it is durable in the log). All clocks are this host's.

It prints one JSON object with every figure on stdout and progress and a human summary on
stderr, and exits 0 whether or not the targets are met (it is a benchmark, not a test);
1 only when the benchmark itself could not run (the JSON then has "error").

Python 3.11, standard library only. Needs java 17 + the Kafka jars (tests/kafka/kafka.sh),
kcat, and the release build (ninja -C build/release). Typical use:

  tests/bench/kafka_e2e_bench.py --posts 50000                 # quick check (~1 min)
  tests/bench/kafka_e2e_bench.py > build/kafka_e2e.json        # 1M posts (the default)
  tests/bench/kafka_e2e_bench.py --brokers 127.0.0.1:9092 ...  # reuse a running broker

The corpus (tests/bench/gen_corpus.py) is cached as build/bench-cache/posts-n<N>-s<seed>.jsonl.
The broker, vigild and every helper process are stopped on exit, on Ctrl-C and on SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KAFKA_SH = ROOT / "tests" / "kafka" / "kafka.sh"
GEN_CORPUS = HERE / "gen_corpus.py"
TOOL_JVM_OPTS = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                 "-Djava.awt.headless=true"]
LATENCY_ID_PREFIX = "lat"  # latency posts get ids lat<cycle>-<corpus id>

T_START = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - T_START:7.1f}s] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """The benchmark cannot go on (not a missed target)."""


# ------------------------------------------------------------------------------ processes
class Procs:
    """Every long-lived child, so that cleanup can end them whatever happened."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []

    def popen(self, args, **kwargs) -> subprocess.Popen:
        p = subprocess.Popen([str(a) for a in args], **kwargs)
        self.children.append(p)
        return p

    def stop(self, p: subprocess.Popen, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait up to timeout, then SIGKILL. Returns the exit code."""
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"pid {p.pid} ignored SIGTERM for {timeout:.0f}s; killing it")
                p.kill()
                p.wait(10)
            except ProcessLookupError:
                pass
        return p.returncode

    def stop_all(self) -> None:
        for p in reversed(self.children):
            if p.poll() is None:
                self.stop(p, 20.0)


PROCS = Procs()


def run(args, *, timeout: float | None = None, check: bool = True, capture: bool = True,
        **kwargs) -> subprocess.CompletedProcess:
    args = [str(a) for a in args]
    try:
        cp = subprocess.run(args, timeout=timeout, text=True,
                            stdout=kwargs.pop("stdout", subprocess.PIPE if capture else None),
                            stderr=kwargs.pop("stderr", subprocess.PIPE if capture else None),
                            **kwargs)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"{' '.join(args[:3])} ...: timed out after {timeout}s") from e
    if check and cp.returncode != 0:
        err = (cp.stderr or "").strip().splitlines()[-5:] if capture else []
        raise BenchError(f"{' '.join(args[:4])} ... exited {cp.returncode}: {' | '.join(err)}")
    return cp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of a process (threads included)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """tid -> (thread name, utime + stime seconds)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, _, rest = f.read().rpartition(")")
            fields = rest.split()
            out[int(tid)] = (head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / CLK_TCK)
        except (OSError, IndexError, ValueError):
            pass
    return out


def thread_cpu_delta(a: dict, b: dict, seconds: float) -> list[dict]:
    """Cores used per thread between two thread_cpu() snapshots, busiest first."""
    rows = []
    for tid, (name, cpu) in b.items():
        used = cpu - a.get(tid, (name, 0.0))[1]
        if used > 0.005 * seconds:
            rows.append({"tid": tid, "name": name, "cores": round(used / seconds, 2)})
    return sorted(rows, key=lambda x: -x["cores"])


def all_process_cpu() -> dict[int, tuple[str, float]]:
    """pid -> (command name, utime + stime seconds) of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    head, _, rest = f.read().rpartition(")")
                fields = rest.split()
                out[int(entry)] = (head.split("(", 1)[1],
                                   (int(fields[11]) + int(fields[12])) / CLK_TCK)
            except (OSError, IndexError, ValueError):
                pass
    return out


def other_cpu_delta(a: dict, b: dict, seconds: float, own: set[int], top: int = 6) -> dict:
    """CPU used by processes other than own between two all_process_cpu() snapshots
    (contention the benchmark did not cause): the busiest few by name, and their total."""
    used: dict[str, float] = {}
    for pid, (name, cpu) in b.items():
        if pid in own:
            continue
        d = cpu - a.get(pid, (name, 0.0))[1]
        if d > 0:
            used[name] = used.get(name, 0.0) + d
    rows = sorted(used.items(), key=lambda kv: -kv[1])
    return {"total_cores": round(sum(used.values()) / seconds, 2),
            "busiest": [{"name": n, "cores": round(c / seconds, 2)} for n, c in rows[:top]
                        if c / seconds >= 0.01]}


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return float(sum(v) - idle), float(sum(v))


def loadavg() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def broker_port_matches(args: list[str], port: int) -> bool:
    """Is this command line a Kafka broker listening on port (per its server.properties)?"""
    if "kafka.Kafka" not in args:
        return False
    i = args.index("kafka.Kafka")
    try:
        text = Path(args[i + 1]).read_text() if i + 1 < len(args) else ""
    except OSError:
        return False
    return re.search(rf"^listeners=.*:{port}\b", text, re.M) is not None


def local_broker_pid(port: int) -> int | None:
    """The pid of the local broker listening on port, if it is one (for its CPU figures)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            args = cmdline(int(entry))
            if args and os.path.basename(args[0]) == "java" and broker_port_matches(args, port):
                return int(entry)
    return None


def foreign_processes(own_pids: set[int], reused_port: int | None) -> list[dict]:
    """java and vigild processes that are not this benchmark's (they skew the figures)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid in own_pids or pid == os.getpid():
            continue
        args = cmdline(pid)
        if not args:
            continue
        exe = os.path.basename(args[0])
        if exe not in ("java", "vigild"):
            continue
        if exe == "java" and reused_port is not None and broker_port_matches(args, reused_port):
            continue  # the broker given with --brokers is part of the benchmark
        what = " ".join(args[1:])
        if exe == "java":
            main = next((a for a in args[1:] if not a.startswith("-") and "." in a
                         and "/" not in a and "*" not in a), "")
            what = main + " " + (args[-1] if args[-1] != main else "")
        out.append({"pid": pid, "exe": exe, "what": what.strip()[:160]})
    return out


# ---------------------------------------------------------------------------------- kafka
class Kafka:
    def __init__(self, work: Path, brokers: str | None) -> None:
        self.dir: Path | None = None
        self.reused = brokers is not None
        self.bootstrap = brokers or ""
        self.reused_pid: int | None = None
        self.libs: Path | None = None
        self.work = work

    @property
    def pid(self) -> int | None:
        if self.reused:
            return self.reused_pid
        if self.dir is None:
            return None
        try:
            return int((self.dir / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    @property
    def port(self) -> int:
        return int(self.bootstrap.rsplit(":", 1)[1].split(",")[0])

    def start(self) -> None:
        self.libs = Path(run([KAFKA_SH, "fetch"], timeout=600).stdout.strip())
        if self.reused:
            self.reused_pid = local_broker_pid(self.port)
            return
        self.dir = self.work / "kafka"
        t = time.monotonic()
        self.bootstrap = run([KAFKA_SH, "start", self.dir], timeout=180).stdout.strip()
        log(f"broker {self.bootstrap} started in {time.monotonic() - t:.1f}s ({self.dir})")

    def stop(self) -> None:
        if self.dir is None:
            return
        cp = run([KAFKA_SH, "stop", self.dir], timeout=60, check=False)
        if cp.returncode != 0:
            run([KAFKA_SH, "kill", self.dir], timeout=30, check=False)

    def topic_command(self, *args: str) -> subprocess.CompletedProcess:
        log4j = self.work / "log4j2-tools.properties"
        if not log4j.exists():
            log4j.write_text("status = error\nappender.err.type = Console\n"
                             "appender.err.name = STDERR\nappender.err.target = SYSTEM_ERR\n"
                             "appender.err.layout.type = PatternLayout\n"
                             "appender.err.layout.pattern = %p %m (%c)%n\n"
                             "rootLogger.level = WARN\nrootLogger.appenderRef.err.ref = STDERR\n")
        return run(["java", *TOOL_JVM_OPTS, f"-Dlog4j2.configurationFile={log4j}",
                    "-cp", f"{self.libs}/*", "org.apache.kafka.tools.TopicCommand",
                    "--bootstrap-server", self.bootstrap, *args], timeout=120, check=False)

    def create_topic(self, name: str, partitions: int, configs: dict[str, str]) -> bool:
        """Creates a topic (replication 1) and waits for its leaders. False: the configs
        were refused (the topic is then created without them)."""
        extra = [x for k, v in configs.items() for x in ("--config", f"{k}={v}")]
        ok = True
        cp = self.topic_command("--create", "--if-not-exists", "--topic", name,
                                "--partitions", str(partitions), "--replication-factor", "1",
                                *extra)
        if cp.returncode != 0 and extra:
            log(f"creating {name} with {configs} failed ({cp.stderr.strip()[:200]}); "
                "creating it without")
            ok = False
            cp = self.topic_command("--create", "--if-not-exists", "--topic", name,
                                    "--partitions", str(partitions), "--replication-factor", "1")
        if cp.returncode != 0:
            raise BenchError(f"cannot create topic {name}: {cp.stderr.strip()[:300]}")
        deadline = time.monotonic() + 30
        while True:
            md = run(["kcat", "-L", "-b", self.bootstrap, "-t", name, "-m", "2"],
                     timeout=30, check=False).stdout
            if len(re.findall(r"^ +partition \d+, leader \d+,", md, re.M)) >= partitions:
                return ok
            if time.monotonic() > deadline:
                raise BenchError(f"topic {name}: not every partition has a leader after 30s")
            time.sleep(0.2)

    def delete_topic(self, name: str) -> None:
        self.topic_command("--delete", "--if-exists", "--topic", name)

    def end_offsets(self, topic: str, partitions: int) -> list[int]:
        args = ["kcat", "-Q", "-b", self.bootstrap]
        for p in range(partitions):
            args += ["-t", f"{topic}:{p}:-1"]
        out = run(args, timeout=60).stdout
        offs = {int(m.group(1)): int(m.group(2))
                for m in re.finditer(r"\[(\d+)\]\s+offset\s+(-?\d+)", out)}
        if len(offs) != partitions:
            raise BenchError(f"kcat -Q {topic}: unexpected answer: {out.strip()[:300]}")
        return [offs[p] for p in range(partitions)]


# --------------------------------------------------------------------------------- vigild
class Vigild:
    """vigild plus a sampler thread: status counters, RSS and CPU every sample_ms."""

    def __init__(self, args, kafka: Kafka, topics: dict[str, str], group: str,
                 work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1/status"
        self.log_path = work / "vigild.log"
        sets = {
            "kafka.brokers": kafka.bootstrap,
            "kafka.group_id": group,
            "kafka.topics.posts": topics["posts"],
            "kafka.topics.hits": topics["hits"],
            "kafka.topics.dlq": topics["dlq"],
            "rules.paths": args.rules,
            "http.listen": f"127.0.0.1:{self.port}",
            "state.dir": str(work / "vigild-state"),
            "pipeline.workers": str(args.workers),
            "log.level": "warn",
        }
        for kv in args.vigild_set:
            k, _, v = kv.partition("=")
            sets[k] = v
        self.settings = sets
        self.argv = [str(args.vigild)] + [x for k, v in sets.items() for x in ("--set", f"{k}={v}")]
        self.kafka = kafka
        self.sample_s = args.sample_ms / 1000.0
        self.samples: list[dict] = []
        self.phase = "start"
        self.lock = threading.Lock()
        self.stop_sampling = threading.Event()
        self.proc: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None
        self.status_errors = 0
        self.exit_code: int | None = None
        self.stop_seconds: float | None = None

    def start(self) -> None:
        self.logfile = open(self.log_path, "ab")
        # its own session: a Ctrl-C reaches this script, which then stops vigild in order
        self.proc = PROCS.popen(self.argv, cwd=ROOT, stdin=subprocess.DEVNULL,
                                stdout=self.logfile, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.thread = threading.Thread(target=self._sample_loop, daemon=True)
        self.thread.start()

    def status(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.url, timeout=2) as r:
                return json.load(r)
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def _sample_loop(self) -> None:
        next_t = time.monotonic()
        while not self.stop_sampling.is_set():
            t = time.monotonic()
            st = self.status()
            sample = {"t": t, "phase": self.phase, "rss_kib": rss_kib(self.proc.pid),
                      "cpu_vigild": cpu_seconds(self.proc.pid),
                      "cpu_broker": cpu_seconds(self.kafka.pid), "cpu_system": system_cpu(),
                      "ok": st is not None}
            if st is not None:
                p, c = st.get("pipeline", {}), st.get("consumer", {})
                sample.update(
                    rules_loaded=st.get("rules", {}).get("loaded", False),
                    version=st.get("version"),
                    consumed=p.get("consumed", 0), completed=p.get("completed", 0),
                    matched=p.get("matched", 0), hits=p.get("hits", 0),
                    hits_produced=p.get("hits_produced", 0),
                    dead_lettered=p.get("dead_lettered", 0),
                    delivery_failures=p.get("delivery_failures", 0), queued=p.get("queued", 0),
                    assigned=c.get("assigned", False), lag=c.get("lag"),
                    in_flight=c.get("in_flight"), paused=c.get("paused"),
                    rebalances=c.get("rebalances"))
            elif any(x["ok"] for x in self.samples[-50:]):
                self.status_errors += 1  # once it answered, a failure counts
            with self.lock:
                self.samples.append(sample)
            next_t += self.sample_s
            self.stop_sampling.wait(max(0.0, next_t - time.monotonic()))

    def latest(self) -> dict | None:
        with self.lock:
            for s in reversed(self.samples):
                if s["ok"]:
                    return s
        return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_for(self, what: str, predicate, timeout: float, stall: float | None = None) -> dict:
        """Waits until predicate(latest sample) holds; BenchError on timeout, on no progress
        of pipeline.completed for `stall` seconds, or when vigild exits."""
        deadline = time.monotonic() + timeout
        last_completed, last_progress = -1, time.monotonic()
        while True:
            if not self.alive():
                raise BenchError(f"vigild exited ({self.proc.returncode}) while waiting for "
                                 f"{what}; log:\n{self.log_tail()}")
            s = self.latest()
            if s is not None and predicate(s):
                return s
            now = time.monotonic()
            if s is not None and s.get("completed", 0) != last_completed:
                last_completed, last_progress = s.get("completed", 0), now
            if stall is not None and s is not None and now - last_progress > stall:
                raise BenchError(f"no progress for {stall:.0f}s while waiting for {what}; "
                                 f"last status: {compact(s)}")
            if now > deadline:
                raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}; "
                                 f"last status: {compact(s) if s else 'none'}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None:
            return
        t = time.monotonic()
        self.exit_code = PROCS.stop(self.proc, 30.0)
        self.stop_seconds = time.monotonic() - t
        self.stop_sampling.set()
        if self.thread is not None:
            self.thread.join(5)
        self.logfile.close()


def compact(s: dict | None) -> str:
    if not s:
        return "none"
    keys = ("consumed", "completed", "hits", "queued", "in_flight", "paused", "lag", "rss_kib")
    return ", ".join(f"{k}={s.get(k)}" for k in keys)


# -------------------------------------------------------------------------------- figures
def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def r(x, nd=1):
    return None if x is None else round(x, nd)


def throughput_figures(samples: list[dict], n: int, base_completed: int) -> dict:
    """posts/s from the first sample that saw a consumed post to the first that saw all
    of them completed, plus the steady rate between 10% and 90% of the backlog."""
    ok = [s for s in samples if s["ok"]]
    first = next((s for s in ok if s["consumed"] > base_completed), None)
    last = next((s for s in ok if s["completed"] >= base_completed + n), None)
    if first is None or last is None or last["t"] <= first["t"]:
        return {"error": "not enough samples"}
    window = [s for s in ok if first["t"] <= s["t"] <= last["t"]]
    done = last["completed"] - first["completed"]
    secs = last["t"] - first["t"]

    def crossing(frac: float) -> dict:
        return next(s for s in window if s["completed"] - base_completed >= frac * n)

    s10, s90 = crossing(0.1), crossing(0.9)
    steady = ((s90["completed"] - s10["completed"]) / (s90["t"] - s10["t"])
              if s90["t"] > s10["t"] else None)
    span = window[-1]["t"] - window[0]["t"]

    def cpu_used(key: str) -> float | None:
        a, b = window[0].get(key), window[-1].get(key)
        return None if a is None or b is None or span <= 0 else (b - a) / span

    busy = window[-1]["cpu_system"][0] - window[0]["cpu_system"][0]
    total = window[-1]["cpu_system"][1] - window[0]["cpu_system"][1]
    in_flight = [s["in_flight"] for s in window if s.get("in_flight") is not None]
    queued = [s["queued"] for s in window if s.get("queued") is not None]
    paused = [s for s in window if s.get("paused")]
    return {
        "seconds": r(secs, 2),
        "posts_completed_in_window": done,
        "posts_per_s": r(done / secs),
        "steady_posts_per_s_10_90": r(steady),
        "hits": last["hits"],
        "hits_produced": last["hits_produced"],
        "dead_lettered": last["dead_lettered"],
        "delivery_failures": last["delivery_failures"],
        "cpu_cores_used": {"vigild": r(cpu_used("cpu_vigild"), 2),
                           "broker": r(cpu_used("cpu_broker"), 2),
                           "machine": r(busy / total * os.cpu_count(), 2) if total else None},
        "consumer": {
            "samples": len(window),
            "paused_fraction": r(len(paused) / len(window), 3),
            "in_flight_mean": r(sum(in_flight) / len(in_flight)) if in_flight else None,
            "in_flight_max": max(in_flight) if in_flight else None,
            "queued_mean": r(sum(queued) / len(queued)) if queued else None,
            "queued_max": max(queued) if queued else None,
        },
        "t_first": first["t"], "t_last": last["t"],
    }


def rss_figures(samples: list[dict], t0: float, t1: float, t_end: float,
                start_rss: int | None) -> dict:
    """RSS over the run [t0, t_end] (the throughput run is [t0, t1]). Flat: from 20% of the
    throughput run to the end, the peak stays within 10% of the reference, the median RSS
    over 20-40% of the throughput run (a median: one sample swings with librdkafka's
    buffers). The slope (least squares from 20% to the end) shows a trend, if any."""
    pts = [(s["t"], s["rss_kib"]) for s in samples if s["rss_kib"] is not None]
    run_pts = [(t, v) for t, v in pts if t0 <= t <= t_end]
    if not run_pts:
        return {"error": "no RSS samples"}
    t20, t40 = t0 + 0.2 * (t1 - t0), t0 + 0.4 * (t1 - t0)
    ref_pts = sorted(v for t, v in run_pts if t20 <= t <= t40) or [run_pts[-1][1]]
    ref = ref_pts[len(ref_pts) // 2]
    after = [(t, v) for t, v in run_pts if t >= t20]
    peak_after = max(v for _, v in after) if after else ref
    slope = None
    if len(after) >= 3:
        mt = sum(t for t, _ in after) / len(after)
        mv = sum(v for _, v in after) / len(after)
        den = sum((t - mt) ** 2 for t, _ in after)
        if den > 0:
            slope = sum((t - mt) * (v - mv) for t, v in after) / den * 60 / 1024  # MiB/min
    tp_end = next((v for t, v in reversed(pts) if t <= t1), None)
    mib = lambda k: None if k is None else round(k / 1024, 1)  # noqa: E731
    return {
        "start_mib": mib(start_rss),
        "reference_mib": mib(ref),
        "peak_mib": mib(max(v for _, v in run_pts)),
        "peak_after_20pct_mib": mib(peak_after),
        # a single-sample spike sets the peak; the p95 shows the level it came back to
        "p95_after_20pct_mib": mib(percentile(sorted(v for _, v in after), 95)) if after else None,
        "end_of_backlog_mib": mib(tp_end),
        "end_mib": mib(run_pts[-1][1]),
        "growth_after_20pct": r(peak_after / ref - 1, 3) if ref else None,
        "slope_mib_per_min_after_20pct": r(slope, 2),
        "flat": peak_after <= 1.10 * ref,
        "samples": len(run_pts),
    }


# ------------------------------------------------------------------------------- phases
def ensure_corpus(args) -> Path:
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"posts-n{args.posts}-s{args.seed}.jsonl"
    if path.exists():
        log(f"corpus: {path} (cached, {path.stat().st_size / 1e6:.0f} MB)")
        return path
    log(f"corpus: generating {args.posts} posts (seed {args.seed}) into {path}")
    t = time.monotonic()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        run([sys.executable, GEN_CORPUS, "--count", args.posts, "--seed", args.seed,
             "--out", tmp], timeout=7200)
        tmp.rename(path)
    finally:
        tmp.unlink(missing_ok=True)
    log(f"corpus: {path.stat().st_size / 1e6:.0f} MB in {time.monotonic() - t:.1f}s")
    return path


def raw_consume(kafka: Kafka, topic: str, runs: int, n: int, payload_bytes: int) -> dict:
    results = []
    for i in range(runs):
        t = time.monotonic()
        cp = run(["kcat", "-C", "-b", kafka.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q"],
                 timeout=3600, stdout=subprocess.DEVNULL, capture=True)
        secs = time.monotonic() - t
        del cp
        results.append({"seconds": round(secs, 3), "posts_per_s": round(n / secs, 1),
                         "mb_per_s": round(payload_bytes / secs / 1e6, 1)})
        log(f"raw consume {i + 1}/{runs}: {secs:.2f}s, {n / secs:,.0f} posts/s, "
            f"{payload_bytes / secs / 1e6:.0f} MB/s")
    best = min(results, key=lambda x: x["seconds"])
    return {"tool": "kcat -C -o beginning -e -q (no consumer group), output to /dev/null",
            "runs": results, "best_seconds": best["seconds"],
            "posts_per_s": best["posts_per_s"], "mb_per_s": best["mb_per_s"]}


def paced_produce(args, kafka: Kafka, topic: str, corpus: Path, rate: float,
                  seconds: float, work: Path, vigild: Vigild) -> dict:
    """Writes rate posts/s for `seconds` into the stdin of a producer, in small bursts every
    2 ms; every post gets a fresh id lat<cycle>-<corpus id>, which is also its key. The
    producer is `kcat -P -K TAB` (acks=all; cheap: it shares the cores with vigild and the
    broker) or, with --latency-producer vigilctl, `vigilctl produce -` (which also validates
    every post: ~40 us of CPU a post).

    First a few warm-up posts (ids warm-..., not measured) go through and the clock starts
    only once vigild completed them: a post's CreateTime is stamped when the producer hands
    it to librdkafka, so posts sent while the producer is still connecting would carry that
    start-up in their latency."""
    total = max(1, int(rate * seconds))
    warmup = 20
    use_kcat = args.latency_producer == "kcat"
    log_path = work / "latency-produce.log"
    with open(log_path, "wb") as plog:
        argv = (["kcat", "-P", "-b", kafka.bootstrap, "-t", topic, "-K", "\t", "-X", "acks=all"]
                if use_kcat else
                [args.vigilctl, "produce", "--brokers", kafka.bootstrap, "--topic", topic, "-"])
        p = PROCS.popen(argv, stdin=subprocess.PIPE, stdout=plog, stderr=subprocess.STDOUT,
                        start_new_session=True)

        def lines(prefix: bytes):
            cycle = 0
            while True:
                with open(corpus, "rb") as f:
                    for line in f:
                        line = line.replace(b'{"id":"', b'{"id":"%s%d-' % (prefix, cycle), 1)
                        if use_kcat:  # key TAB value; compact JSON holds no raw TAB
                            line = line[7:line.index(b'"', 7)] + b"\t" + line
                        yield line
                cycle += 1

        try:
            base = vigild.latest()["completed"]
            warm = lines(b"warm")
            p.stdin.write(b"".join(next(warm) for _ in range(warmup)))
            p.stdin.flush()
            # one through is enough (kcat -P reads its input in blocks and holds a partial
            # one until more comes; the rest of the warm-up goes out with the first posts)
            vigild.wait_for("a warm-up post", lambda s: s.get("completed", 0) > base, timeout=60)
            time.sleep(0.5)
            src = lines(LATENCY_ID_PREFIX.encode())
            sent = 0
            behind_max = 0
            late_50ms = 0  # write rounds that were more than 50 ms behind the schedule
            cpu0 = time.process_time()
            t0 = time.monotonic()
            while sent < total:
                now = time.monotonic()
                due = min(total, int((now - t0) * rate) + 1)
                if due > sent:
                    behind_max = max(behind_max, due - sent)
                    late_50ms += due - sent > rate * 0.05
                    p.stdin.write(b"".join(next(src) for _ in range(due - sent)))
                    p.stdin.flush()
                    sent = due
                time.sleep(0.002)
            elapsed = time.monotonic() - t0
            pacer_cpu = time.process_time() - cpu0  # includes the sampler thread (small)
            producer_cpu = cpu_seconds(p.pid)
            p.stdin.close()
            rc = p.wait(120)
        except BrokenPipeError:
            raise BenchError(f"vigilctl produce exited early: "
                             f"{log_path.read_text(errors='replace')[-500:]}") from None
    if rc != 0:
        raise BenchError(f"vigilctl produce exited {rc}: "
                         f"{log_path.read_text(errors='replace')[-500:]}")
    return {"posts": total, "warmup_posts": warmup, "seconds": round(elapsed, 2),
            "posts_per_s": round(total / elapsed, 1),
            # the largest batch written at once (the pacer was late by max_burst / rate)
            "max_burst": behind_max, "max_burst_ms": round(behind_max / rate * 1000, 1),
            "rounds_late_over_50ms": late_50ms,
            # the producing side shares the machine with vigild and the broker
            "producer": " ".join(os.path.basename(str(a)) for a in argv[:2]),
            "cpu_cores_used": {"pacer": round(pacer_cpu / elapsed, 2),
                               "producer": r(producer_cpu / elapsed if producer_cpu
                                             else None, 2)}}


def consume_since(kafka: Kafka, topic: str, start_ms: int, fmt: str) -> list[str]:
    """Every message of topic from the timestamp start_ms on; fmt: a -f format, or -J."""
    cp = run(["kcat", "-C", "-b", kafka.bootstrap, "-t", topic, "-o", f"s@{start_ms}", "-e", "-q",
              *(["-J"] if fmt == "-J" else ["-f", fmt])], timeout=600)
    return cp.stdout.splitlines()


def latency_figures(kafka: Kafka, topics: dict[str, str], start_ms: int) -> dict:
    posts: dict[str, int] = {}
    for line in consume_since(kafka, topics["posts"], start_ms, "%k %T\n"):
        key, _, ts = line.rpartition(" ")
        if key.startswith(LATENCY_ID_PREFIX):
            posts[key] = int(ts)
    last_hit: dict[str, int] = {}
    hits = 0
    tstypes: dict[str, int] = {}
    # -J: kcat's JSON envelope, which names the timestamp type (create / logappend)
    for line in consume_since(kafka, topics["hits"], start_ms, "-J"):
        try:
            m = json.loads(line)
            post_id = json.loads(m["payload"])["post_id"]
        except (ValueError, KeyError, TypeError):
            continue
        if not post_id.startswith(LATENCY_ID_PREFIX):
            continue
        hits += 1
        tstypes[m.get("tstype", "?")] = tstypes.get(m.get("tstype", "?"), 0) + 1
        last_hit[post_id] = max(last_hit.get(post_id, 0), int(m["ts"]))
    pairs = [(posts[pid], t - posts[pid]) for pid, t in last_hit.items() if pid in posts]
    lat = sorted(x for _, x in pairs)
    # by the second (of the post's timestamp) of the run: when was it slow?
    per_second = []
    if pairs:
        t_min = min(t for t, _ in pairs)
        buckets: dict[int, list[int]] = {}
        for t, x in pairs:
            buckets.setdefault((t - t_min) // 1000, []).append(x)
        for sec in sorted(buckets):
            v = sorted(buckets[sec])
            per_second.append([sec, len(v), percentile(v, 50), percentile(v, 99), v[-1]])
    missing = sum(1 for pid in last_hit if pid not in posts)
    out = {"posts_seen": len(posts), "hits": hits, "posts_with_hits": len(lat),
           "hits_without_post": missing, "hit_timestamp_types": tstypes,
           "per_post": "last hit's timestamp - the post's timestamp"}
    if lat:
        out.update({f"p{q}_ms": percentile(lat, q) for q in (50, 90, 95, 99)})
        out.update({"p99_9_ms": percentile(lat, 99.9), "max_ms": lat[-1], "min_ms": lat[0],
                    "mean_ms": round(sum(lat) / len(lat), 1),
                    "over_100ms": sum(1 for x in lat if x >= 100),
                    "per_second": {"columns": ["second", "posts_with_hits", "p50_ms", "p99_ms",
                                               "max_ms"], "rows": per_second}})
    return out


def build_info(args) -> dict:
    """What was measured: the binary and the source tree it was (presumably) built from,
    taken when vigild starts."""
    st = Path(args.vigild).stat()
    info = {"vigild": str(args.vigild),
            "vigild_mtime": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(st.st_mtime))}
    try:
        info["git_head"] = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                               timeout=10).stdout.strip()
        info["git_modified"] = [line[3:] for line in run(
            ["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
            timeout=10).stdout.splitlines()]
    except (BenchError, OSError):
        pass
    return info


# ----------------------------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="vigild end to end through a real Kafka broker: raw kcat consume rate, "
                    "vigild's rate, RSS, produce-to-hit latency at half load",
        epilog="Prints one JSON object on stdout; progress and a summary on stderr.")
    ap.add_argument("--posts", type=int, default=1_000_000, help="posts in the backlog (1000000)")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed (1)")
    ap.add_argument("--brokers", help="reuse this running broker (host:port) instead of starting "
                                      "one with tests/kafka/kafka.sh")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (broker data, vigild log, samples) and, with "
                         "--brokers, the benchmark's topics; processes are stopped regardless")
    ap.add_argument("--latency-seconds", type=float, default=30.0,
                    help="length of the paced latency run (30); 0 skips it")
    ap.add_argument("--latency-rate", type=float,
                    help="posts/s of the latency run (default: half vigild's measured rate)")
    ap.add_argument("--latency-producer", choices=["kcat", "vigilctl"], default="kcat",
                    help="what the paced posts are piped into: kcat -P (default, cheap) or "
                         "vigilctl produce")
    ap.add_argument("--raw-runs", type=int, default=3, help="kcat consume runs, best taken (3)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help=f"vigild pipeline.workers (cores: {os.cpu_count()})")
    ap.add_argument("--partitions", type=int, default=3, help="partitions of the posts topic (3)")
    ap.add_argument("--hit-timestamps", choices=["log-append", "create"], default="log-append",
                    help="timestamp type of the hits topic (log-append: when the broker stored "
                         "the hit; create: when vigild produced it)")
    ap.add_argument("--sample-ms", type=int, default=200, help="status/RSS sampling period (200)")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                    help="before measuring, wait up to SECONDS until no other java/vigild "
                         "process has run for 30 s (0: don't wait)")
    ap.add_argument("--vigild-set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra vigild --set (repeatable), e.g. pipeline.queue_capacity=8192")
    ap.add_argument("--build-dir", default=str(ROOT / "build" / "release"))
    ap.add_argument("--rules", default=str(ROOT / "rules" / "packs"), help="rules.paths")
    ap.add_argument("--cache-dir", default=str(ROOT / "build" / "bench-cache"),
                    help="where generated corpora are cached")
    ap.add_argument("--out", help="also write the JSON object to this file")
    args = ap.parse_args()
    if args.posts < 1000:
        ap.error("--posts must be at least 1000")
    args.vigild = Path(args.build_dir) / "daemon" / "vigild"
    args.vigilctl = Path(args.build_dir) / "daemon" / "vigilctl"
    for b in (args.vigild, args.vigilctl):
        if not os.access(b, os.X_OK):
            ap.error(f"{b} not found; build first: ninja -C {args.build_dir}")
    for tool in ("kcat", "java"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} not found on PATH (packaging/install-deps.sh installs it)")
    return args


def on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGHUP, on_sigterm)
    wall0 = time.time()
    work = Path(tempfile.mkdtemp(prefix="vigil-kafka-e2e."))
    run_id = f"{int(wall0)}-{os.getpid()}"
    topics = {k: f"vigil.bench.{k}.{run_id}" for k in ("posts", "hits", "dlq")}
    result: dict = {
        "benchmark": "kafka_e2e",
        "params": {"posts": args.posts, "seed": args.seed, "workers": args.workers,
                   "partitions": args.partitions, "latency_seconds": args.latency_seconds,
                   "raw_runs": args.raw_runs, "sample_ms": args.sample_ms,
                   "rules": args.rules, "vigild_set": args.vigild_set,
                   "hit_timestamps": args.hit_timestamps,
                   "latency_producer": args.latency_producer},
        "environment": {"cores": os.cpu_count(), "host": socket.gethostname(),
                        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(wall0)),
                        "loadavg_at_start": loadavg()},
        "topics": topics,
    }
    kafka = Kafka(work, args.brokers)
    vigild: Vigild | None = None
    rc = 0

    def own_pids() -> set[int]:
        s = {p.pid for p in PROCS.children}
        if kafka.pid:
            s.add(kafka.pid)
        return s

    def contention(phase: str) -> None:
        f = foreign_processes(own_pids(), kafka.port if kafka.reused else None)
        result["environment"].setdefault("at_phase_start", {})[phase] = {
            "loadavg": loadavg(), "other_java_vigild": f}
        if f:
            log(f"WARNING: {len(f)} other java/vigild process(es) running during '{phase}': "
                + "; ".join(f"{x['pid']} {x['exe']} {x['what'][:60]}" for x in f))

    try:
        log(f"work directory {work}")
        kafka.start()
        result["environment"]["bootstrap"] = kafka.bootstrap
        result["environment"]["broker"] = "reused" if kafka.reused else "kafka.sh (KRaft, 1 node)"

        corpus = ensure_corpus(args)
        size = corpus.stat().st_size
        payload = size - args.posts  # minus the newlines
        result["corpus"] = {"path": str(corpus), "posts": args.posts, "bytes": payload,
                            "mean_post_bytes": round(payload / args.posts, 1)}

        kafka.create_topic(topics["posts"], args.partitions, {})
        hit_cfg = ({"message.timestamp.type": "LogAppendTime"}
                   if args.hit_timestamps == "log-append" else {})
        if not kafka.create_topic(topics["hits"], 3, hit_cfg):
            result["params"]["hit_timestamps"] = "create (LogAppendTime refused)"
        log(f"topics {topics['posts']} ({args.partitions} partitions), {topics['hits']}")

        # ------------------------------------------------------------------ produce
        t = time.monotonic()
        run([args.vigilctl, "produce", "--brokers", kafka.bootstrap, "--topic", topics["posts"],
             corpus], timeout=7200)
        secs = time.monotonic() - t
        offsets = kafka.end_offsets(topics["posts"], args.partitions)
        if sum(offsets) != args.posts:
            raise BenchError(f"{topics['posts']} holds {sum(offsets)} messages, not {args.posts}")
        result["produce"] = {"tool": "vigilctl produce (acks=all, idempotent)",
                             "seconds": round(secs, 2), "posts_per_s": round(args.posts / secs, 1),
                             "mb_per_s": round(payload / secs / 1e6, 1),
                             "partition_offsets": offsets}
        log(f"produced {args.posts} posts in {secs:.1f}s ({args.posts / secs:,.0f} posts/s); "
            f"partitions {offsets}")

        # ---------------------------------------------------------- wait for quiet
        if args.wait_idle > 0:
            # quiet = no other java/vigild process for 30 s in a row (test suites start
            # brokers one after another; a gap of a few seconds is not the end of them)
            t_wait = time.monotonic()
            quiet_since, last_report = None, 0.0
            while True:
                now = time.monotonic()
                f = foreign_processes(own_pids(), kafka.port if kafka.reused else None)
                if f:
                    quiet_since = None
                elif quiet_since is None:
                    quiet_since = now
                if quiet_since is not None and now - quiet_since >= 30:
                    break
                if now - t_wait > args.wait_idle:
                    log(f"still {len(f)} other java/vigild process(es) after "
                        f"{args.wait_idle:.0f}s; measuring anyway")
                    break
                if f and now - last_report >= 60:
                    last_report = now
                    log(f"waiting (up to {args.wait_idle:.0f}s) for {len(f)} other java/vigild "
                        "process(es) to end: " + ", ".join(f"{x['pid']} {x['exe']}" for x in f))
                time.sleep(5)
            result["environment"]["waited_for_idle_s"] = round(time.monotonic() - t_wait, 1)

        # -------------------------------------------------------------- raw consume
        contention("raw_consume")
        result["raw_consume"] = raw_consume(kafka, topics["posts"], args.raw_runs, args.posts,
                                            payload)

        # --------------------------------------------------------------- throughput
        contention("throughput")
        group = f"vigil-bench-{run_id}"
        # the binary as it is now (others may rebuild the tree while the benchmark runs)
        result["build"] = build_info(args)
        vigild = Vigild(args, kafka, topics, group, work)
        t_launch = time.monotonic()
        vigild.start()
        log(f"vigild started (group {group}, {args.workers} workers, API :{vigild.port})")
        ready = vigild.wait_for("rules loaded", lambda s: s.get("rules_loaded"), 120)
        t_ready = ready["t"]
        first = vigild.wait_for("first consumed post", lambda s: s.get("consumed", 0) > 0, 120)
        threads_first = thread_cpu(vigild.proc.pid)
        procs_first = all_process_cpu()
        self_first = cpu_seconds(os.getpid())
        # the RSS before the first post: the last sample with nothing consumed yet
        with vigild.lock:
            before = [s for s in vigild.samples if s["t"] < first["t"] and s["rss_kib"]]
        start_rss = before[-1]["rss_kib"] if before else first["rss_kib"]
        log(f"vigild: rules loaded after {t_ready - t_launch:.1f}s, first post consumed after "
            f"{first['t'] - t_launch:.1f}s; RSS {start_rss / 1024 if start_rss else 0:.0f} MiB")
        vigild.phase = "throughput"
        last_log = [time.monotonic()]

        def progress(s):
            if time.monotonic() - last_log[0] > 10:
                last_log[0] = time.monotonic()
                log(f"  {compact(s)}")
            return s.get("completed", 0) >= args.posts

        done = vigild.wait_for(f"pipeline.completed == {args.posts}", progress,
                               timeout=max(600, args.posts / 200), stall=60)
        threads_done = thread_cpu(vigild.proc.pid)
        procs_done = all_process_cpu()
        self_done = cpu_seconds(os.getpid())
        with vigild.lock:
            samples = list(vigild.samples)
        tp = throughput_figures(samples, args.posts, 0)
        if "error" in tp:
            raise BenchError(f"throughput: {tp['error']}")
        tp["cpu_cores_used"]["vigild_threads"] = thread_cpu_delta(
            threads_first, threads_done, done["t"] - first["t"])
        # the benchmark's own processes (this script and its children, the broker) are not
        # "other"; the sampler's HTTP requests are counted under vigild and this script
        own = own_pids() | {os.getpid()}
        cores = tp["cpu_cores_used"]
        other = other_cpu_delta(procs_first, procs_done, done["t"] - first["t"], own)
        # processes that start and end between two snapshots are invisible there, so the
        # total is the machine's busy time minus the benchmark's own processes
        cores["this_script"] = r((self_done - self_first) / (done["t"] - first["t"]), 2)
        if None not in (cores["machine"], cores["vigild"]):
            other["total_cores"] = r(max(0.0, cores["machine"] - cores["vigild"]
                                         - (cores["broker"] or 0) - cores["this_script"]), 2)
        cores["other_processes"] = other
        tp["startup_seconds"] = {"rules_loaded": r(t_ready - t_launch, 2),
                                 "first_consumed": r(first["t"] - t_launch, 2)}
        tp["version"] = done.get("version")
        result["vigild"] = tp
        raw_rate = result["raw_consume"]["posts_per_s"]
        ratio = tp["posts_per_s"] / raw_rate
        tp["ratio_to_raw"] = round(ratio, 3)
        log(f"vigild: {args.posts} posts in {tp['seconds']:.1f}s = {tp['posts_per_s']:,.0f} "
            f"posts/s ({ratio:.0%} of raw {raw_rate:,.0f}); {tp['hits']} hits")

        # ------------------------------------------------------------------ latency
        t_end = tp["t_last"]
        if args.latency_seconds > 0:
            contention("latency")
            vigild.phase = "latency"
            rate = args.latency_rate or max(1.0, round(tp["posts_per_s"] / 2))
            start_ms = int(time.time() * 1000) - 1000
            log(f"latency: producing {rate:,.0f} posts/s for {args.latency_seconds:.0f}s")
            base = vigild.latest()["completed"]
            lp = paced_produce(args, kafka, topics["posts"], corpus, rate, args.latency_seconds,
                               work, vigild)
            base += lp["warmup_posts"]
            log(f"latency: sent {lp['posts']} posts in {lp['seconds']:.1f}s "
                f"({lp['posts_per_s']:,.0f} posts/s); waiting for vigild")
            vigild.wait_for(f"pipeline.completed == {base + lp['posts']}",
                            lambda s: s.get("completed", 0) >= base + lp["posts"],
                            timeout=300, stall=60)
            time.sleep(3 * args.sample_ms / 1000)
            with vigild.lock:
                lat_samples = [s for s in vigild.samples if s["phase"] == "latency" and s["ok"]]
            t_end = lat_samples[-1]["t"] if lat_samples else t_end
            lat = latency_figures(kafka, topics, start_ms)
            lat["produce"] = lp
            lat["target_rate_posts_per_s"] = rate
            lat["hit_timestamp"] = ("LogAppendTime (broker)"
                                    if result["params"]["hit_timestamps"] == "log-append"
                                    else "CreateTime (vigild's producer)")
            lat["post_timestamp"] = f"CreateTime ({lp['producer']})"
            if lat_samples:
                lat["consumer"] = {
                    "lag_max": max((s["lag"] or 0) for s in lat_samples),
                    "in_flight_max": max((s["in_flight"] or 0) for s in lat_samples),
                    "queued_max": max((s["queued"] or 0) for s in lat_samples),
                    "paused_samples": sum(1 for s in lat_samples if s.get("paused"))}
            result["latency"] = lat
            if lat.get("posts_with_hits"):
                log(f"latency: {lat['posts_with_hits']} posts with hits: p50 {lat['p50_ms']} ms,"
                    f" p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms")
            else:
                log("latency: no post with hits found")

        with vigild.lock:
            samples = list(vigild.samples)
        result["vigild"]["rss"] = rss_figures(samples, tp["t_first"], tp["t_last"], t_end,
                                              start_rss)
        vigild.phase = "stop"
        vigild.stop()
        result["vigild"]["stop"] = {"exit_code": vigild.exit_code,
                                    "seconds": r(vigild.stop_seconds, 2)}
        result["vigild"]["status_errors"] = vigild.status_errors
        for k in ("t_first", "t_last"):
            result["vigild"].pop(k, None)
        try:
            (work / "samples.jsonl").write_text(
                "".join(json.dumps(s) + "\n" for s in samples))
        except OSError:
            pass
    except BenchError as e:
        log(f"ERROR: {e}")
        result["error"] = str(e)
        rc = 1
    except Exception as e:  # a bug here: still clean up and print what was measured
        import traceback
        traceback.print_exc()
        result["error"] = f"{type(e).__name__}: {e}"
        rc = 1
    except KeyboardInterrupt as e:
        log(f"interrupted ({e or 'Ctrl-C'}); cleaning up")
        result["error"] = "interrupted"
        rc = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if vigild is not None and vigild.proc is not None and vigild.exit_code is None:
            vigild.stop()
        PROCS.stop_all()
        if kafka.reused and not args.keep and kafka.libs is not None:
            for t in topics.values():
                kafka.delete_topic(t)
        kafka.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    result["wall_seconds"] = round(time.time() - wall0, 1)
    finish(result, args)
    return rc


def finish(result: dict, args) -> None:
    raw = result.get("raw_consume", {}).get("posts_per_s")
    v = result.get("vigild", {})
    lat = result.get("latency", {})
    targets = {}
    if raw and v.get("posts_per_s"):
        ratio = v["posts_per_s"] / raw
        targets["throughput_ratio"] = {"value": round(ratio, 3), "target": ">= 0.70",
                                       "met": ratio >= 0.70}
    if lat.get("p99_ms") is not None:
        targets["latency_p99_ms"] = {"value": lat["p99_ms"], "target": "< 100",
                                     "met": lat["p99_ms"] < 100}
    if "rss" in v and "flat" in v["rss"]:
        targets["rss_flat"] = {"value": v["rss"].get("growth_after_20pct"),
                               "target": "peak after the first 20% <= 1.10 x median RSS of 20-40%",
                               "met": v["rss"]["flat"]}
    result["targets"] = targets
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text, flush=True)
    if args.out:
        Path(args.out).write_text(text + "\n")

    # human summary
    w = sys.stderr.write
    w("\n==== kafka_e2e benchmark summary ====\n")
    w(f"posts {args.posts:,} (seed {args.seed}, "
      f"{result.get('corpus', {}).get('mean_post_bytes', '?')} B/post), {args.workers} workers, "
      f"{os.cpu_count()} cores, wall {result['wall_seconds']}s\n")
    if "produce" in result:
        p = result["produce"]
        w(f"produce (vigilctl)  {p['posts_per_s']:>12,.0f} posts/s  {p['mb_per_s']:>7.1f} MB/s\n")
    if raw:
        rc = result["raw_consume"]
        w(f"raw consume (kcat)  {raw:>12,.0f} posts/s  {rc['mb_per_s']:>7.1f} MB/s  "
          f"(best of {len(rc['runs'])})\n")
    if v.get("posts_per_s"):
        w(f"vigild              {v['posts_per_s']:>12,.0f} posts/s  "
          f"(steady 10-90%: {v.get('steady_posts_per_s_10_90') or 0:,.0f}); {v['hits']} hits; "
          f"CPU cores vigild {v['cpu_cores_used']['vigild']}, broker "
          f"{v['cpu_cores_used']['broker']}, machine {v['cpu_cores_used']['machine']}\n")
        o = v["cpu_cores_used"].get("other_processes", {})
        if o.get("total_cores", 0) >= 0.1:
            w(f"  other processes used {o['total_cores']} cores meanwhile (busiest: "
              + (", ".join(f"{x['name']} {x['cores']}" for x in o["busiest"]) or "short-lived")
              + "): the figures are contended\n")
        c = v["consumer"]
        w(f"  consumer: paused in {c['paused_fraction']:.0%} of samples, in_flight mean "
          f"{c['in_flight_mean']} max {c['in_flight_max']}, queued mean {c['queued_mean']} "
          f"max {c['queued_max']}\n")
    if "rss" in v and "flat" in v["rss"]:
        m = v["rss"]
        w(f"RSS (MiB)           start {m['start_mib']}, reference (20-40%) {m['reference_mib']}, "
          f"peak {m['peak_mib']} (p95 {m['p95_after_20pct_mib']}), end {m['end_mib']}, slope "
          f"{m['slope_mib_per_min_after_20pct']}"
          f" MiB/min: {'flat' if m['flat'] else 'NOT flat'}\n")
    if lat.get("p99_ms") is not None:
        w(f"latency (ms)        p50 {lat['p50_ms']}  p95 {lat['p95_ms']}  p99 {lat['p99_ms']}  "
          f"max {lat['max_ms']}  over {lat['posts_with_hits']} posts with hits at "
          f"{lat['produce']['posts_per_s']:,.0f} posts/s\n")
    for name, tgt in targets.items():
        w(f"target {name:<17} {tgt['value']} (want {tgt['target']}): "
          f"{'MET' if tgt['met'] else 'MISSED'}\n")
    others = {x["pid"] for ph in result["environment"].get("at_phase_start", {}).values()
              for x in ph["other_java_vigild"]}
    if others:
        w(f"NOTE: {len(others)} other java/vigild process(es) ran during the measurements; "
          "the figures are contended\n")
    if "error" in result:
        w(f"ERROR: {result['error']}\n")


if __name__ == "__main__":
    sys.exit(main())
