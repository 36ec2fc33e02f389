#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""kithd benchmarks for component mode, side by side with client mode.

    /usr/bin/python3 bench/component.py [--quick]

1. presence: 10,000 sim devices, each with one subscriber (100 contacts of
   a raw component), the time from kithd's start until the subscribers have
   every available presence, at the default PresenceRate and higher ones;
   memory per device and idle wake-ups with the 10,000 devices online, and
   the goodbyes at SIGTERM.
2. churn: 1,000 friends befriend and unfriend devices (RFC 6121
   subscriptions kept by kithd itself); stanzas per second, CPU, and the
   roster in kithd's db empty at the end.
3. readouts: 100 concurrent requesters, closed loop, XEP-0323 readouts;
   readouts per second and latency in component mode and in client mode,
   both worlds up and the timed windows alternating between them.

Every measurement runs in its own fresh Prosody + kithd on 127.0.0.1 (plain
TCP), started through tests/integration/harness.py; the conventions and
helpers are those of bench/run.py (imported).  The peers are bare XEP-0114
components on raw sockets (no XMPP library: slixmpp cannot take stanzas at
these rates).  Prints a markdown table and writes
bench/results-component.md.  See bench/README.md, "Component mode".
"""

import argparse
import hashlib
import os
import re
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
from xml.parsers import expat

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402  (bench/run.py: environment, /proc, helpers)
from run import (context_switches, cpu_ms, fmt_kb, loadavg,  # noqa: E402
                 log_problems, machine_info, percentile, prepare_environment,
                 proc_status, run_step)

harness = run.harness

DEVICES = 'devices'       # kithd's component: <device>@devices.localhost
WATCHERS = 'watchers'     # the subscribers of the presence benchmark
PEOPLE = 'people'         # friends and requesters
SD_NS = 'urn:xmpp:iot:sensordata'
ANNOUNCED_RE = r'component \S+: (\d+) devices announced, presence sent after (\d+) ms'
ALL_ONLINE_RE = r'all (\d+) devices online after (\d+) ms'
COMPONENT_ONLINE_RE = r'component \S+: online'
SETTLE_S = 2.0
FROM = 2          # roster state bit: the contact sees the device

# client-mode figures of bench/README.md (commit 56a5bbd), for the comparison
CLIENT_README = {
    'rss_per_device_off': 19,       # KB, N = 500, TLS off (marginal 18)
    'rss_per_device_on': 76,        # KB, N = 500, TLS on (marginal 70)
    'online_500_off_ms': 8500,      # first start, TLS off
    'online_500_on_ms': 10300,      # first start, TLS on
    'idle_50': 0.00,                # wake-ups per second, 50 devices
}


# ----------------------------------------------------------------------------
# a bare XEP-0114 component


class RawComponent:
    """A component `<name>.localhost` on a plain socket.

    The handshake is XEP-0114's (lowercase hex SHA-1 of the stream id and
    the secret).  Received bytes go to on_data(chunk, monotonic time) in a
    reader thread; send() may be called from any thread, also from
    on_data."""

    def __init__(self, prosody, name, on_data, timeout=15):
        self.jid = prosody.component_jid(name)
        self.on_data = on_data
        self.closed = threading.Event()
        self.error = None
        self.sent = 0            # stanzas sent (as the caller counts them)
        self.bytes_in = 0
        self.cpu_s = 0.0         # CPU time of the reader thread
        self._lock = threading.Lock()
        self.sock = socket.create_connection(
            (prosody.host, prosody.component_port), timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(
            f"<?xml version='1.0'?><stream:stream xmlns='jabber:component:"
            f"accept' xmlns:stream='http://etherx.jabber.org/streams' "
            f"to='{self.jid}'>".encode())
        buf = self._read_until(rb"<stream:stream\b[^>]*>")
        found = re.search(rb"<stream:stream\b[^>]*\bid=['\"]([^'\"]+)['\"]",
                          buf)
        if not found:
            raise RuntimeError(f'{self.jid}: no stream id in {buf[:300]!r}')
        digest = hashlib.sha1(found.group(1) + prosody.component_secret
                              .encode()).hexdigest()
        self.sock.sendall(f'<handshake>{digest}</handshake>'.encode())
        buf = self._read_until(rb'<handshake\s*/>|<handshake>\s*</handshake>'
                               rb'|</stream:stream>', buf[found.end():])
        done = re.search(rb'<handshake\s*/>|<handshake>\s*</handshake>', buf)
        if not done:
            raise RuntimeError(f'{self.jid}: handshake refused: {buf[:300]!r}')
        self.sock.settimeout(None)
        self._rest = buf[done.end():]
        self._thread = threading.Thread(target=self._reader, daemon=True,
                                        name=f'raw-{self.jid}')
        self._thread.start()

    def _read_until(self, pattern, buf=b''):
        while not re.search(pattern, buf):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError(f'{self.jid}: stream closed: {buf[:300]!r}')
            buf += chunk
        return buf

    def _reader(self):
        try:
            if self._rest:
                self.bytes_in += len(self._rest)
                self.on_data(self._rest, time.monotonic())
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    break
                self.bytes_in += len(chunk)
                self.on_data(chunk, time.monotonic())
                self.cpu_s = time.thread_time()
        except OSError as exc:
            if not self.closed.is_set():
                self.error = f'{type(exc).__name__}: {exc}'
        except Exception as exc:  # a bug in a handler: reported, not hidden
            self.error = f'{type(exc).__name__}: {exc}'
            traceback.print_exc()
        finally:
            self.closed.set()

    def send(self, text, stanzas=1):
        with self._lock:
            self.sock.sendall(text.encode())
            self.sent += stanzas

    def close(self):
        if self.closed.is_set() and self.sock.fileno() < 0:
            return
        try:
            self.send('</stream:stream>')
        except OSError:
            pass
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)


class StanzaReader:
    """Incremental parser of a component stream's stanzas: on_stanza(name,
    attrs, children, t) per top-level stanza, children = [(name, attrs)]
    of its direct children (no namespace processing: xmlns is an attribute).
    """

    def __init__(self, on_stanza):
        self.on_stanza = on_stanza
        self.depth = 0
        self.current = None
        self.now = 0.0
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.Parse(b'<stream>', False)  # stands for the stream's root

    def _start(self, name, attrs):
        self.depth += 1          # the root is depth 1, stanzas 2
        if self.depth == 2:
            self.current = (name, attrs, [])
        elif self.depth == 3:
            self.current[2].append((name, attrs))

    def _end(self, name):
        if self.depth == 2:
            name, attrs, children = self.current
            self.current = None
            self.on_stanza(name, attrs, children, self.now)
        self.depth -= 1

    def feed(self, data, now):
        self.now = now
        try:
            self.parser.Parse(data, False)
        except expat.ExpatError as exc:
            lines = data.decode(errors='replace')
            raise RuntimeError(f'{exc} in {lines[-400:]!r}') from None


def bare(jid):
    return jid.split('/', 1)[0]


# ----------------------------------------------------------------------------
# worlds


def new_prosody(components):
    tmp = tempfile.mkdtemp(prefix='kith-comp-')
    try:
        return tmp, harness.Prosody(tmp, tls=False, storage='memory',
                                    components=components)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def new_kithd(prosody, tmp, mode, devices, extra=None):
    kithd = harness.Kithd(prosody, tmp, mode=mode, thermometers=devices,
                          relays=0, interval=0, policy='open',
                          tls='disabled', extra_groups=extra or {},
                          start=False)
    # requesters in closed loop: kithd's own per-requester limit is not measured
    kithd.groups['xmpp']['RequestRate'] = '0'
    kithd.write_config()
    return kithd


def close_world(tmp, prosody, kithd, comps=()):
    """Stop everything by pid; kithd's exit code (or why it needed more)."""
    code = None
    try:
        if kithd is not None and kithd.running():
            code = kithd.stop(timeout=60)
    except AssertionError as exc:
        code = str(exc)
    for comp in comps:
        if comp is not None:
            comp.close()
    if prosody is not None:
        prosody.stop()
    if os.environ.get('KITH_KEEP_TMP'):
        sys.stderr.write(f'kept {tmp}\n')
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return code


def log_time(regex, kithd_log):
    """Wall-clock seconds of the day of the first kithd log line matching."""
    for line in kithd_log.splitlines():
        if re.search(regex, line):
            return run._log_seconds(line)
    return None


def seconds_of_day(wall):
    t = time.localtime(wall)
    return t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec + (wall % 1)


def since_start(kithd, regex, wall0):
    """ms from kithd's start (wall clock wall0) to its log line `regex`."""
    at = log_time(regex, kithd.log_text())
    if at is None:
        return None
    return ((at - seconds_of_day(wall0)) % 86400) * 1000


# ----------------------------------------------------------------------------
# 1: presence of 10,000 devices, memory, idle


class PresenceCounter:
    """Counts presence stanzas in the received bytes: available ones (no
    type) per sender, unavailable ones, other types."""

    TAG = re.compile(rb'<presence\b[^>]*>')
    ATTR = re.compile(rb"""\b(type|from)=(?:'([^']*)'|"([^"]*)")""")

    def __init__(self, target):
        self.target = target
        self.available = 0
        self.senders = set()
        self.unavailable = 0
        self.other = 0
        self.first_at = None
        self.done_at = None       # monotonic time of the target-th one
        self.done = threading.Event()
        self.timeline = []        # (monotonic time, available so far) per chunk
        self._tail = b''

    def __call__(self, chunk, now):
        data = self._tail + chunk
        cut = data.rfind(b'<')
        if cut >= 0 and data.find(b'>', cut) < 0:
            self._tail, data = data[cut:], data[:cut]
        else:
            self._tail = b''
        for tag in self.TAG.finditer(data):
            attrs = {m.group(1): m.group(2) if m.group(2) is not None
                     else m.group(3) for m in self.ATTR.finditer(tag.group(0))}
            type_ = attrs.get(b'type')
            if type_ is None:
                self.available += 1
                self.senders.add(attrs.get(b'from'))
                if self.first_at is None:
                    self.first_at = now
                if self.available == self.target:
                    self.done_at = now
                    self.done.set()
            elif type_ == b'unavailable':
                self.unavailable += 1
            else:
                self.other += 1
        self.timeline.append((now, self.available))


def make_roster_db(kithd, devices, contacts, watchers_domain, timeout):
    """kithd's state db with one subscriber (state From) per device: kithd
    creates it at a first start (no subscribers yet), then the rows are
    added while it is stopped."""
    kithd.start()
    kithd.wait_log(COMPONENT_ONLINE_RE, timeout)
    if devices:
        kithd.wait_log(ANNOUNCED_RE, timeout)
    code = kithd.stop(timeout=60)
    if code != 0:
        raise RuntimeError(f'kithd exited {code} after the first start')
    now = int(time.time())
    conn = sqlite3.connect(kithd.db, timeout=10)
    try:
        with conn:
            conn.executemany(
                'INSERT INTO roster (device_id, jid, state, updated) '
                'VALUES (?, ?, ?, ?)',
                ((device, f'w{i % contacts + 1}@{watchers_domain}', FROM, now)
                 for i, device in enumerate(kithd.devices)))
    finally:
        conn.close()


def measure_presence(devices, rate, contacts=100, idle_s=0):
    """Fresh world; `devices` sim devices each with one subscriber among
    `contacts` contacts of watchers.localhost; PresenceRate=rate.  With
    idle_s, also the idle window once everything is announced.  Ends with
    SIGTERM, after which every subscriber must have an unavailable."""
    rec = {'devices': devices, 'rate': rate, 'contacts': contacts}
    tmp, prosody = new_prosody((DEVICES, WATCHERS))
    kithd = watchers = None
    counter = PresenceCounter(devices)
    try:
        kithd = new_kithd(prosody, tmp, 'component', devices,
                          {'xmpp': {'PresenceRate': str(rate)}})
        timeout = 60 + 3 * devices / rate
        if devices:
            make_roster_db(kithd, devices, contacts,
                           prosody.component_jid(WATCHERS), timeout)
        watchers = RawComponent(prosody, WATCHERS, counter)
        prosody_cpu0 = cpu_ms(prosody.proc.pid)
        wall0 = time.time()
        t0 = time.monotonic()
        kithd.start()
        kithd.wait_log(COMPONENT_ONLINE_RE, timeout)
        if devices:
            complete = counter.done.wait(timeout)
            rec['cpu_at_received_ms'] = cpu_ms(kithd.proc.pid)
            rec['prosody_cpu_ms'] = cpu_ms(prosody.proc.pid) - prosody_cpu0
            rec['receiver_cpu_ms'] = watchers.cpu_s * 1000
            if not complete:
                raise RuntimeError(
                    f'subscribers have {counter.available} of {devices} '
                    f'available presences after {timeout:.0f} s')
            rec['received_ms'] = (counter.done_at - t0) * 1000
            rec['first_ms'] = (counter.first_at - t0) * 1000
            rec['peak_rate'] = peak_rate(counter.timeline, 0.1)
            rec['announced_ms'] = float(kithd.wait_log(ANNOUNCED_RE, 30)
                                        .group(2))
            rec['all_online_ms'] = float(kithd.wait_log(ALL_ONLINE_RE, 30)
                                         .group(2))
        rec['component_online_ms'] = since_start(kithd, COMPONENT_ONLINE_RE,
                                                 wall0)
        time.sleep(SETTLE_S)
        rec.update(proc_status(kithd.proc.pid))
        rec['prosody_rss'] = proc_status(prosody.proc.pid)['VmRSS']
        if idle_s:
            rec['idle'] = idle_window(kithd, idle_s)
        rec['available'] = counter.available
        rec['senders'] = len(counter.senders)
        rec['other'] = counter.other
        rec['unavailable_early'] = counter.unavailable
        rec['problems'] = log_problems(kithd) + [
            line for line in kithd.log_text().splitlines()
            if 'dropping' in line]
        # SIGTERM: every device says goodbye to its subscriber
        t_stop = time.monotonic()
        rec['exit'] = kithd.stop(timeout=60)
        rec['stop_ms'] = (time.monotonic() - t_stop) * 1000
        deadline = time.monotonic() + 10
        while counter.unavailable < devices and time.monotonic() < deadline:
            time.sleep(0.05)
        rec['unavailable'] = counter.unavailable
        rec['watchers_error'] = watchers.error
    finally:
        code = close_world(tmp, prosody, kithd, (watchers,))
        rec.setdefault('exit', code)
    return rec


def peak_rate(timeline, window):
    """The most presences received within any `window` seconds, per second."""
    best, j = 0, 0
    for i in range(len(timeline)):
        while timeline[i][0] - timeline[j][0] > window:
            j += 1
        before = timeline[j - 1][1] if j else 0
        best = max(best, timeline[i][1] - before)
    return best / window


def idle_window(kithd, seconds):
    pid = kithd.proc.pid
    log_before = len(kithd.log_text())
    mem_before = proc_status(pid)['VmRSS']
    before = context_switches(pid)
    cpu0 = cpu_ms(pid)
    t0 = time.monotonic()
    time.sleep(seconds)
    after = context_switches(pid)
    elapsed = time.monotonic() - t0
    threads = {}
    for tid in sorted(set(before) | set(after)):
        b, a = before.get(tid, (0, 0)), after.get(tid, (0, 0))
        threads[tid] = (a[0] - b[0], a[1] - b[1])
    vol = sum(v for v, _ in threads.values())
    invol = sum(i for _, i in threads.values())
    return {'seconds': elapsed, 'voluntary': vol, 'nonvoluntary': invol,
            'per_second': (vol + invol) / elapsed, 'threads': threads,
            'cpu_ms': cpu_ms(pid) - cpu0,
            'rss_before': mem_before, 'rss_after': proc_status(pid)['VmRSS'],
            'log_lines': len(kithd.log_text()[log_before:].splitlines())}


# ----------------------------------------------------------------------------
# 2 + 3: friends and requesters on people.localhost


class People:
    """Contacts `<prefix>1..N@people.localhost` on one raw component.

    befriend/unfriend: each contact works through its devices one at a
    time (closed loop): befriend = send `subscribe`, wait for the device's
    own `subscribe` (after its `subscribed` and presence), answer
    `subscribed`; unfriend = send `unsubscribe`, wait for the device's
    `unsubscribe`.  readouts: each contact keeps one XEP-0323 readout in
    flight.  Everything runs in the component's reader thread."""

    def __init__(self, prosody, count, prefix):
        self.domain = prosody.component_jid(PEOPLE)
        self.jids = [f'{prefix}{i}@{self.domain}' for i in range(1, count + 1)]
        self.counts = {}            # (phase, stanza kind) -> received
        self.unexpected = []        # a few stanzas nobody waited for
        self.phase = 'idle'
        self._handler = None
        self._barrier = None
        self._seq = [0]             # readout seqnr, unique over all windows
        self.reader = StanzaReader(self._stanza)
        self.comp = RawComponent(prosody, PEOPLE, self.reader.feed)

    def close(self):
        self.comp.close()

    def _send(self, text, stanzas=1):
        self.comp.send(text, stanzas)

    @property
    def sent(self):
        return self.comp.sent

    def _stanza(self, name, attrs, children, now):
        kind = name if name != 'presence' else \
            f'presence/{attrs.get("type", "available")}'
        if name == 'iq':
            kind = f'iq/{attrs.get("type")}'
        key = (self.phase, kind)
        self.counts[key] = self.counts.get(key, 0) + 1
        if self._barrier is not None and name == 'iq' and \
                attrs.get('id') == self._barrier[0]:
            self._barrier[1].set()
            return
        if self._handler is None or not self._handler(name, attrs, children,
                                                      now):
            if self.phase != 'end' and len(self.unexpected) < 10:
                self.unexpected.append((self.phase, name, dict(attrs),
                                        children[:3]))

    def barrier(self, frm, to, timeout=30):
        """A ping through the same streams: everything sent before it has
        been handled once any answer comes back."""
        event = threading.Event()
        iq_id = f'barrier-{time.monotonic_ns()}'
        self._barrier = (iq_id, event)
        self._send(f"<iq type='get' id='{iq_id}' from='{frm}' to='{to}'>"
                   "<ping xmlns='urn:xmpp:ping'/></iq>")
        if not event.wait(timeout):
            raise RuntimeError(f'no answer to a ping of {to} in {timeout} s')
        self._barrier = None

    # -- subscriptions ---------------------------------------------------------

    def subscriptions(self, phase, plans, timeout):
        """phase 'befriend' or 'unfriend'; plans: {contact: [device bare
        JIDs]}.  Returns (wall s, stanzas sent, stanzas received)."""
        first, done_on, answer = {
            'befriend': ('subscribe', 'subscribe', 'subscribed'),
            'unfriend': ('unsubscribe', 'unsubscribe', None)}[phase]
        pos = {jid: 0 for jid in plans}
        left = [sum(1 for p in plans.values() if p)]
        finished = threading.Event()
        problems = []

        def handler(name, attrs, children, now):
            if name != 'presence':
                return False
            contact, device = attrs.get('to', ''), bare(attrs.get('from', ''))
            plan = plans.get(contact)
            if plan is None:
                return False
            if attrs.get('type', 'available') != done_on:
                return True     # counted; the others of the exchange
            i = pos[contact]
            if i >= len(plan) or plan[i] != device:
                problems.append(f'{done_on} from {device} to {contact}, '
                                'not the device asked')
                return True
            out, n = '', 0
            if answer:
                out += (f"<presence from='{contact}' to='{device}' "
                        f"type='{answer}'/>")
                n += 1
            pos[contact] = i = i + 1
            if i < len(plan):
                out += (f"<presence from='{contact}' to='{plan[i]}' "
                        f"type='{first}'/>")
                n += 1
            else:
                left[0] -= 1
                if left[0] == 0:
                    finished.set()
            if out:
                self._send(out, n)
            return True

        received0 = sum(self.counts.values())
        sent0 = self.sent
        self.phase = phase
        self._handler = handler
        t0 = time.monotonic()
        starts = [(jid, plan[0]) for jid, plan in plans.items() if plan]
        for k in range(0, len(starts), 200):
            self._send(''.join(f"<presence from='{jid}' to='{device}' "
                               f"type='{first}'/>"
                               for jid, device in starts[k:k + 200]),
                       len(starts[k:k + 200]))
        if not finished.wait(timeout):
            done = sum(pos.values())
            total = sum(len(p) for p in plans.values())
            raise RuntimeError(f'{phase}: {done} of {total} subscriptions '
                               f'done after {timeout:.0f} s; received '
                               f'{self.phase_counts(phase)}')
        # the last answers (`subscribed`) are handled once a ping returns
        contact, plan = next(iter(plans.items()))
        self.barrier(contact, plan[-1] + '/' + harness.RESOURCE)
        wall = time.monotonic() - t0
        self._handler = None
        if problems:
            raise RuntimeError(f'{phase}: {problems[:3]}')
        return (wall, self.sent - sent0 - 1,
                sum(self.counts.values()) - received0 - 1)

    def phase_counts(self, phase):
        return {k[1]: v for k, v in sorted(self.counts.items())
                if k[0] == phase}

    # -- readouts --------------------------------------------------------------

    def readouts(self, devices, seconds, warmup, timeout=10):
        """Closed loop: every contact keeps one readout in flight, the k-th
        to devices[(i + k) % n] (full JIDs).  Records (sent, latency) of
        every readout completed; returns a dict of results."""
        n = len(devices)
        inflight = {}           # contact -> [seqnr, device, sent, accepted]
        done = []               # (sent, latency s)
        failures = []
        order = []              # protocol order violations
        seq = self._seq
        k = {jid: 0 for jid in self.jids}
        index = {jid: i for i, jid in enumerate(self.jids)}
        stopping = threading.Event()
        drained = threading.Event()

        def request(contact):
            seq[0] += 1
            device = devices[(index[contact] + k[contact]) % n]
            k[contact] += 1
            inflight[contact] = [str(seq[0]), device, time.monotonic(), False]
            return (f"<iq type='get' id='q{seq[0]}' from='{contact}' "
                    f"to='{device}'><req xmlns='{SD_NS}' seqnr='{seq[0]}' "
                    "momentary='true'/></iq>")

        def next_one(contact):
            del inflight[contact]
            if stopping.is_set():
                if not inflight:
                    drained.set()
                return
            self._send(request(contact))

        def handler(name, attrs, children, now):
            contact = bare(attrs.get('to', ''))
            slot = inflight.get(contact)
            if slot is None:
                return False
            if name == 'iq':
                if attrs.get('id') != f'q{slot[0]}':
                    return False
                if attrs.get('type') == 'result':
                    slot[3] = True
                else:
                    failures.append(f'iq {attrs.get("type")} for seqnr '
                                    f'{slot[0]} from {attrs.get("from")}')
                    next_one(contact)
                return True
            if name != 'message':
                return False
            for child, cattrs in children:
                if child not in ('fields', 'failure') or \
                        cattrs.get('seqnr') != slot[0]:
                    continue
                if child == 'failure':
                    failures.append(f'failure for seqnr {slot[0]}')
                elif cattrs.get('done') != 'true':
                    return True
                else:
                    if not slot[3]:
                        order.append(slot[0])
                    done.append((slot[2], now - slot[2]))
                next_one(contact)
                return True
            return False

        self.phase = 'readout'
        self._handler = handler
        t0 = time.monotonic()
        out = ''.join(request(jid) for jid in self.jids)
        self._send(out, len(self.jids))
        time.sleep(warmup)
        t1 = time.monotonic()
        mark = len(done)
        time.sleep(seconds)
        t2 = time.monotonic()
        in_window = len(done) - mark
        stopping.set()
        if inflight and not drained.wait(timeout):
            lost = dict(inflight)
            failures.append(f'{len(lost)} readouts unanswered {timeout} s '
                            f'after the end: e.g. {list(lost.items())[:3]}')
        self._handler = None
        lat = [lat_s * 1000 for sent, lat_s in done if t1 <= sent < t2]
        return {'requesters': len(self.jids), 'devices': n,
                'window_s': t2 - t1, 'completed': in_window,
                'per_second': in_window / (t2 - t1), 'latencies': lat,
                'total': len(done), 'failures': failures,
                'fields_before_accepted': len(order),
                'elapsed_s': time.monotonic() - t0}


def plans_for(people, device_jids, per_contact):
    """Contact i befriends per_contact devices starting at device i."""
    n = len(device_jids)
    return {jid: [device_jids[(i + j) % n] for j in range(per_contact)]
            for i, jid in enumerate(people.jids)}


def roster_rows(kithd):
    return dict(kithd.query_db('SELECT state, COUNT(*) FROM roster '
                               'GROUP BY state'))


def measure_churn(friends, devices, per_friend, timeout=300):
    """Component mode: `friends` contacts each befriend `per_friend` of
    `devices` devices and then unfriend them; kithd keeps the rosters."""
    rec = {'friends': friends, 'devices': devices, 'per_friend': per_friend,
           'pairs': friends * per_friend}
    tmp, prosody = new_prosody((DEVICES, PEOPLE))
    kithd = people = None
    try:
        kithd = new_kithd(prosody, tmp, 'component', devices)
        kithd.start()
        kithd.wait_log(ANNOUNCED_RE if devices else COMPONENT_ONLINE_RE, 60)
        people = People(prosody, friends, 'f')
        plans = plans_for(people, kithd.bare_jids(), per_friend)
        pid = kithd.proc.pid
        cpu0, pcpu0 = cpu_ms(pid), cpu_ms(prosody.proc.pid)
        rss0 = proc_status(pid)['VmRSS']
        t0 = time.monotonic()
        for phase in ('befriend', 'unfriend'):
            c0, p0 = cpu_ms(pid), cpu_ms(prosody.proc.pid)
            wall, sent, received = people.subscriptions(phase, plans, timeout)
            rec[phase] = {'wall_s': wall, 'in': sent, 'out': received,
                          'cpu_ms': cpu_ms(pid) - c0,
                          'prosody_cpu_ms': cpu_ms(prosody.proc.pid) - p0,
                          'received': people.phase_counts(phase),
                          'roster': roster_rows(kithd),
                          'rss': proc_status(pid)['VmRSS']}
        rec['wall_s'] = time.monotonic() - t0
        rec['cpu_ms'] = cpu_ms(pid) - cpu0
        rec['prosody_cpu_ms'] = cpu_ms(prosody.proc.pid) - pcpu0
        rec['receiver_cpu_ms'] = people.comp.cpu_s * 1000
        people.phase = 'end'
        rec['rss_before'] = rss0
        rec['friends_rows'] = dict(kithd.query_db(
            'SELECT decision, COUNT(*) FROM friends GROUP BY decision'))
        rec['unexpected'] = people.unexpected
        rec['problems'] = log_problems(kithd)
    finally:
        rec['exit'] = close_world(tmp, prosody, kithd, (people,))
    return rec


class ReadoutWorld:
    """A fresh Prosody and kithd (`mode`) with `devices` devices, and
    `requesters` contacts on people.localhost that befriended them all."""

    def __init__(self, mode, requesters, devices):
        self.mode = mode
        self.rec = {'mode': mode, 'requesters': requesters,
                    'devices': devices, 'windows': []}
        comps = (DEVICES, PEOPLE) if mode == 'component' else (PEOPLE,)
        self.tmp, self.prosody = new_prosody(comps)
        self.kithd = self.people = None
        try:
            self._prepare(requesters, devices)
        except BaseException:
            self.close()
            raise

    def _prepare(self, requesters, devices):
        rec = self.rec
        self.kithd = kithd = new_kithd(self.prosody, self.tmp, self.mode,
                                       devices)
        kithd.start()
        found = kithd.wait_log(ALL_ONLINE_RE, 60 + devices)
        rec['online_ms'] = float(found.group(2))
        if self.mode == 'component':
            kithd.wait_log(ANNOUNCED_RE, 60)
        rec['cpu_online_ms'] = cpu_ms(kithd.proc.pid)
        self.people = people = People(self.prosody, requesters, 'r')
        plans = plans_for(people, kithd.bare_jids(), devices)
        pid, ppid = kithd.proc.pid, self.prosody.proc.pid
        c0, p0 = cpu_ms(pid), cpu_ms(ppid)
        wall, sent, received = people.subscriptions('befriend', plans, 300)
        rec['befriend'] = {'pairs': requesters * devices, 'wall_s': wall,
                           'in': sent, 'out': received,
                           'cpu_ms': cpu_ms(pid) - c0,
                           'prosody_cpu_ms': cpu_ms(ppid) - p0,
                           'received': people.phase_counts('befriend')}
        if self.mode == 'component':
            rec['befriend']['roster'] = roster_rows(kithd)
        rec['rss_before'] = proc_status(pid)['VmRSS']
        self.full_jids = [kithd.full(d) for d in kithd.devices]

    def window(self, seconds, warmup):
        """One timed window of readouts; adds to the world's record."""
        pid, ppid = self.kithd.proc.pid, self.prosody.proc.pid
        c0, p0, r0 = cpu_ms(pid), cpu_ms(ppid), self.people.comp.cpu_s
        res = self.people.readouts(self.full_jids, seconds, warmup)
        res['cpu_ms'] = cpu_ms(pid) - c0
        res['prosody_cpu_ms'] = cpu_ms(ppid) - p0
        res['receiver_cpu_ms'] = (self.people.comp.cpu_s - r0) * 1000
        self.rec['windows'].append(res)

    def finish(self):
        """The windows pooled into one record (`readout`)."""
        rec, wins = self.rec, self.rec['windows']
        pid, ppid = self.kithd.proc.pid, self.prosody.proc.pid
        pooled = {'requesters': rec['requesters'], 'devices': rec['devices'],
                  'latencies': [x for w in wins for x in w['latencies']],
                  'failures': [f for w in wins for f in w['failures']],
                  'rates': [w['per_second'] for w in wins]}
        for key in ('window_s', 'completed', 'total', 'elapsed_s', 'cpu_ms',
                    'prosody_cpu_ms', 'receiver_cpu_ms',
                    'fields_before_accepted'):
            pooled[key] = sum(w[key] for w in wins)
        pooled['per_second'] = pooled['completed'] / pooled['window_s']
        rec['readout'] = pooled
        del rec['windows']
        rec.update(proc_status(pid))
        rec['prosody_rss'] = proc_status(ppid)['VmRSS']
        rec['unexpected'] = self.people.unexpected
        rec['problems'] = log_problems(self.kithd)
        self.people.phase = 'end'    # kithd's goodbyes at its stop are expected

    def close(self):
        self.rec['exit'] = close_world(self.tmp, self.prosody, self.kithd,
                                       (self.people,))
        return self.rec


def measure_readouts(modes, requesters, devices, seconds, rounds, warmup):
    """One world per mode, prepared one after the other and then kept;
    the timed windows alternate between them (`rounds` windows of
    seconds / rounds each per mode), so that the machine's noise hits both
    alike.  A world that is not being measured is idle.  Returns
    {mode: record}."""
    worlds, out = {}, {}
    try:
        for mode in modes:
            try:
                worlds[mode] = ReadoutWorld(mode, requesters, devices)
            except Exception as exc:
                traceback.print_exc()
                out[mode] = {'error': f'{type(exc).__name__}: {exc}'}
        for r in range(rounds):
            order = list(worlds) if r % 2 == 0 else list(worlds)[::-1]
            for mode in order:
                try:
                    worlds[mode].window(seconds / rounds,
                                        warmup if r == 0 else 0.5)
                except Exception as exc:
                    traceback.print_exc()
                    out[mode] = {'error': f'{type(exc).__name__}: {exc}'}
                    worlds.pop(mode).close()
        for mode, world in worlds.items():
            world.finish()
    finally:
        for mode, world in worlds.items():
            out[mode] = world.close()
    return {mode: out[mode] for mode in modes if mode in out}


# ----------------------------------------------------------------------------
# reporting


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_s(ms):
    if ms is None:
        return '–'
    return f'{ms / 1000:.2f} s' if ms >= 1000 else f'{ms:.0f} ms'


def rng(values, fmt=fmt_s):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return ''
    return f' (range {fmt(min(values))}–{fmt(max(values))})'


def ok(recs):
    return [r for r in recs if 'error' not in r]


def fmt_rate(x):
    return '–' if x is None else f'{x:,.0f}'


class Results:
    """The measurements of one run and their markdown."""

    def __init__(self, args):
        self.args = args
        self.base = []          # records of the 0-device worlds
        self.presence = {}      # rate -> [records]
        self.churn = None
        self.readout = {}       # mode -> record

    def collect_problems(self):
        out = []
        for rec in self.base + [r for recs in self.presence.values()
                                for r in recs] + \
                [self.churn] + list(self.readout.values()):
            if not rec:
                continue
            if 'error' in rec:
                out.append(rec['error'])
                continue
            out += rec.get('problems', [])[:5]
            if rec.get('exit') not in (0, None):
                out.append(f'kithd exit code {rec["exit"]}')
            if rec.get('watchers_error'):
                out.append(f'subscribers: {rec["watchers_error"]}')
            for u in rec.get('unexpected', [])[:3]:
                out.append(f'unexpected stanza: {u}')
            out += self.exchange_problems(rec)
            res = rec.get('readout')
            if res:
                out += res['failures'][:5]
                if res['fields_before_accepted']:
                    out.append(f'{res["fields_before_accepted"]} readouts '
                               'had `fields` before the IQ result')
            devices = rec.get('devices')
            if 'rate' in rec and devices:
                if rec.get('available') != devices or \
                        rec.get('senders') != devices:
                    out.append(f'rate {rec["rate"]}: {rec.get("available")}'
                               f' available presences from '
                               f'{rec.get("senders")} devices, expected '
                               f'{devices} from {devices}')
                if rec.get('unavailable_early') or rec.get('other'):
                    out.append(f'rate {rec["rate"]}: '
                               f'{rec.get("unavailable_early")} unavailable '
                               f'and {rec.get("other")} other presences '
                               'before the stop')
                if rec.get('unavailable') != devices:
                    out.append(f'rate {rec["rate"]}: {rec.get("unavailable")}'
                               f' unavailable presences after SIGTERM, '
                               f'expected {devices}')
        return out

    @staticmethod
    def exchange_problems(rec):
        """Every friendship of a churn or readout world must have seen
        exactly the stanzas of RFC 6121's exchange, and the roster in
        kithd's db (component mode) the state it should have."""
        out = []
        expect = {'befriend': ('presence/subscribed', 'presence/available',
                               'presence/subscribe'),
                  'unfriend': ('presence/unavailable',
                               'presence/unsubscribe')}
        pairs = rec.get('pairs') or rec.get('befriend', {}).get('pairs')
        for phase, kinds in expect.items():
            p = rec.get(phase)
            if not p:
                continue
            for k in kinds:
                if p['received'].get(k) != pairs:
                    out.append(f'{phase}: {p["received"].get(k)} {k} for '
                               f'{pairs} friendships')
            roster = p.get('roster')
            want = {3: pairs} if phase == 'befriend' else {}
            if roster is not None and roster != want:
                out.append(f'{phase}: roster rows {roster}, expected {want}')
        return out

    # -- the main table ---------------------------------------------------------

    def table(self):
        out = ['| measure | component mode | client mode | detail |',
               '|---|---|---|---|']
        w = out.append
        a = self.args
        base = ok(self.base)
        rss0 = med([r['VmRSS'] for r in base])
        default_rate = a.rates[0]
        for rate in a.rates:
            recs = ok(self.presence.get(rate, []))
            if not recs:
                if rate in self.presence:
                    w(f'| {a.devices:,} devices: all presence received, '
                      f'PresenceRate={rate} | FAILED | | '
                      f'{self.presence[rate][0].get("error", "")[:200]} |')
                continue
            got = [r['received_ms'] for r in recs]
            client = '' if rate != default_rate else (
                f'500 devices: {fmt_s(CLIENT_README["online_500_off_ms"])} '
                f'(TLS off), {fmt_s(CLIENT_README["online_500_on_ms"])} (TLS '
                'on), to "all online", bench/README.md')
            w(f'| {a.devices:,} devices, 1 subscriber each: start → all '
              f'{a.devices:,} presences received, PresenceRate={rate:,}'
              f'{" (default)" if rate == 2000 else ""} | '
              f'**{fmt_s(med(got))}**{rng(got)} | {client} | '
              f'component online after '
              f'{fmt_s(med([r["component_online_ms"] for r in recs]))}; '
              f'kithd: "all online after '
              f'{fmt_s(med([r["all_online_ms"] for r in recs]))}", '
              f'"presence sent after '
              f'{fmt_s(med([r["announced_ms"] for r in recs]))}" '
              f'(from online); peak '
              f'{fmt_rate(med([r["peak_rate"] for r in recs]))}/s received '
              f'(100 ms window); kithd CPU '
              f'{fmt_s(med([r["cpu_at_received_ms"] for r in recs]))} '
              f'({med([r["cpu_at_received_ms"] for r in recs]) * 1000 / a.devices:.0f} µs/device), '
              f'Prosody CPU '
              f'{fmt_s(med([r["prosody_cpu_ms"] for r in recs]))} |')
        recs = ok(self.presence.get(default_rate, []))
        if recs and rss0 is not None:
            rss = med([r['VmRSS'] for r in recs])
            hwm = med([r['VmHWM'] for r in recs])
            per = (rss - rss0) / a.devices
            w(f'| RSS per device ({a.devices:,} devices, 1 roster entry '
              f'each) | **{per * 1024:.0f} bytes** ({per:.1f} KB) | '
              f'{CLIENT_README["rss_per_device_off"]} KB (TLS off), '
              f'{CLIENT_README["rss_per_device_on"]} KB (TLS on), 500 '
              f'devices, bench/README.md | VmRSS {fmt_kb(rss)}, VmHWM '
              f'{fmt_kb(hwm)}, base (0 devices) {fmt_kb(rss0)}; '
              f'anonymous {fmt_kb(med([r["Anonymous"] for r in recs]))}; '
              f'Prosody {fmt_kb(med([r["prosody_rss"] for r in recs]))} |')
        idle = [r['idle'] for r in recs if 'idle' in r]
        if idle:
            i = idle[0]
            w(f'| idle wake-ups per second, {a.devices:,} devices online | '
              f'**{i["per_second"]:.2f}** | {CLIENT_README["idle_50"]:.2f} '
              f'(50 devices, bench/README.md) | {i["voluntary"]} voluntary + '
              f'{i["nonvoluntary"]} involuntary context switches in '
              f'{i["seconds"]:.0f} s over {len(i["threads"])} threads, CPU '
              f'{i["cpu_ms"]:.0f} ms; RSS {fmt_kb(i["rss_before"])} → '
              f'{fmt_kb(i["rss_after"])}; {i["log_lines"]} log lines |')
        allrecs = [r for rate in a.rates for r in ok(self.presence.get(rate,
                                                                      []))]
        if allrecs:
            unav = [r.get('unavailable') for r in allrecs]
            w(f'| SIGTERM with {a.devices:,} devices online | exit '
              f'{", ".join(sorted({str(r["exit"]) for r in allrecs}))} '
              f'after {fmt_s(med([r["stop_ms"] for r in allrecs]))} | | '
              f'unavailable presences received: {min(unav):,}–{max(unav):,}'
              f' of {a.devices:,} per run |')
        c = self.churn
        if c and 'error' in c:
            w(f'| subscription churn | FAILED | | {c["error"][:300]} |')
        elif c:
            b, u = c['befriend'], c['unfriend']
            stanzas = b['in'] + b['out'] + u['in'] + u['out']
            w(f'| subscription churn: {c["friends"]:,} friends × '
              f'{c["per_friend"]} of {c["devices"]} devices = '
              f'{c["pairs"]:,} friendships made and ended | '
              f'**{c["wall_s"]:.1f} s**, {stanzas / c["wall_s"]:,.0f} '
              f'stanzas/s | | befriend {b["wall_s"]:.1f} s '
              f'({c["pairs"] / b["wall_s"]:,.0f}/s: {b["in"] / b["wall_s"]:,.0f} in + '
              f'{b["out"] / b["wall_s"]:,.0f} out stanzas/s), unfriend '
              f'{u["wall_s"]:.1f} s ({c["pairs"] / u["wall_s"]:,.0f}/s: '
              f'{u["in"] / u["wall_s"]:,.0f} in + '
              f'{u["out"] / u["wall_s"]:,.0f} out/s); kithd CPU '
              f'{c["cpu_ms"] / 1000:.1f} s = '
              f'{c["cpu_ms"] * 1000 / stanzas:.0f} µs/stanza '
              f'({b["cpu_ms"] * 1000 / c["pairs"]:.0f} µs per befriend, '
              f'{u["cpu_ms"] * 1000 / c["pairs"]:.0f} per unfriend), Prosody '
              f'{c["prosody_cpu_ms"] / 1000:.1f} s; roster rows after: '
              f'{sum(b["roster"].values()):,} (state {", ".join(map(str, b["roster"]))}) '
              f'→ {sum(u["roster"].values())} |')
        rd = {m: r for m, r in self.readout.items()}
        if rd:
            cells, details = {}, []
            for mode in ('component', 'client'):
                r = rd.get(mode)
                if r is None:
                    cells[mode] = '–'
                elif 'error' in r:
                    cells[mode] = 'FAILED'
                    details.append(f'{mode}: {r["error"][:200]}')
                else:
                    res = r['readout']
                    lat = res['latencies']
                    cells[mode] = (
                        f'**{res["per_second"]:,.0f}/s**, '
                        f'{statistics.median(lat):.1f} / '
                        f'{percentile(lat, 99):.1f} ms' if lat else 'none')
                    details.append(
                        f'{mode}: per window '
                        f'{"/".join(f"{x:,.0f}" for x in res["rates"])} per s; '
                        f'kithd CPU {res["cpu_ms"] * 1000 / res["total"]:.0f} µs/readout '
                        f'({res["cpu_ms"] / res["elapsed_s"] / 10:.0f} % of a core), Prosody '
                        f'{res["prosody_cpu_ms"] / res["elapsed_s"] / 10:.0f} %, '
                        f'requesters {res["receiver_cpu_ms"] / res["elapsed_s"] / 10:.0f} %; '
                        f'{len(res["failures"])} failures')
            first = next(r for r in rd.values() if 'error' not in r) \
                if any('error' not in r for r in rd.values()) else None
            n_req = first['requesters'] if first else a.requesters
            n_dev = first['devices'] if first else a.readout_devices
            w(f'| readouts with {n_req} requesters in closed loop, '
              f'{n_dev} devices: readouts/s, latency median / p99 | '
              f'{cells["component"]} | {cells["client"]} | '
              f'{"; ".join(details)} |')
            cells, details = {}, []
            for mode in ('component', 'client'):
                r = rd.get(mode)
                if r is None or 'error' in r:
                    cells[mode] = '–'
                    continue
                b = r['befriend']
                cells[mode] = (f'{b["wall_s"]:.1f} s '
                               f'({b["pairs"] / b["wall_s"]:,.0f}/s)')
                details.append(
                    f'{mode}: kithd CPU {b["cpu_ms"] / 1000:.1f} s, Prosody '
                    f'{b["prosody_cpu_ms"] / 1000:.1f} s')
            w(f'| befriend {n_req} × {n_dev} (requesters × devices) | '
              f'{cells["component"]} | {cells["client"]} | the rosters are '
              f'kept by kithd (component) / Prosody (client); '
              f'{"; ".join(details)} |')
            cells = {m: ('–' if m not in rd or 'error' in rd[m] else
                         fmt_s(rd[m]['online_ms'])) for m in
                     ('component', 'client')}
            w(f'| {n_dev} devices: start → "all online" | '
              f'{cells["component"]} | {cells["client"]} | client mode: '
              f'TLS off, accounts registered by XEP-0077 at this first '
              f'start |')
        return out

    # -- everything -------------------------------------------------------------

    def markdown(self, info, dropped):
        a = self.args
        out = ['# kithd component-mode benchmark results\n']
        w = out.append
        w(f'Generated by `bench/component.py{" --quick" if a.quick else ""}`'
          f' on {info["date"]}: commit {info["commit"]}, {info["kithd"]}.  ')
        w(f'Machine: {info["cpu"]}, {info["cores"]} cores, {info["mem"]}, '
          f'Linux {info["kernel"]}; {info["packages"]}.  ')
        w(f'Load average at start {info["load_start"]}, at end '
          f'{info["load_end"]}; run took {info["duration"]}.  Prosody on '
          f'127.0.0.1, plain TCP, logging at info.  Presence: '
          f'{a.devices:,} devices, median of {a.reps} fresh world(s) per '
          f'rate; idle window {a.idle_seconds:.0f} s; churn '
          f'{a.friends:,} friends × {a.per_friend} of {a.churn_devices} '
          f'devices; readouts {a.requesters} requesters, '
          f'{a.readout_devices} devices, {a.seconds:.0f} s per mode in '
          f'{a.rounds} windows alternating between the modes (both worlds '
          f'up, the one not measured idle), {a.warmup:.0f} s warm-up.\n')
        if dropped:
            w(f'(Removed from the environment before starting anything: '
              f'{", ".join(f"{k}={v}" for k, v in dropped.items())}.)\n')
        out += self.table()
        w('\n## Raw numbers\n')
        if self.base or self.presence:
            w('Presence worlds (times in ms from kithd\'s start; KB):\n')
            w('| devices | PresenceRate | component online | first '
              'presence | kithd "all online" | kithd "presence sent" (from '
              'online) | all received | peak /s | kithd CPU | Prosody CPU | '
              'receiver CPU | VmRSS | VmHWM | anonymous | available / '
              'devices / other | unavailable after SIGTERM | stop ms | exit |')
            w('|' + '---|' * 18)
            for rec in self.base + [r for rate in a.rates
                                    for r in self.presence.get(rate, [])]:
                if 'error' in rec:
                    w(f'| {rec.get("devices")} | {rec.get("rate")} | FAILED: '
                      f'{rec["error"][:200]} |' + ' |' * 16)
                    continue
                g = rec.get
                w(f'| {rec["devices"]} | {rec["rate"]} | '
                  f'{g("component_online_ms", 0):.0f} | '
                  f'{g("first_ms", 0):.0f} | {g("all_online_ms", 0):.0f} | '
                  f'{g("announced_ms", 0):.0f} | {g("received_ms", 0):.0f} | '
                  f'{g("peak_rate", 0):.0f} | {g("cpu_at_received_ms", 0):.0f} | '
                  f'{g("prosody_cpu_ms", 0):.0f} | {g("receiver_cpu_ms", 0):.0f} | '
                  f'{rec["VmRSS"]} | {rec["VmHWM"]} | {rec["Anonymous"]} | '
                  f'{g("available", 0)} / {g("senders", 0)} / {g("other", 0)} | '
                  f'{g("unavailable", 0)} | {g("stop_ms", 0):.0f} | '
                  f'{rec["exit"]} |')
            for rec in ok([r for rate in a.rates
                           for r in self.presence.get(rate, [])]):
                if 'idle' in rec:
                    i = rec['idle']
                    w(f'\nIdle window ({a.devices:,} devices, '
                      f'{i["seconds"]:.1f} s), context switches per thread '
                      '(voluntary, involuntary): ' +
                      ', '.join(f'`{t}` {v}, {n}'
                                for t, (v, n) in i['threads'].items()))
        c = self.churn
        if c and 'error' not in c:
            w('\nChurn (component mode):\n')
            w('| phase | wall s | stanzas in | stanzas out | kithd CPU ms | '
              'Prosody CPU ms | received by type | roster rows after '
              '(state: count) | kithd RSS after |')
            w('|---|---|---|---|---|---|---|---|---|')
            for phase in ('befriend', 'unfriend'):
                p = c[phase]
                w(f'| {phase} | {p["wall_s"]:.2f} | {p["in"]} | {p["out"]} | '
                  f'{p["cpu_ms"]:.0f} | {p["prosody_cpu_ms"]:.0f} | '
                  f'{", ".join(f"{k} {v}" for k, v in p["received"].items())}'
                  f' | {p["roster"] or "none"} | {p["rss"]} KB |')
            w(f'\nkithd RSS before the churn {c["rss_before"]} KB; Prosody '
              f'CPU {c["prosody_cpu_ms"]:.0f} ms, friends\' receiver '
              f'{c["receiver_cpu_ms"]:.0f} ms; `friends` table after: '
              f'{c["friends_rows"]}; exit {c["exit"]}.')
        for mode, r in self.readout.items():
            if 'error' in r:
                continue
            res, b = r['readout'], r['befriend']
            lat = res['latencies']
            w(f'\nReadouts, {mode} mode: all online after '
              f'{r["online_ms"]:.0f} ms (kithd CPU {r["cpu_online_ms"]:.0f} '
              f'ms); befriend {b["pairs"]} pairs in {b["wall_s"]:.2f} s, '
              f'kithd CPU {b["cpu_ms"]:.0f} ms, Prosody CPU '
              f'{b["prosody_cpu_ms"]:.0f} ms ({b["in"]} stanzas in, '
              f'{b["out"]} out: '
              f'{", ".join(f"{k} {v}" for k, v in b["received"].items())}'
              f'{"; roster " + str(b["roster"]) if "roster" in b else ""}); '
              f'{res["completed"]} readouts in {res["window_s"]:.2f} s '
              f'({len(res["rates"])} windows: '
              f'{", ".join(f"{x:.0f}" for x in res["rates"])} per s) '
              f'({res["total"]} in all incl. warm-up and drain); latency '
              f'ms min {min(lat):.2f}, median {statistics.median(lat):.2f}, '
              f'p90 {percentile(lat, 90):.2f}, p99 {percentile(lat, 99):.2f},'
              f' max {max(lat):.2f}; kithd CPU {res["cpu_ms"]:.0f} ms, '
              f'Prosody {res["prosody_cpu_ms"]:.0f} ms, requesters '
              f'{res["receiver_cpu_ms"]:.0f} ms over {res["elapsed_s"]:.1f} s;'
              f' kithd RSS {r["rss_before"]} → {r["VmRSS"]} KB, Prosody '
              f'{r["prosody_rss"]} KB; {len(res["failures"])} failures; '
              f'exit {r["exit"]}.')
        problems = self.collect_problems()
        w('\n## Problems seen\n')
        if problems:
            for p in problems:
                w(f'- `{str(p).strip()[:400]}`')
        else:
            w('None: every presence arrived once, every kithd exited 0, no '
              'failed readout, no warning in kithd\'s log.')
        return '\n'.join(out) + '\n'


# ----------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--quick', action='store_true',
                    help='1 world per rate, 20 s idle, churn of 10 devices '
                         'per friend, 10 s of readouts')
    ap.add_argument('--only', default='presence,churn,readout',
                    help='parts to run: presence, churn, readout')
    ap.add_argument('--devices', type=int, default=10000,
                    help='devices of the presence part (default 10000)')
    ap.add_argument('--rates', default='2000,20000,100000',
                    help='PresenceRate values; the first one also gets the '
                         'memory and idle numbers')
    ap.add_argument('--reps', type=int,
                    help='fresh worlds per rate (default 3; quick 1)')
    ap.add_argument('--idle-seconds', type=float,
                    help='idle window (default 60; quick 20)')
    ap.add_argument('--friends', type=int, default=1000)
    ap.add_argument('--churn-devices', type=int, default=100)
    ap.add_argument('--per-friend', type=int,
                    help='devices each friend befriends and unfriends '
                         '(default all of --churn-devices; quick 10)')
    ap.add_argument('--requesters', type=int, default=100)
    ap.add_argument('--readout-devices', type=int, default=100)
    ap.add_argument('--seconds', type=float,
                    help='timed readout window (default 20; quick 10)')
    ap.add_argument('--rounds', type=int, default=4,
                    help='timed readout windows per mode, alternating '
                         'between the modes (default 4)')
    ap.add_argument('--warmup', type=float, default=2.0)
    ap.add_argument('--out', default=os.path.join(HERE,
                                                  'results-component.md'))
    args = ap.parse_args()
    parts = set(args.only.split(','))
    if not parts <= {'presence', 'churn', 'readout'}:
        ap.error(f'--only: unknown part in {args.only!r}')
    args.rates = [int(r) for r in args.rates.split(',') if r]
    args.reps = args.reps or (1 if args.quick else 3)
    args.idle_seconds = args.idle_seconds if args.idle_seconds is not None \
        else (20 if args.quick else 60)
    args.per_friend = args.per_friend or \
        (min(10, args.churn_devices) if args.quick else args.churn_devices)
    args.seconds = args.seconds or (10 if args.quick else 20)

    dropped, kithd_source = prepare_environment()
    if 'G_MESSAGES_DEBUG' in os.environ:  # kithd's info lines cost time here
        dropped['G_MESSAGES_DEBUG'] = os.environ.pop('G_MESSAGES_DEBUG')
    info = machine_info(kithd_source)
    info['load_start'] = loadavg()
    t_run = time.monotonic()
    results = Results(args)

    if 'presence' in parts:
        for r in range(args.reps):
            results.base.append(run_step(
                f'base: 0 devices, rep {r + 1}/{args.reps}',
                measure_presence, 0, args.rates[0]))
            # the rates alternate, so that machine noise hits all alike
            for i, rate in enumerate(args.rates):
                idle = args.idle_seconds if r == 0 and i == 0 else 0
                results.presence.setdefault(rate, []).append(run_step(
                    f'presence: {args.devices} devices, PresenceRate={rate}'
                    f'{f", idle {idle:.0f} s" if idle else ""}, rep '
                    f'{r + 1}/{args.reps}', measure_presence, args.devices,
                    rate, idle_s=idle))
    if 'churn' in parts:
        results.churn = run_step(
            f'churn: {args.friends} friends x {args.per_friend} of '
            f'{args.churn_devices} devices', measure_churn, args.friends,
            args.churn_devices, args.per_friend)
    if 'readout' in parts:
        rec = run_step(
            f'readouts, component and client mode: {args.requesters} '
            f'requesters, {args.readout_devices} devices, {args.rounds} x '
            f'{args.seconds / args.rounds:.0f} s each', measure_readouts,
            ('component', 'client'), args.requesters, args.readout_devices,
            args.seconds, args.rounds, args.warmup)
        results.readout = rec if 'error' not in rec else \
            {'component': rec, 'client': rec}

    info['load_end'] = loadavg()
    info['duration'] = f'{(time.monotonic() - t_run) / 60:.1f} min'
    text = results.markdown(info, dropped)
    with open(args.out, 'w') as f:
        f.write(text)
    print(text)
    sys.stderr.write(f'wrote {args.out}\n')


if __name__ == '__main__':
    main()
