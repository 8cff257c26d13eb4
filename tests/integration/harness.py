"""The harness shared by vigild's integration tests (paging_test.py, real_kafka_test.py).

Failing and polling: CaseFailure, check, wait_for, stays. Output: say, log. Loopback:
LOOPBACK, free_port, fetch (HTTP, never through a proxy). Daemon: a vigild with its own log,
dying with this process (PR_SET_PDEATHSIG). Env: the rule packs, a temporary directory,
private copies of the binaries. main: the command line, the cases in order with PASS/FAIL
lines (and log tails), every daemon killed and the temporary directory removed on every exit
path (SIGINT, SIGTERM, SIGHUP too); exit code 0, 1 if a case failed, 130 if interrupted.
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

LOOPBACK = "127.0.0.1"
T0 = time.monotonic()


class CaseFailure(Exception):
    pass


class Interrupted(BaseException):
    pass


def check(condition, message):
    if not condition:
        raise CaseFailure(message)


def say(text):
    try:
        print(text, flush=True)
    except OSError:  # stdout closed (e.g. piped into head): keep going, the cleanup matters more
        pass


def log(message):
    say(f"  [{time.monotonic() - T0:6.1f}s] {message}")


def wait_for(what, probe, timeout, interval=0.05):
    """Polls `probe` (returns a truthy value when done) until `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            shown = f"{timeout:.0f}" if timeout >= 1 else f"{timeout:g}"
            raise CaseFailure(f"timed out after {shown} s waiting for {what}")
        time.sleep(interval)


def stays(what, probe, seconds, interval=0.05):
    """Polls `probe` for `seconds`; fails as soon as it is false (something that must not
    happen, e.g. a page arriving, is bounded by this window)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check(probe(), what)
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


def fetch(method, url, body=None, headers=None, timeout=10):
    """Returns (status, headers, body bytes); HTTP errors are answers, not exceptions."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and isinstance(body, (dict, list)):
        request.add_header("Content-Type", "application/json")
    try:
        with _http.open(request, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# ------------------------------------------------------------------------------- processes

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # vigild must not outlive this test, whatever ends it (even SIGKILL).
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Daemon:
    """A process a case starts (`args`, run in `cwd`), its output appended to `log_path`.
    Every one is in `Daemon.all`: main kills those of a case after it, and all on exit."""

    all = []

    def __init__(self, name, args, log_path, cwd):
        self.name, self.args, self.log_path, self.cwd = name, args, log_path, cwd
        self.proc = None
        Daemon.all.append(self)

    def start(self):
        with open(self.log_path, "ab") as log_file:
            self.proc = subprocess.Popen(self.args, cwd=self.cwd, stdin=subprocess.DEVNULL,
                                         stdout=log_file, stderr=log_file,
                                         preexec_fn=_die_with_parent)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def tail(self, n=30, footer=()):
        """The last `n` lines of the log (then `footer`'s lines), for a failure report."""
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return f"--- {self.name}: no log"
        return "\n".join([f"--- {self.name} (log {self.log_path}), last {min(n, len(lines))} lines:"]
                         + lines[-n:] + list(footer))


def copy_binary(path, dest):
    """Copies `path` to `dest` and returns `dest` once the copy runs `--version`: the
    binary may be rebuilt while a test runs (missing or half-written: retried for 2 min)."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            shutil.copy2(path, dest)
            subprocess.run([dest, "--version"], check=True, capture_output=True, timeout=30)
            return dest
        except (OSError, subprocess.SubprocessError) as e:  # missing or half-written
            if time.monotonic() >= deadline:
                raise CaseFailure(f"{path}: not usable: {e}") from None
            time.sleep(1)


class Env:
    """`src` (--source-dir), its rule packs `rules`, a temporary directory `tmp` (with the
    Hyperscan cache `rules_cache`) and there a private copy of each of `tools` (--vigild,
    ...), as an attribute of the tool's name."""

    def __init__(self, args, prefix, tools=("vigild",)):
        self.src = os.path.abspath(args.source_dir)
        self.rules = os.path.join(self.src, "rules", "packs")
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.rules_cache = os.path.join(self.tmp, "hs-cache")
        for tool in tools:
            setattr(self, tool, copy_binary(getattr(args, tool), os.path.join(self.tmp, "bin", tool)))


# ------------------------------------------------------------------------------------ main


def main(doc, title, cases, make_env, prepare, *, keep_variable, tools=("vigild",),
         case_errors=(Exception,), cleanup=None):
    """Runs the test; returns the exit code.

    `doc`: the script's docstring (its first paragraph describes the command). `title`: the
    name of the last line (`TITLE: passed in ... s`). `cases`: every case, in order.
    `make_env(args)`: the Env (a CaseFailure there is `FAIL setup`, as in `prepare`).
    `prepare(env, only)`: what every selected case needs; returns `run(case, note)`, which
    runs one case and returns its summary (`note(text)` logs a line under the case's name).
    `keep_variable`: an environment variable that, set to 1, keeps the temporary directory
    as --keep does. `tools`: the binaries given on the command line (--NAME PATH).
    `case_errors`: what fails a case (and the next one still runs); anything else ends the
    run. `cleanup(env, failures)`: after the daemons are killed (env may be None); returns how
    many more failures it found.
    """
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    for tool in tools:
        ap.add_argument(f"--{tool}", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--only", help="comma-separated cases to run (default: all): " + ",".join(cases))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    only = args.only.split(",") if args.only else list(cases)
    unknown = set(only) - set(cases)
    if unknown:
        ap.error(f"unknown case(s): {','.join(sorted(unknown))}")

    def on_signal(signum, _frame):
        raise Interrupted(signal.Signals(signum).name)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    env = None
    failures = 0
    interrupted = False
    try:
        env = make_env(args)
        log(f"temporary directory {env.tmp}")
        run = prepare(env, only)
        for case in cases:
            if case not in only:
                continue
            first = len(Daemon.all)
            t = time.monotonic()
            try:
                summary = run(case, lambda m, c=case: log(f"{c}: {m}"))
                say(f"PASS {case} ({time.monotonic() - t:.1f} s): {summary}")
            except case_errors as e:  # a case that breaks reports it and the others still run
                failures += 1
                why = str(e) or type(e).__name__
                if not isinstance(e, CaseFailure):
                    why = f"{type(e).__name__}: {why}"
                say(f"FAIL {case}: {why} ({time.monotonic() - t:.1f} s)")
                for d in Daemon.all[first:]:
                    say(d.tail())
            finally:
                for d in Daemon.all[first:]:
                    d.kill()
    except CaseFailure as e:
        failures += 1
        say(f"FAIL setup: {e}")
    except Interrupted as e:
        interrupted = True
        say(f"FAIL interrupted: {e}")
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # let the cleanup finish
        for d in Daemon.all:
            d.kill()
        if cleanup is not None:
            failures += cleanup(env, failures)
        if env is not None:
            if args.keep or os.environ.get(keep_variable) == "1":
                say(f"kept {env.tmp}")
            else:
                shutil.rmtree(env.tmp, ignore_errors=True)
    elapsed = time.monotonic() - T0
    if interrupted:
        say(f"{title}: interrupted after {elapsed:.1f} s")
        return 130
    say(f"{title}: {'FAILED' if failures else 'passed'} in {elapsed:.1f} s")
    return 1 if failures else 0
