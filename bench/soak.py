#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Soak: 500 devices across the sim, MQTT and Modbus buses, a reading a second each, for an
hour, with the XMPP server restarted in the middle.

    meson compile -C build && /usr/bin/python3 bench/soak.py [--minutes 60]

What it shows, sampled every 10 s: kithd's RSS (flat?), its open file descriptors (growing?),
its wake-ups per second (context switches of all its threads) and CPU; the time the devices
needed to come back after the restart; and whether the history is complete: every MQTT
message published is a reading in history.db, the sim and Modbus series have no gap longer
than their poll period allows (also across the outage), and a friend's XEP-0323 historical
readout of the outage returns what the database holds.

kithd runs in component mode (one stream for all devices) against a Prosody on 127.0.0.1,
with a mosquitto and a pymodbus TCP server (drivers/*/tests) on 127.0.0.1; 200 sim
thermometers (Interval=1), 200 MQTT devices (a publisher sends each a new value every second),
100 Modbus units with the xy-md02 profile polled every second (their registers change every
second). Writes bench/results-soak.md.
"""

import argparse
import datetime
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, 'drivers', 'mqtt', 'tests'))
sys.path.insert(0, os.path.join(REPO, 'drivers', 'modbus', 'tests'))

import run  # noqa: E402  (first: it puts tests/integration on the path)
import modbus_harness  # noqa: E402
from harness import (Kithd, Prosody, befriend, error_of, fields_of,  # noqa: E402
                     parse_utc, readout_raw)
from mqtt_harness import Broker, Client  # noqa: E402

ONLINE_RE = r'component \S+: online'
US = 1_000_000


def utc(seconds):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(seconds))


class Ticker(threading.Thread):
    """Calls `tick(n)` once a second until stopped; counts the ticks."""

    def __init__(self, tick):
        super().__init__(daemon=True)
        self.tick = tick
        self.stopped = threading.Event()
        self.errors = []

    def run(self):
        n = 0
        next_at = time.monotonic()
        while not self.stopped.is_set():
            try:
                self.tick(n)
            except Exception as exc:  # keep ticking: the report counts them
                self.errors.append(repr(exc))
            n += 1
            next_at += 1.0
            self.stopped.wait(max(0.0, next_at - time.monotonic()))

    def stop(self):
        self.stopped.set()
        self.join(timeout=10)


class Sampler:
    """kithd's RSS, fds, context switches and CPU from /proc."""

    def __init__(self, pid):
        self.pid = pid
        self.rows = []
        self.tick = os.sysconf('SC_CLK_TCK')

    def _switches(self):
        total = 0
        for task in os.listdir(f'/proc/{self.pid}/task'):
            try:
                with open(f'/proc/{self.pid}/task/{task}/status') as f:
                    for line in f:
                        if line.startswith(('voluntary_ctxt_switches',
                                            'nonvoluntary_ctxt_switches')):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def sample(self, phase):
        with open(f'/proc/{self.pid}/status') as f:
            status = dict(line.split(':', 1) for line in f if ':' in line)
        with open(f'/proc/{self.pid}/stat') as f:
            stat = f.read().rsplit(')', 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / self.tick
        self.rows.append({
            't': time.monotonic(), 'phase': phase,
            'rss_kb': int(status['VmRSS'].split()[0]),
            'fds': len(os.listdir(f'/proc/{self.pid}/fd')),
            'threads': int(status['Threads']),
            'switches': self._switches(), 'cpu_s': cpu})


def rates(rows):
    """per interval: wake-ups per second and CPU share"""
    out = []
    for a, b in zip(rows, rows[1:]):
        dt = b['t'] - a['t']
        out.append({'t': b['t'], 'phase': b['phase'],
                    'wakeups': (b['switches'] - a['switches']) / dt,
                    'cpu': 100.0 * (b['cpu_s'] - a['cpu_s']) / dt})
    return out


def history_series(db):
    conn = sqlite3.connect(f'file:{db}?mode=ro', uri=True, timeout=30)
    series = {}
    for sid, device, field in conn.execute('SELECT id, device, field FROM series'):
        times = [t for (t,) in conn.execute(
            'SELECT t FROM readings WHERE series = ? ORDER BY t', (sid,))]
        series[(device, field)] = times
    conn.close()
    return series


def largest_gap(times, start, end):
    """the longest time without a reading inside [start, end] (seconds)"""
    points = [start] + [t / US for t in times if start <= t / US <= end] + [end]
    return max(b - a for a, b in zip(points, points[1:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--minutes', type=float, default=60)
    parser.add_argument('--sim', type=int, default=200)
    parser.add_argument('--mqtt', type=int, default=200)
    parser.add_argument('--modbus', type=int, default=100)
    parser.add_argument('--outage', type=float, default=30,
                        help='seconds the XMPP server stays down in the middle')
    parser.add_argument('--sample', type=float, default=10)
    parser.add_argument('--out', default=os.path.join(HERE, 'results-soak.md'))
    args = parser.parse_args()
    if not 1 <= args.modbus <= 247:
        parser.error('--modbus: 1 to 247 units on one server')

    _, source = run.prepare_environment()
    info = run.machine_info(source)
    tmp = tempfile.mkdtemp(prefix='soak-')
    broker = Broker(tmp).start()
    units = {u: {'input': {'1': [200, 500]}} for u in range(1, args.modbus + 1)}
    modbus = modbus_harness.Server(tmp, units)
    prosody = Prosody(tmp, tls=False, storage='memory', components=('devices',))
    groups = {
        # the whole hour is kept (2.2 million readings, ~62 MB): the default 64 MB ring
        # would take the oldest minutes, which the gaps below would count as missing
        'kith': {'HistoryMaxMB': '1000'},
        'bus:m': {'Driver': 'mqtt', 'Broker': '127.0.0.1', 'Port': str(broker.port)},
        'bus:mb': {'Driver': 'modbus', 'Transport': 'tcp', 'Host': '127.0.0.1',
                   'Port': str(modbus.port), 'Interval': '1',
                   'Units': f'1-{args.modbus}:xy-md02'},
    }
    for i in range(1, args.mqtt + 1):
        groups[f'bus:m:d{i}'] = {'Topic': f'soak/{i}', 'V.Path': '$.v', 'V.Decimals': '0'}
    kithd = Kithd(prosody, tmp, mode='component', thermometers=args.sim, relays=0,
                  interval=1, tls='disabled', extra_groups=groups, start=False)
    kithd.start()
    kithd.wait_log(ONLINE_RE, 120)
    total = args.sim + args.mqtt + args.modbus
    kithd.wait_log(rf'all {total} devices online', 300)
    sampler = Sampler(kithd.proc.pid)

    published = {}
    publisher = Client(broker.port, client_id='soak-publisher')

    def publish(n):
        for i in range(1, args.mqtt + 1):
            publisher.publish(f'soak/{i}', json.dumps({'v': n}))
            published[i] = published.get(i, 0) + 1

    def set_registers(n):
        for u in range(1, args.modbus + 1):
            # steps above the profile's deadbands (0.2 °C, 1 %): every poll sees a change
            modbus.command(f'set {u} input 1 {200 + 5 * (n % 20)} {300 + 20 * (n % 20)}')
        if n % 10 == 0:
            modbus.command('log')  # the server keeps its request log until asked

    ticks = [Ticker(publish), Ticker(set_registers)]
    for t in ticks:
        t.start()
    wall0 = time.time()
    duration = args.minutes * 60
    restart_at = duration / 2
    outage = None
    back_after = None
    mono0 = time.monotonic()
    next_sample = mono0
    phase = 'before'
    while True:
        elapsed = time.monotonic() - mono0
        if elapsed >= duration:
            break
        if outage is None and elapsed >= restart_at:
            online_before = kithd.log_text(whole=True).count(': online')
            down = time.time()
            prosody.stop()
            time.sleep(args.outage)
            up = time.time()
            prosody.start()
            outage = (down, up)
            deadline = time.monotonic() + 300
            while kithd.log_text(whole=True).count(': online') <= online_before:
                if time.monotonic() > deadline:
                    raise RuntimeError('the component did not come back')
                time.sleep(0.05)
            back_after = time.time() - up
            phase = 'after'
            sampler.sample(phase)
            next_sample = time.monotonic() + args.sample
        if time.monotonic() >= next_sample:
            sampler.sample(phase)
            next_sample += args.sample
        time.sleep(0.2)
    for t in ticks:
        t.stop()
    wall1 = time.time()
    sampler.sample(phase)

    # a friend reads the outage back from two devices
    friend = prosody.peer('soak-friend')
    devices = ['sim-thermometer-1', 'm-d1', 'mb-1']
    jids = [kithd.jid(d) for d in devices]
    befriend(friend, jids, timeout=30)
    seen = {}
    lo, hi = int(outage[0] - 5), int(outage[1] + 5)  # whole seconds, as from/to carry them
    for device, jid in zip(devices, jids):
        reply, msgs = readout_raw(friend, kithd.full(device), '9',
                                  f"historical='true' from='{utc(lo)}' to='{utc(hi)}'", timeout=60)
        if reply.get('type') != 'result':
            raise RuntimeError(f'{device}: historical readout failed: {error_of(reply)}')
        seen[device] = {(f['name'], parse_utc(f['timestamp']).timestamp())
                        for f in fields_of(msgs)}
    friend.close()
    code = kithd.stop(timeout=60)
    log_text = kithd.log_text(whole=True)
    prosody.stop()
    broker.stop()
    modbus.stop()
    publisher.close()

    series = history_series(os.path.join(kithd.state_dir, 'history.db'))
    mqtt_lost = 0
    for i in range(1, args.mqtt + 1):
        times = series.get((f'm-d{i}', 'V'), [])
        mqtt_lost += max(0, published.get(i, 0) - len([t for t in times if t / US >= wall0 - 1]))
    gaps = {'sim': [], 'modbus': []}
    for (device, field), times in series.items():
        kind = 'sim' if device.startswith('sim-') else 'modbus' if device.startswith('mb-') \
            else None
        if kind and field in ('Temperature', 'Humidity'):
            gaps[kind].append(largest_gap(times, wall0 + 5, wall1 - 5))
    readout_ok = {}
    for device in devices:
        db_points = []
        for (dev, field), times in series.items():
            if dev == device:
                db_points += [(field, t / US) for t in times
                              if lo * US <= t <= hi * US]
        # the readout's timestamps are whole seconds
        missing = {(field, int(when)) for field, when in db_points} - \
            {(name, int(t)) for name, t in seen[device]}
        if missing:
            print(device, 'missing from the readout', sorted(missing)[:5],
                  'got', sorted(seen[device])[:5])
        readout_ok[device] = (len(seen[device]), len(db_points), not missing)

    rows = sampler.rows
    rr = rates(rows)
    first = [r['rss_kb'] for r in rows if r['t'] - mono0 < 600] or [rows[0]['rss_kb']]
    last = [r['rss_kb'] for r in rows if rows[-1]['t'] - r['t'] < 600]
    fds = [r['fds'] for r in rows]
    result = {
        'info': info, 'args': vars(args), 'exit': code,
        'warnings': sum(1 for line in log_text.splitlines() if 'WARNING' in line),
        'criticals': sum(1 for line in log_text.splitlines() if 'CRITICAL' in line),
        'warning_lines': [line for line in log_text.splitlines()
                          if 'WARNING' in line or 'CRITICAL' in line][:10],
        'rss_first_mb': statistics.median(first) / 1024,
        'rss_last_mb': statistics.median(last) / 1024,
        'rss_max_mb': max(r['rss_kb'] for r in rows) / 1024,
        'fds': (min(fds), max(fds), fds[0], fds[-1]),
        'wakeups': statistics.median(r['wakeups'] for r in rr),
        'cpu': statistics.median(r['cpu'] for r in rr),
        'back_after_s': back_after,
        'published': sum(published.values()), 'mqtt_lost': mqtt_lost,
        'sim_gap_max': max(gaps['sim'] or [0]), 'modbus_gap_max': max(gaps['modbus'] or [0]),
        'readings': sum(len(t) for t in series.values()),
        'readout': readout_ok,
        'ticker_errors': [e for t in ticks for e in t.errors][:5],
    }
    write_report(args, result, rows, mono0)
    print(json.dumps({k: v for k, v in result.items() if k != 'info'}, indent=1))


def write_report(args, r, rows, mono0):
    lines = [
        '# Soak', '',
        f"{r['info']['date']}, commit {r['info']['commit']}, {r['info']['cpu']} "
        f"({r['info']['cores']} cores), kernel {r['info']['kernel']}.", '',
        f"{args.sim} sim thermometers + {args.mqtt} MQTT devices + {args.modbus} Modbus units "
        f"(component mode), a reading a second each, {args.minutes:g} min; the XMPP server "
        f"stopped for {args.outage:g} s in the middle. kithd's exit code: {r['exit']}, "
        f"{r['warnings']} warnings and {r['criticals']} criticals in its log"
        + ''.join(f"\n\n    {line}" for line in r['warning_lines']) + ('.' if not r['warning_lines'] else ''), '',
        '| | |', '|---|---|',
        f"| RSS, median of the first / last 10 min | {r['rss_first_mb']:.1f} MB / "
        f"{r['rss_last_mb']:.1f} MB (max {r['rss_max_mb']:.1f} MB) |",
        f"| open fds min / max (first / last sample) | {r['fds'][0]} / {r['fds'][1]} "
        f"({r['fds'][2]} / {r['fds'][3]}) |",
        f"| wake-ups per second (median of {args.sample:g} s samples) | {r['wakeups']:.0f} |",
        f"| CPU (median) | {r['cpu']:.1f} % of one core |",
        f"| devices back after the server returned | {r['back_after_s']:.2f} s |",
        f"| MQTT messages published / missing from history | {r['published']} / "
        f"{r['mqtt_lost']} |",
        f"| longest gap in a sim / Modbus series (also across the outage) | "
        f"{r['sim_gap_max']:.1f} s / {r['modbus_gap_max']:.1f} s |",
        f"| readings in history.db | {r['readings']} |",
    ]
    for device, (got, db, ok) in r['readout'].items():
        lines.append(f"| historical readout of the outage ±5 s, {device} | {got} readings, "
                     f"the database holds {db}: {'all of them' if ok else 'NOT all'} |")
    if r['ticker_errors']:
        lines.append(f"| publisher errors | {'; '.join(r['ticker_errors'])} |")
    lines += ['', 'Every sample (minutes since start, phase, RSS MB, fds, threads):', '', '```']
    for row in rows[::max(1, len(rows) // 60)]:
        lines.append(f"{(row['t'] - mono0) / 60:6.1f} {row['phase']:6} "
                     f"{row['rss_kb'] / 1024:7.1f} {row['fds']:4} {row['threads']:3}")
    lines += ['```', '']
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
