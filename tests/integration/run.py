#!/usr/bin/env python3
"""
Runs pollux's integration tests against one binary:

  python3 tests/integration/run.py --bin build/test/pollux --label release

Makes the test certificates in build/test/tls/ when they are missing (make_certs), then
starts the test backends once (web1 19001, web2 19002, api 19003, hosted [::1]:19004,
sink 19005; nothing listens on 19009), then runs every test_* function of
tests/integration/test_*.py with a fresh pollux each, printing "ok LABEL:name" or
"FAIL LABEL:name: why" per test. POLLUX_ONLY=substring runs only the tests whose name
contains it.
"""
import argparse
import importlib.util
import inspect
import os
import shutil
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


# ---------------------------------------------------------------- test certificates

# what make_certs leaves in build/test/tls/ (harness.TLS_DIR):
#   ca.pem                  the test root CA (self-signed P-256): the only trust anchor
#   int.pem                 an intermediate CA signed by the root; it signs every leaf
#   orig/ecdsa.pem, .key    P-256 leaf: CN localhost, SAN DNS:localhost, IP:127.0.0.1; PKCS#8
#   orig/rsa.pem, .key      RSA 2048 leaf: SAN DNS:rsa.test; key "BEGIN RSA PRIVATE KEY"
#   orig/p384.pem, .key     P-384 leaf: SAN DNS:*.wild.test, DNS:p384.test; "BEGIN EC PRIVATE KEY"
#   new/ecdsa.pem, .key     a replacement for ecdsa (other subject and serial); traditional EC
#   new/rsa.pem, .key       a replacement for rsa (other key and serial); PKCS#8
#   mismatch.key            a P-256 key that matches no certificate (PKCS#8)
#   ecdsa.pem ... p384.key  the live files config.h names: copies of orig/ (restored on every
#                           run, since the reload tests replace them)
# Every chain file holds the leaf then the intermediate. Made only when something is missing.

CERT_FILES = ["ca.pem", "int.pem", "mismatch.key"] + [
    "%s/%s.%s" % (d, n, e) for d, names in (("orig", ("ecdsa", "rsa", "p384")),
                                            ("new", ("ecdsa", "rsa")))
    for n in names for e in ("pem", "key")]

EXT_CA = """[v3]
basicConstraints = critical, CA:TRUE%s
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""
EXT_LEAF = """[v3]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature%s
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = %s
"""


def _openssl(args, cwd, stdin=None):
    p = subprocess.run(["openssl"] + args, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
    return p.stdout


def make_certs():
    """Makes the test PKI in harness.TLS_DIR unless every file is there; then (always) copies
    orig/ over the live files. Returns an error text or None."""
    d = harness.TLS_DIR
    try:
        if not all(os.path.exists(os.path.join(d, f)) for f in CERT_FILES + ["done"]):
            _make_certs(d)
        harness.restore_live_certs()
    except (OSError, RuntimeError) as e:
        return "making the test certificates in %s: %s" % (d, e)
    return None


def _make_certs(final):
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    d = tempfile.mkdtemp(prefix="tls.", dir=parent)
    os.chmod(d, 0o755)
    try:
        _make_certs_in(d)
    except BaseException:
        shutil.rmtree(d, ignore_errors=True)
        raise
    if os.path.exists(final):
        old = final + ".old.%d" % os.getpid()
        os.rename(final, old)
        shutil.rmtree(old, ignore_errors=True)
    os.rename(d, final)


def _make_certs_in(d):
    for sub in ("orig", "new"):
        os.mkdir(os.path.join(d, sub))
    # keys first, all at once (RSA generation is the slow part)
    keys = {
        "ca.key": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "int.key": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "orig/ecdsa.key": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "orig/rsa.key": ["genrsa", "-traditional", "-out", "orig/rsa.key", "2048"],
        "orig/p384.key.p8": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "new/ecdsa.key.p8": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "new/rsa.key": ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "mismatch.key": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    }
    procs = [(k, subprocess.Popen(["openssl"] + a + ([] if "-out" in a else ["-out", k]), cwd=d,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE))
             for k, a in keys.items()]
    for k, p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError("openssl key %s: %s" % (k, err.decode(errors="replace")))
    # the traditional EC form ("BEGIN EC PRIVATE KEY", no EC PARAMETERS block)
    for k in ("orig/p384.key", "new/ecdsa.key"):
        _openssl(["pkey", "-in", k + ".p8", "-traditional", "-out", k], d)
        os.unlink(os.path.join(d, k + ".p8"))

    def ext(name, text):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        return name

    ca_cnf = ext("ca.cnf", "[req]\ndistinguished_name=dn\n[dn]\n" + EXT_CA % "")
    _openssl(["req", "-new", "-x509", "-key", "ca.key", "-subj",
              "/O=pollux tests/CN=pollux test root CA", "-days", "3650", "-set_serial", "1",
              "-config", ca_cnf, "-extensions", "v3", "-out", "ca.pem"], d)
    _openssl(["req", "-new", "-key", "int.key", "-subj",
              "/O=pollux tests/CN=pollux test intermediate CA", "-out", "int.csr"], d)
    _openssl(["x509", "-req", "-in", "int.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-set_serial", "2", "-days", "3650", "-extfile",
              ext("int.ext", EXT_CA % ", pathlen:0"), "-extensions", "v3", "-out", "int.pem"], d)
    leaves = [
        ("orig/ecdsa", "/CN=localhost", "DNS:localhost, IP:127.0.0.1", "", 101),
        ("orig/rsa", "/CN=rsa.test", "DNS:rsa.test", ", keyEncipherment", 102),
        ("orig/p384", "/CN=p384.test", "DNS:*.wild.test, DNS:p384.test", "", 103),
        ("new/ecdsa", "/O=reloaded/CN=localhost", "DNS:localhost, IP:127.0.0.1", "", 201),
        ("new/rsa", "/O=reloaded/CN=rsa.test", "DNS:rsa.test", ", keyEncipherment", 202),
    ]
    with open(os.path.join(d, "int.pem"), "rb") as f:
        int_pem = f.read()
    for base, subj, san, ku, serial in leaves:
        _openssl(["req", "-new", "-key", base + ".key", "-subj", subj, "-out", base + ".csr"], d)
        _openssl(["x509", "-req", "-in", base + ".csr", "-CA", "int.pem", "-CAkey", "int.key",
                  "-set_serial", str(serial), "-days", "3650",
                  "-extfile", ext(base + ".ext", EXT_LEAF % (ku, san)), "-extensions", "v3",
                  "-out", base + ".leaf"], d)
        with open(os.path.join(d, base + ".leaf"), "rb") as f:
            leaf = f.read()
        with open(os.path.join(d, base + ".pem"), "wb") as f:
            f.write(leaf + int_pem)
    with open(os.path.join(d, "done"), "w") as f:
        f.write("made by tests/integration/run.py\n")


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
    limit = int(getattr(f, "timeout", DEFAULT_TIMEOUT) * harness.SLOW)
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
        err = make_certs()
        if err:
            print("FAIL %s:certificates: %s" % (a.label, err), flush=True)
            return 1
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
