# SPDX-License-Identifier: GPL-3.0-or-later
"""What the MQTT bus tests share: a real mosquitto on a free loopback port (generated
config, stopped by pid), a small MQTT 3.1.1 client on a raw socket (no paho), and
kith-bus-monitor running a kithd configuration's MQTT bus and reporting its devices as
JSON lines."""

import json
import os
import queue
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, 'samples')
BUS_MONITOR = os.environ.get('KITH_BUS_MONITOR', os.path.join(
    HERE, '..', '..', '..', 'build', 'tests', 'tools', 'kith-bus-monitor'))


def sample(name):
    with open(os.path.join(SAMPLES, name), encoding='utf-8') as f:
        return f.read()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class Broker:
    """mosquitto on 127.0.0.1:port; keeps its retained messages across a restart."""

    def __init__(self, workdir, users=None, tls=None):
        self.workdir = workdir
        self.port = free_port()
        self.proc = None
        self.log = os.path.join(workdir, 'mosquitto.log')
        lines = [f'listener {self.port} 127.0.0.1',
                 'persistence true',
                 f'persistence_location {workdir}/',
                 'set_tcp_nodelay true',
                 f'log_dest file {self.log}',
                 'log_type error', 'log_type warning', 'log_type notice',
                 'log_type information']
        if os.geteuid() == 0:
            lines.append('user root')  # else it switches to user mosquitto: our files are ours
        if users:
            passwords = os.path.join(workdir, 'passwords')
            open(passwords, 'w').close()
            for user, password in users.items():
                subprocess.run(['mosquitto_passwd', '-b', passwords, user, password],
                               check=True, capture_output=True)
            lines += ['allow_anonymous false', f'password_file {passwords}']
        else:
            lines.append('allow_anonymous true')
        if tls:
            lines += [f'cafile {tls.ca}', f'certfile {tls.cert}', f'keyfile {tls.key}']
        self.config = os.path.join(workdir, 'mosquitto.conf')
        with open(self.config, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.chmod(self.config, 0o644)

    def start(self):
        self.proc = subprocess.Popen(['mosquitto', '-c', self.config],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(self.port, self.proc):
            raise RuntimeError('mosquitto did not start: ' + self.read_log())
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def read_log(self):
        try:
            with open(self.log, encoding='utf-8', errors='replace') as f:
                return f.read()
        except OSError:
            return ''


class Tls:
    """A private CA and a broker certificate for 127.0.0.1 (IP SAN)."""

    def __init__(self, workdir):
        self.ca = os.path.join(workdir, 'ca.pem')
        self.cert = os.path.join(workdir, 'broker.pem')
        self.key = os.path.join(workdir, 'broker.key')
        ca_key = os.path.join(workdir, 'ca.key')
        csr = os.path.join(workdir, 'broker.csr')
        ext = os.path.join(workdir, 'san.ext')
        with open(ext, 'w') as f:
            f.write('subjectAltName=IP:127.0.0.1,DNS:localhost\n')

        def run(*args):
            subprocess.run(['openssl', *args], check=True, capture_output=True)
        run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', ca_key, '-out',
            self.ca, '-days', '2', '-subj', '/CN=kith test CA')
        run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', self.key, '-out', csr,
            '-subj', '/CN=127.0.0.1')
        run('x509', '-req', '-in', csr, '-CA', self.ca, '-CAkey', ca_key, '-CAcreateserial',
            '-out', self.cert, '-days', '2', '-extfile', ext)
        for path in (self.key, self.cert, self.ca):
            os.chmod(path, 0o644)


class Client:
    """MQTT 3.1.1 over a raw socket: connect, publish (QoS 0/1), subscribe, receive."""

    def __init__(self, port, client_id='test', username=None, password=None, tls_ca=None):
        sock = socket.create_connection(('127.0.0.1', port), timeout=5)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_ca:
            context = ssl.create_default_context(cafile=tls_ca)
            sock = context.wrap_socket(sock, server_hostname='127.0.0.1')
        self.sock = sock
        self.messages = queue.Queue()
        self.acks = queue.Queue()
        self.mid = 0
        self.lock = threading.Lock()
        flags = 0x02
        payload = self._string(client_id)
        if username is not None:
            flags |= 0x80
            payload += self._string(username)
        if password is not None:
            flags |= 0x40
            payload += self._string(password)
        body = self._string('MQTT') + bytes([4, flags]) + struct.pack('>H', 0) + payload
        self._send(0x10, body)
        kind, data = self._read_packet()
        if kind & 0xf0 != 0x20 or data[1] != 0:
            raise ConnectionError(f'CONNACK {data!r}')
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    @staticmethod
    def _string(text):
        data = text.encode() if isinstance(text, str) else text
        return struct.pack('>H', len(data)) + data

    @staticmethod
    def _length(n):
        out = bytearray()
        while True:
            byte = n % 128
            n //= 128
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def _send(self, header, body):
        with self.lock:
            self.sock.sendall(bytes([header]) + self._length(len(body)) + body)

    def _recv(self, n):
        data = b''
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError('closed')
            data += chunk
        return data

    def _read_packet(self):
        header = self._recv(1)[0]
        length, shift = 0, 0
        while True:
            byte = self._recv(1)[0]
            length += (byte & 0x7f) << shift
            shift += 7
            if not byte & 0x80:
                break
        return header, self._recv(length) if length else b''

    def _read_loop(self):
        self.sock.settimeout(None)
        try:
            while True:
                header, data = self._read_packet()
                if header & 0xf0 == 0x30:
                    n = struct.unpack('>H', data[:2])[0]
                    topic = data[2:2 + n].decode()
                    rest = data[2 + n:]
                    if header & 0x06:  # QoS 1: a packet id, and a PUBACK owed
                        self._send(0x40, rest[:2])
                        rest = rest[2:]
                    self.messages.put((topic, rest, time.monotonic()))
                else:
                    self.acks.put(header & 0xf0)
        except (ConnectionError, OSError):
            pass

    def publish(self, topic, payload, retain=False, qos=0):
        if isinstance(payload, str):
            payload = payload.encode()
        body = self._string(topic)
        if qos:
            self.mid += 1
            body += struct.pack('>H', self.mid)
        self._send(0x30 | (qos << 1) | (1 if retain else 0), body + payload)
        if qos:
            self.acks.get(timeout=5)

    def subscribe(self, topic_filter):
        self.mid += 1
        self._send(0x82, struct.pack('>H', self.mid) + self._string(topic_filter) + b'\x01')
        while self.acks.get(timeout=5) != 0x90:
            pass

    def wait_message(self, topic, timeout=5, payload=None):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f'no message on {topic} (payload {payload!r})')
            try:
                got, data, _ = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if got == topic and (payload is None or data.decode() == payload):
                return data.decode()

    def close(self):
        try:
            self._send(0xe0, b'')
            self.sock.close()
        except OSError:
            pass


class Monitor:
    """kith-bus-monitor on a configuration; every event in a queue, stderr in a file."""

    def __init__(self, workdir, bus_config, name='kith'):
        self.config = os.path.join(workdir, f'{name}.conf')
        with open(self.config, 'w') as f:
            f.write('[xmpp]\nDomain=example.net\n\n' + bus_config)
        self.stderr_path = os.path.join(workdir, f'{name}.log')
        self.stderr = open(self.stderr_path, 'w')
        env = dict(os.environ, G_MESSAGES_DEBUG='')
        self.proc = subprocess.Popen([BUS_MONITOR, self.config], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                     env=env)
        self.events = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.events.put((json.loads(line), time.monotonic()))
            except json.JSONDecodeError:
                self.events.put(({'event': 'garbage', 'line': line}, time.monotonic()))
        self.events.put(({'event': 'exit'}, time.monotonic()))

    def wait(self, event, timeout=10, **match):
        """the first event of this kind, received or to come, that was not returned yet and
        whose members equal match (a dict in match: a subset of that member)"""
        deadline = time.monotonic() + timeout
        while True:
            for got in self.seen:
                if (not got.get('_taken') and got.get('event') == event
                        and self._matches(got, match)):
                    got['_taken'] = True
                    return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f'no {event} {match} within {timeout} s; log:\n'
                                     + self.log())
            try:
                got, when = self.events.get(timeout=left)
            except queue.Empty:
                continue
            got['_at'] = when
            self.seen.append(got)
            if got.get('event') == 'exit':
                raise AssertionError('kith-bus-monitor exited; log:\n' + self.log())

    @staticmethod
    def _matches(got, match):
        for key, want in match.items():
            have = got.get(key)
            if isinstance(want, dict):
                if not isinstance(have, dict):
                    return False
                for k, v in want.items():
                    if k not in have or (v is not Ellipsis and have[k] != v):
                        return False
            elif have != want:
                return False
        return True

    def quiet(self, seconds, event=None, **match):
        """asserts no such event for a while"""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                got, _ = self.events.get(timeout=left)
            except queue.Empty:
                return
            self.seen.append(got)
            got['_taken'] = True
            if (event is None or got.get('event') == event) and self._matches(got, match):
                raise AssertionError(f'unexpected {got}')

    def command(self, line):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()

    def log(self):
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.command('quit')
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.stderr.close()

    def kill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.stderr.close()


def publish_until(monitor, client, topic, payload, event, timeout=10, **match):
    """publishes (not retained) until the event comes: a topic the bus just learnt of is
    subscribed a moment after the device appears"""
    deadline = time.monotonic() + timeout
    while True:
        client.publish(topic, payload)
        try:
            return monitor.wait(event, timeout=0.3, **match)
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def fields(event):
    return {f['name']: f for f in event['fields']}


def bus_config(broker, discovery='', extra='', host='127.0.0.1'):
    return (f'[bus:home]\nDriver=mqtt\nBroker={host}\nPort={broker.port}\n'
            f'ClientId=kith-test-home\nDiscovery={discovery}\n{extra}\n')


class Context:
    """a test's temporary directory and the processes and clients it started, stopped after
    it whatever happens"""

    def __init__(self, workdir):
        self.workdir = workdir
        self.stoppers = []
        self.monitors = []

    def broker(self, **kwargs):
        broker = Broker(self.workdir, **kwargs).start()
        self.stoppers.append(broker.stop)
        return broker

    def monitor(self, config, name='kith'):
        monitor = Monitor(self.workdir, config, name)
        self.stoppers.append(monitor.stop)
        self.monitors.append(monitor)
        return monitor

    def client(self, port, **kwargs):
        client = Client(port, **kwargs)
        self.stoppers.append(client.close)
        return client

    def close(self):
        for stop in reversed(self.stoppers):
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop the others all the same
                pass
        self.stoppers = []

    def check_sanitizers(self):
        """a sanitizer build reports to stderr: any report fails the test"""
        for monitor in self.monitors:
            log = monitor.log()
            for mark in ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'):
                if mark in log:
                    raise AssertionError(f'{monitor.stderr_path}: {mark}\n{log}')


def run(tests):
    """runs test functions, each with a fresh Context; exit status for meson"""
    failed = 0
    for test in tests:
        workdir = tempfile.mkdtemp(prefix='kith-mqtt-')
        os.chmod(workdir, 0o755)
        ctx = Context(workdir)
        started = time.monotonic()
        try:
            test(ctx)
            ctx.close()
            ctx.check_sanitizers()
            print(f'ok {test.__name__} ({time.monotonic() - started:.1f} s)', flush=True)
            shutil.rmtree(workdir, ignore_errors=True)
        except Exception as error:  # noqa: BLE001 - report every failure, run the rest
            ctx.close()
            failed += 1
            print(f'FAIL {test.__name__}: {error!r}\n  (kept {workdir})', flush=True)
            import traceback
            traceback.print_exc()
    sys.exit(1 if failed else 0)
