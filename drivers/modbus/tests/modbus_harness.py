# SPDX-License-Identifier: GPL-3.0-or-later
"""What the Modbus driver's integration tests share: a pymodbus server (modbus_server.py) over
TCP or RTU, a socat pty pair, kith-bus-monitor running a configuration, and register helpers.
Every process is started here and stopped by its own pid."""
import json
import os
import queue
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROFILES = os.path.join(HERE, "..", "profiles")
PYTHON = "/usr/bin/python3"
# the ASan build runs everything about three times slower
SLOW = 3.0 if os.environ.get("KITH_SANITIZED") else 1.0


def bus_monitor_path():
    return os.environ.get("KITH_BUS_MONITOR",
                          os.path.join(SOURCE, "build", "tests", "tools", "kith-bus-monitor"))


def kithd_path():
    return os.environ.get("KITHD", os.path.join(SOURCE, "build", "src", "kithd"))


def f32(value):
    """a float as two registers, high word first (Eastron)"""
    return list(struct.unpack(">HH", struct.pack(">f", value)))


def s16(value):
    return value & 0xFFFF


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Server:
    """modbus_server.py with units described by a dict"""

    def __init__(self, workdir, units, transport="tcp", device=None, baud=19200, port=0):
        self.config = os.path.join(workdir, "server-%d.json" % time.monotonic_ns())
        with open(self.config, "w", encoding="utf-8") as f:
            json.dump({"units": {str(n): spec for n, spec in units.items()}}, f)
        args = [PYTHON, os.path.join(HERE, "modbus_server.py"), self.config, transport]
        args += [str(port)] if transport == "tcp" else [device, str(baud)]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, bufsize=1)
        line = self.process.stdout.readline().split()
        check(line and line[0] == "ready", "the Modbus server did not start")
        self.port = int(line[1]) if transport == "tcp" else None

    def command(self, text):
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def log(self):
        return json.loads(self.command("log"))

    def get(self, unit, table, address, count):
        return json.loads(self.command("get %d %s %d %d" % (unit, table, address, count)))

    def stop(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=3)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class PtyPair:
    """socat's pty pair: kith opens A, the server B (links in a directory of ours)"""

    def __init__(self, workdir):
        self.a = os.path.join(workdir, "ttyA")
        self.b = os.path.join(workdir, "ttyB")
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            ["socat", "pty,raw,echo=0,link=%s" % self.a, "pty,raw,echo=0,link=%s" % self.b],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while not (os.path.exists(self.a) and os.path.exists(self.b)):
            check(time.monotonic() < deadline, "socat made no pty pair")
            time.sleep(0.02)

    def stop(self):
        """the adapter is unplugged: the ptys and their links go"""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait()
        self.process = None
        deadline = time.monotonic() + 5
        while os.path.exists(self.a) or os.path.exists(self.b):
            check(time.monotonic() < deadline, "socat left its links behind")
            time.sleep(0.02)


class Monitor:
    """kith-bus-monitor on a configuration; its JSON events, collected by a thread"""

    def __init__(self, workdir, bus_groups, env=None):
        self.config = os.path.join(workdir, "kith-%d.conf" % time.monotonic_ns())
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("[xmpp]\nDomain=example.net\n\n")
            for name, keys in bus_groups.items():
                f.write("[bus:%s]\nDriver=modbus\n" % name)
                for key, value in keys.items():
                    f.write("%s=%s\n" % (key, value))
                f.write("\n")
        environment = dict(os.environ)
        environment["KITH_MODBUS_PROFILE_DIR"] = PROFILES
        environment.update(env or {})
        self.stderr = open(os.path.join(workdir, "monitor-%d.log" % time.monotonic_ns()), "w+",
                           encoding="utf-8")
        self.process = subprocess.Popen([bus_monitor_path(), self.config],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.stderr, text=True, bufsize=1,
                                        env=environment)
        self.events = []
        self.queue = queue.Queue()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            event["time"] = time.monotonic()
            with self.lock:
                self.events.append(event)
            self.queue.put(event)
        self.queue.put(None)

    def send(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait(self, predicate, timeout, what):
        """the first event from now on that predicate accepts"""
        deadline = time.monotonic() + timeout * SLOW
        while True:
            remaining = deadline - time.monotonic()
            check(remaining > 0, "no %s within %.1f s; stderr:\n%s" % (what, timeout * SLOW,
                                                                       self.log_tail()))
            try:
                event = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            check(event is not None, "kith-bus-monitor ended; stderr:\n%s" % self.log_tail())
            if predicate(event):
                return event

    def seen(self, predicate, timeout, what):
        """the first event so far that predicate accepts, or the next one"""
        with self.lock:
            for event in self.events:
                if predicate(event):
                    return event
        return self.wait(predicate, timeout, what)

    def log_tail(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return "".join(self.stderr.readlines()[-30:])

    def check_exit(self):
        """it ends cleanly when told to: no crash, no sanitizer report, no leak"""
        code = self.stop()
        tail = self.log_tail()
        check(code == 0 and "Sanitizer" not in tail and "runtime error" not in tail,
              "kith-bus-monitor exited %s:\n%s" % (code, tail))

    def stop(self):
        if self.process.poll() is None:
            try:
                self.send("quit")
                self.process.wait(timeout=5 * SLOW)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def is_event(kind, device=None, **fields):
    def predicate(event):
        if event.get("event") != kind or (device is not None and event.get("id") != device):
            return False
        return all(event.get(k) == v for k, v in fields.items())
    return predicate


def requests_of(log, unit, function=None):
    return [entry for entry in log if entry[0] == unit and
            (function is None or entry[1] == function)]


class Suite:
    """runs the test functions given, each with a fresh work directory, and cleans up what
    they started"""

    def __init__(self):
        self.cleanups = []
        self.checks = []

    def add_cleanup(self, function):
        self.cleanups.append(function)

    def add_check(self, function):
        """runs after the test passed; raises if something is wrong"""
        self.checks.append(function)

    def run(self, tests):
        failed = 0
        for test in tests:
            workdir = tempfile.mkdtemp(prefix="kith-modbus-")
            started = time.monotonic()
            try:
                test(self, workdir)
                for function in self.checks:
                    function()
                print("ok %s (%.1f s)" % (test.__name__, time.monotonic() - started), flush=True)
            except Exception as error:  # pylint: disable=broad-except
                failed += 1
                print("FAIL %s: %s" % (test.__name__, error), flush=True)
            finally:
                for cleanup in reversed(self.cleanups):
                    try:
                        cleanup()
                    except Exception:  # pylint: disable=broad-except
                        pass
                self.cleanups = []
                self.checks = []
                shutil.rmtree(workdir, ignore_errors=True)
        print("%d passed, %d failed" % (len(tests) - failed, failed))
        return 1 if failed else 0


def server(suite, workdir, units, **kwargs):
    instance = Server(workdir, units, **kwargs)
    suite.add_cleanup(instance.stop)
    return instance


def monitor(suite, workdir, buses, env=None):
    instance = Monitor(workdir, buses, env)
    suite.add_cleanup(instance.stop)
    suite.add_check(instance.check_exit)
    instance.wait(is_event("started"), 5, "start")
    return instance


def main(tests):
    sys.exit(Suite().run(tests))
