# SPDX-License-Identifier: GPL-3.0-or-later
"""What the fault tests (test_faults*.py) and bench/outage.py share: a server
outage against a running world and the figures it yields.

kithd (with G_MESSAGES_DEBUG=kith-xmpp) logs every connection attempt
(`<jid>: connecting to <addr>`, `component <domain>: connecting to <addr>`)
and every login (`<jid>/<resource>: online`, `component <domain>: online`);
LogWatch reads its log while the test runs and takes each such line's time
from its GLib time stamp (HH:MM:SS.mmm), which gives the connection rate
seen from the gateway, during the outage and after it.  All times here are
wall-clock seconds (time.time()).
"""

import collections
import math
import os
import re
import threading
import time

from harness import Kithd, World, befriend, fields_of, parse_utc, readout_raw

STAMP = re.compile(r': (\d\d):(\d\d):(\d\d)\.(\d\d\d): ')
ATTEMPT = re.compile(r'(?:^|\s)(?:(\S+)@\S+|component (\S+)): connecting to ')
ONLINE = re.compile(r'(?:^|\s)(?:(\S+)@[^/\s]+/\S+|component (\S+)): online$')


class LogWatch(threading.Thread):
    """Follows a log file; keeps (wall time, kind, who) of the connection
    attempts and logins it shows."""

    def __init__(self, path, interval=0.003):
        super().__init__(daemon=True, name='logwatch')
        self.path = path
        self.interval = interval
        self.events = []
        self._halt = threading.Event()
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            self._offset = f.tell()
        self._rest = b''
        self.start()

    def run(self):
        while not self._halt.is_set():
            self._poll()
            time.sleep(self.interval)
        self._poll()

    def _poll(self):
        with open(self.path, 'rb') as f:
            f.seek(self._offset)
            data = f.read()
            self._offset = f.tell()
        if not data:
            return
        now = time.time()
        lines = (self._rest + data).split(b'\n')
        self._rest = lines.pop()
        for raw in lines:
            line = raw.decode(errors='replace').rstrip()
            for kind, pattern in (('attempt', ATTEMPT), ('online', ONLINE)):
                found = pattern.search(line)
                if found:
                    self.events.append((stamp(line, now), kind,
                                        found.group(1) or found.group(2)))

    def stop(self):
        self._halt.set()
        self.join(5)

    def of(self, kind, since=0.0):
        return [e for e in list(self.events) if e[1] == kind and e[0] >= since]


def stamp(line, now):
    """The wall time of a GLib log line's HH:MM:SS.mmm (local time), the
    one nearest to now; now if it has none."""
    found = STAMP.search(line)
    if not found:
        return now
    h, m, s, ms = (int(x) for x in found.groups())
    t = time.localtime(now)
    midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
    value = midnight + h * 3600 + m * 60 + s + ms / 1000
    for day in (-86400, 86400):
        if abs(value + day - now) < abs(value - now):
            value += day
    return value


def per_window(times, start, width):
    """{window index: count} of times after start, windows of width s."""
    out = collections.Counter()
    for t in times:
        if t >= start:
            out[int((t - start) // width)] += 1
    return out


def max_in_window(times, width):
    """The most times that fall in any interval of `width` seconds."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class Outage:
    """One server outage in a world: stop, wait, start; then the figures."""

    def __init__(self, world, watch, seconds):
        self.world = world
        self.watch = watch
        self.seconds = seconds
        self.down = self.gone = self.starting = self.up = None

    def stop(self):
        """Stops the server: its streams close at once (self.down), the
        process takes a second or so to exit (self.gone)."""
        self.down = time.time()
        self.world.prosody.stop()
        self.gone = time.time()

    def start(self):
        """Starts it again `seconds` after it exited; self.starting: its
        process started again, self.up: it said it accepts (a device may be
        back in between: its listener opens before the server says so)."""
        left = self.gone + self.seconds - time.time()
        if left > 0:
            time.sleep(left)
        self.starting = time.time()
        self.world.prosody.start()
        self.up = time.time()

    def run(self):
        self.stop()
        self.start()

    def back(self, devices, timeout):
        """Waits until every device (or the component) logged in after the
        server came back; returns {who: time}."""
        component = self.world.kithd.mode == 'component'
        want = {self.world.kithd.domain} if component else set(devices)
        deadline = time.monotonic() + timeout
        while True:
            seen = {who: t for t, _, who in
                    self.watch.of('online', self.starting)}
            if want <= set(seen):
                return {who: seen[who] for who in want}
            if time.monotonic() > deadline:
                raise TimeoutError(f'{len(want - set(seen))} of {len(want)} '
                                   f'not back {timeout} s after the server: '
                                   f'{sorted(want - set(seen))[:5]}')
            time.sleep(0.05)

    def figures(self, back):
        """The connection-rate profile: a dict of numbers and tables."""
        attempts = self.watch.of('attempt', self.down)
        during = [t for t, *_ in attempts if t < self.starting]
        after = [t for t, *_ in attempts if t >= self.starting]
        per_s = per_window([t for t, *_ in attempts], self.down, 1.0)
        online = sorted(back.values())
        return {
            'outage_s': round(self.up - self.down, 2),
            'server_not_running_s': round(self.up - self.gone, 2),
            'attempts_during': len(during),
            'attempts_after': len(after),
            'max_attempts_100ms_during': max_in_window(during, 0.1),
            'max_attempts_100ms_after': max_in_window(after, 0.1),
            'max_online_100ms': max_in_window(online, 0.1),
            'first_back_s': round(max(0.0, online[0] - self.up), 2),
            'all_back_s': round(max(0.0, online[-1] - self.up), 2),
            'attempts_per_s': [per_s.get(i, 0) for i in
                               range(int((max(online) - self.down) // 1) + 1)],
        }

    def backoff_violations(self):
        """Devices whose failed attempts came faster than the backoff allows
        (k-th wait at least half of min(2^k, bound) s, less 10 %; the bound
        is 120 s for a device's session, 15 s for the component); attempts
        after the server came back are not counted."""
        bound = 15 if self.world.kithd.mode == 'component' else 120
        by_who = collections.defaultdict(list)
        for t, _, who in self.watch.of('attempt', self.down):
            if t < self.starting:
                by_who[who].append(t)
        bad = []
        for who, times in by_who.items():
            prev = self.down
            for k, t in enumerate(times):
                floor = 0.5 * min(2 ** k, bound) * 0.9
                if t - prev < floor:
                    bad.append((who, k, round(t - prev, 3), floor))
                prev = t
        return bad


def utc(seconds):
    frac = seconds - math.floor(seconds)
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds)) + \
        f'.{int(frac * 1000):03d}Z'


def history_gaps(peer, kithd, device, start, end, seqnr, interval=1.0):
    """Historical readout of device over the whole seconds from the one
    start falls in to the one end falls in: (sorted distinct reading times,
    readings missing). Time stamps say whole seconds, so two readings a
    tick apart can share one; what counts is how many readings each field
    has, against one per `interval` over the window."""
    first, last = int(start), int(end)
    reply, msgs = readout_raw(
        peer, kithd.full(device), seqnr,
        f"historical='true' from='{utc(first)}' to='{utc(last)}'", timeout=20)
    if reply.get('type') != 'result':
        raise AssertionError(f'historical readout of {device}: '
                             f'{reply.get("type")}')
    fields = fields_of(msgs)
    times = sorted({parse_utc(f['timestamp']).timestamp() for f in fields})
    counts = collections.Counter(f.get('name') for f in fields)
    expected = round((last - first) / interval)
    lost = max((max(0, expected - n) for n in counts.values()),
               default=expected)
    return times, lost


def outage_world(devices, mode=None, storage='internal', **kithd_args):
    """A world with `devices` sim devices (one relay, the rest
    thermometers), Prosody keeping messages for offline contacts, kithd
    logging its connection attempts; every device online and befriended by
    alice.  Returns (world, alice)."""
    world = World(start_kithd=False, storage=storage, mode=mode,
                  modules=('offline',))
    try:
        kithd = Kithd(world.prosody, world.tmp, start=False, mode=world.mode,
                      thermometers=devices - 1, relays=1, interval=1,
                      **kithd_args)
        world.kithd = kithd
        kithd.extra_env = {'G_MESSAGES_DEBUG': 'kith-xmpp'}
        kithd.start()
        alice = world.peer('alice')
        kithd.wait_online(alice, timeout=120)
        befriend(alice, kithd.bare_jids(), timeout=60)
    except BaseException:
        world.close()
        raise
    return world, alice


def format_figures(title, fig):
    rows = [f'{title}:']
    for key, value in fig.items():
        rows.append(f'  {key}: {value}')
    return '\n'.join(rows)
