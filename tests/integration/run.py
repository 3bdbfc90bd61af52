#!/usr/bin/env python3
"""
Runs pollux's integration tests against one binary:

  python3 tests/integration/run.py --bin build/test/pollux --label release

Starts the test backends once (web1 19001, web2 19002, api 19003, hosted [::1]:19004,
sink 19005; nothing listens on 19009), then runs every test_* function of
tests/integration/test_*.py with a fresh pollux each, printing "ok LABEL:name" or
"FAIL LABEL:name: why" per test. POLLUX_ONLY=substring runs only the tests whose name
contains it.
"""
import argparse
import importlib.util
import inspect
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import harness  # noqa: E402

DEFAULT_TIMEOUT = 60
ORDER = ["test_routing.py", "test_bodies.py", "test_connections.py", "test_errors.py"]


class TestTimeout(BaseException):
    pass


def on_alarm(signum, frame):
    raise TestTimeout()


def on_term(signum, frame):
    raise SystemExit(130)


def start_backends(workdir):
    specs = [
        ("web1", "127.0.0.1", 19001, []),
        ("web2", "127.0.0.1", 19002, []),
        ("api", "127.0.0.1", 19003, []),
        ("hosted", "::1", 19004, ["--idle-close", str(harness.HOSTED_IDLE_CLOSE)]),
        ("sink", "127.0.0.1", 19005, ["--sink"]),
    ]
    procs = []
    for name, host, port, extra in specs:
        with open(os.path.join(workdir, "backend-%s.stderr" % name), "ab") as err:
            p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "backend.py"),
                                  "--port", str(port), "--host", host, "--name", name] + extra,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        procs.append((name, p))
    for name, p in procs:
        line = b""
        deadline = time.time() + 10
        # readline blocks; the backends print "ready" at once or die with a traceback
        while time.time() < deadline:
            line = p.stdout.readline()
            if line.startswith(b"ready") or not line:
                break
        if not line.startswith(b"ready"):
            time.sleep(0.2)
            with open(os.path.join(workdir, "backend-%s.stderr" % name), "rb") as f:
                rest = f.read().decode(errors="replace").strip().splitlines()
            return procs, "backend %s did not start: %s" % (name, " / ".join(rest[-3:]))
    # nothing may listen on the "dead" backend's port
    try:
        socket.create_connection(harness.DEAD, timeout=1).close()
        return procs, "something listens on %s:%d, which must be dead" % harness.DEAD
    except OSError:
        pass
    return procs, None


def stop_backends(procs):
    for _, p in procs:
        if p.poll() is None:
            p.kill()
    for _, p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass


def collect():
    tests = []
    files = [fn for fn in os.listdir(HERE) if fn.startswith("test_") and fn.endswith(".py")]
    files.sort(key=lambda fn: (ORDER.index(fn) if fn in ORDER else len(ORDER), fn))
    for fn in files:
        spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(HERE, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        fs = [f for n, f in vars(mod).items()
              if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == mod.__name__]
        fs.sort(key=lambda f: f.__code__.co_firstlineno)
        tests += fs
    return tests


def tail(text, n=25):
    """The last n lines, runs of identical lines collapsed."""
    runs = []
    for ln in text.rstrip("\n").splitlines():
        if runs and runs[-1][0] == ln:
            runs[-1][1] += 1
        else:
            runs.append([ln, 1])
    return "\n".join("    | " + ln + ("   (x%d)" % k if k > 1 else "") for ln, k in runs[-n:])


def run_one(binary, label, f, workdir):
    name = f.__name__
    px = harness.Proxy(binary, workdir)
    reason = None
    limit = getattr(f, "timeout", DEFAULT_TIMEOUT)
    t0 = time.time()
    try:
        harness.clear_logs()
    except Exception as e:
        return "backends unreachable before the test: %s" % e, "", 0.0
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    try:
        px.start()
        f(px)
    except TestTimeout:
        reason = "timed out after %d s" % limit
    except harness.TestFailure as e:
        reason = str(e)
    except AssertionError as e:
        tb = traceback.extract_tb(e.__traceback__)[-1]
        reason = "assertion at %s:%d: %s" % (os.path.basename(tb.filename), tb.lineno, e)
    except Exception as e:
        tb = traceback.extract_tb(e.__traceback__)[-1]
        reason = "%s: %s (at %s:%d)" % (type(e).__name__, e, os.path.basename(tb.filename), tb.lineno)
    except BaseException:
        signal.alarm(0)
        px.stop()
        raise
    finally:
        signal.alarm(0)
    exited_before = px.proc is not None and px.proc.poll() is not None and not px.stopped_by_test
    rc, problem = px.stop()
    log = px.log()
    extra = []
    marks = [m for m in harness.SANITIZER_MARKS if m in log]
    if marks:
        extra.append("pollux's stderr contains %s" % ", ".join(repr(m) for m in marks))
    if rc is not None and rc < 0 and not problem:
        extra.append("pollux died from signal %d (%s)%s" % (
            -rc, signal.Signals(-rc).name, " before SIGTERM" if exited_before else ""))
    elif rc is not None and rc > 0:
        extra.append("pollux exited %d%s" % (rc, " before SIGTERM" if exited_before else
                                               " on SIGTERM"))
    elif exited_before and rc == 0:
        extra.append("pollux exited 0 before SIGTERM")
    if problem:
        extra.append("pollux " + problem)
    if extra:
        reason = "; ".join(([reason] if reason else []) + extra)
    return reason, log, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--label", required=True)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    only = os.environ.get("POLLUX_ONLY", "")
    signal.signal(signal.SIGTERM, on_term)
    out = sys.stdout

    tests = [f for f in collect() if only in f.__name__]
    procs = []
    passed = failed = 0
    t_all = time.time()
    wdir = tempfile.TemporaryDirectory(prefix="pollux-it-")
    wd = wdir.name
    try:
        procs, err = start_backends(wd)
        if err:
            print("FAIL %s:backends: %s" % (a.label, err), flush=True)
            return 1
        if not os.access(binary, os.X_OK):
            print("FAIL %s:binary: %s is not an executable" % (a.label, binary), flush=True)
            return 1
        for f in tests:
            reason, log, dt = run_one(binary, a.label, f, wd)
            dead = [n for n, p in procs if p.poll() is not None]
            if dead:
                why = "backend(s) %s died during the test" % ", ".join(dead)
                reason = "%s; %s" % (reason, why) if reason else why
            if reason:
                failed += 1
                reason = " ".join(reason.split("\n"))
                out.write("FAIL %s:%s: %s\n" % (a.label, f.__name__, reason))
                out.write("    pollux stderr (last lines):\n%s\n" % (tail(log) or "    | (empty)"))
            else:
                passed += 1
                out.write("ok %s:%s\n" % (a.label, f.__name__))
            if os.environ.get("POLLUX_TIMES"):
                out.write("    %.2fs\n" % dt)
            out.flush()
            if dead:
                procs_new, err = restart_dead(procs, wd)
                procs = procs_new
                if err:
                    out.write("FAIL %s:backends: %s\n" % (a.label, err))
                    return 1
    except KeyboardInterrupt:
        out.write("    interrupted\n")
        return 130
    finally:
        stop_backends(procs)
        wdir.cleanup()
    out.write("    %s: %d passed, %d failed in %.0f s\n" % (a.label, passed, failed,
                                                              time.time() - t_all))
    out.flush()
    return 1 if failed else 0


def restart_dead(procs, workdir):
    stop_backends(procs)
    time.sleep(0.2)
    return start_backends(workdir)


if __name__ == "__main__":
    sys.exit(main())
