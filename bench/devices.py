#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Devices that come and go: what a reload and a blocked bus cost.

    /usr/bin/python3 bench/devices.py [--devices 500] [--added 10] [--rounds 3]

1. reload: component mode, N sim devices each with one subscriber (a
   contact of a raw component); the configuration gains M devices and kithd
   gets SIGHUP.  Measured: the time from SIGHUP until every new device
   answers a ping, and the presence stanzas the unchanged devices' friends
   receive from SIGHUP until 3 s after that (the goal is zero).
2. blocked bus: ping round trips to a device of one bus, alternating
   windows with and without a read blocking another bus (ReadDelay=1, two
   reads always in flight); median and p99 of each, and their ratio.

Each part runs in a fresh Prosody + kithd on 127.0.0.1 started through
tests/integration/harness.py; the peers are raw XEP-0114 components
(bench/component.py).  Prints a markdown table and writes
bench/results-devices.md.
"""

import argparse
import os
import signal
import sqlite3
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402  (first: the harness takes the name 'component')
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    'bench_component', os.path.join(HERE, 'component.py'))
component = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(component)
DEVICES, RawComponent, StanzaReader = (component.DEVICES, component.RawComponent,
                                       component.StanzaReader)
close_world, new_kithd, new_prosody = (component.close_world, component.new_kithd,
                                       component.new_prosody)

WATCHERS = 'watchers'
FROM = 2


class Watcher:
    """watchers.localhost: counts presence per sender and times ping
    answers."""

    def __init__(self, prosody):
        self.lock = threading.Lock()
        self.presence = {}        # sender bare JID -> count
        self.answers = {}         # iq id -> monotonic time
        self.answered = threading.Condition(self.lock)
        self.reader = StanzaReader(self._stanza)
        self.comp = RawComponent(prosody, WATCHERS, self.reader.feed)

    def _stanza(self, name, attrs, children, now):
        with self.lock:
            if name == 'presence':
                sender = attrs.get('from', '').split('/')[0]
                self.presence[sender] = self.presence.get(sender, 0) + 1
            elif name == 'iq' and attrs.get('type') in ('result', 'error'):
                self.answers[attrs.get('id')] = (now, attrs.get('type'))
                self.answered.notify_all()

    def presence_from(self, senders):
        with self.lock:
            return sum(self.presence.get(s, 0) for s in senders)

    def ping(self, to, iq_id, timeout=10):
        """(round trip in seconds, 'result' or 'error')."""
        started = time.monotonic()
        self.comp.send(f"<iq type='get' id='{iq_id}' from='w@{self.comp.jid}' "
                       f"to='{to}'><ping xmlns='urn:xmpp:ping'/></iq>")
        with self.lock:
            while iq_id not in self.answers:
                if not self.answered.wait(timeout):
                    raise TimeoutError(f'no answer to {iq_id}')
            at, type_ = self.answers.pop(iq_id)
        return at - started, type_

    def send(self, text):
        self.comp.send(text)


def subscribe_all(kithd, devices, watcher_domain):
    """One subscriber per device (also devices still to come: the rows wait
    for them), written into kithd's roster while it is stopped (what
    befriending would leave there)."""
    kithd.start()
    kithd.wait_log(component.COMPONENT_ONLINE_RE, 60)
    kithd.wait_log(component.ANNOUNCED_RE, 60)
    if kithd.stop(timeout=60) != 0:
        raise RuntimeError('kithd did not stop cleanly')
    conn = sqlite3.connect(kithd.db, timeout=10)
    with conn:
        conn.executemany(
            'INSERT INTO roster (device_id, jid, state, updated) VALUES (?, ?, ?, ?)',
            ((d, f'w@{watcher_domain}', FROM, int(time.time())) for d in devices))
    conn.close()


def measure_reload(devices, added):
    rec = {'devices': devices, 'added': added}
    tmp, prosody = new_prosody((DEVICES, WATCHERS))
    kithd = watcher = None
    try:
        kithd = new_kithd(prosody, tmp, 'component', devices)
        names = [f'sim-thermometer-{i}' for i in range(1, devices + 1)]
        subscribe_all(kithd, [f'sim-thermometer-{i}' for i in
                              range(1, devices + added + 1)],
                      prosody.component_jid(WATCHERS))
        watcher = Watcher(prosody)
        kithd.start()
        kithd.wait_log(component.ANNOUNCED_RE, 120)
        domain = prosody.component_jid(DEVICES)
        olds = [f'{n}@{domain}' for n in names]
        # every device announced itself to its subscriber: then quiet
        deadline = time.monotonic() + 60
        while watcher.presence_from(olds) < devices and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1)
        before = watcher.presence_from(olds)
        kithd.groups['bus:sim']['Thermometers'] = str(devices + added)
        kithd.write_config()
        started = time.monotonic()
        kithd.proc.send_signal(signal.SIGHUP)
        new = [f'sim-thermometer-{i}@{domain}/kith'
               for i in range(devices + 1, devices + added + 1)]
        pending = set(new)
        serial = 0
        while pending and time.monotonic() - started < 60:
            for to in sorted(pending):
                serial += 1
                rtt, type_ = watcher.ping(to, f'p{serial}')
                if type_ == 'result':
                    pending.discard(to)
            if pending:
                time.sleep(0.01)
        rec['new_online_ms'] = (time.monotonic() - started) * 1000
        rec['new_missing'] = len(pending)
        time.sleep(3)
        rec['presence_to_old_friends'] = watcher.presence_from(olds) - before
        rec['rss_kb'] = run.proc_status(kithd.proc.pid).get('VmRSS')
    finally:
        rec['exit'] = close_world(tmp, prosody, kithd, [watcher.comp if watcher else None])
    return rec


def measure_reload_client(devices, added):
    """Client mode: the time from SIGHUP until the new devices' sessions are
    up (accounts made by in-band registration, TLS off)."""
    rec = {'devices': devices, 'added': added}
    tmp, prosody = new_prosody(())
    kithd = None
    try:
        kithd = new_kithd(prosody, tmp, 'client', devices)
        kithd.start()
        kithd.wait_log(rf'all {devices} devices online after', 120)
        time.sleep(1)
        kithd.groups['bus:sim']['Thermometers'] = str(devices + added)
        kithd.write_config()
        started = time.time()
        kithd.proc.send_signal(signal.SIGHUP)
        kithd.wait_log(rf'all {devices + added} devices online after', 120)
        at = component.log_time(rf'all {devices + added} devices online after',
                                kithd.log_text())
        rec['new_online_ms'] = ((at - component.seconds_of_day(started)) % 86400) * 1000
    finally:
        rec['exit'] = close_world(tmp, prosody, kithd)
    return rec


def measure_blocked(windows, window_s):
    rec = {}
    tmp, prosody = new_prosody((DEVICES, WATCHERS))
    kithd = watcher = None
    try:
        kithd = new_kithd(prosody, tmp, 'component', 1,
                          {'bus:slow': {'Driver': 'sim', 'Thermometers': '1',
                                        'ReadDelay': '1', 'Interval': '0'}})
        kithd.devices = ['sim-thermometer-1', 'slow-thermometer-1']
        subscribe_all(kithd, kithd.devices, prosody.component_jid(WATCHERS))
        kithd.start()
        kithd.wait_log(component.ANNOUNCED_RE, 60)
        watcher = Watcher(prosody)
        domain = prosody.component_jid(DEVICES)
        healthy = f'sim-thermometer-1@{domain}/kith'
        slow = f'slow-thermometer-1@{domain}/kith'
        rtts = {'free': [], 'blocked': []}
        serial = [0]
        stop = threading.Event()

        def keep_blocked():
            n = 0
            while not stop.is_set():
                n += 1
                watcher.send(f"<iq type='get' id='r{n}' from='w@{watcher.comp.jid}' "
                             f"to='{slow}'><req xmlns='urn:xmpp:iot:sensordata' "
                             f"seqnr='{n}' momentary='true'/></iq>")
                time.sleep(0.5)   # ReadDelay=1: two reads always queued

        for i in range(windows * 2):
            blocked = i % 2 == 1
            thread = None
            if blocked:
                stop.clear()
                thread = threading.Thread(target=keep_blocked, daemon=True)
                thread.start()
                time.sleep(1.5)
            end = time.monotonic() + window_s
            while time.monotonic() < end:
                serial[0] += 1
                rtt, type_ = watcher.ping(healthy, f'q{serial[0]}')
                if type_ == 'result':
                    rtts['blocked' if blocked else 'free'].append(rtt * 1000)
            if thread is not None:
                stop.set()
                thread.join()
                time.sleep(2.5)   # the queued reads end
        for key, values in rtts.items():
            rec[f'{key}_n'] = len(values)
            rec[f'{key}_median_ms'] = statistics.median(values)
            rec[f'{key}_p99_ms'] = run.percentile(values, 99)
    finally:
        rec['exit'] = close_world(tmp, prosody, kithd, [watcher.comp if watcher else None])
    return rec


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--devices', type=int, default=500)
    parser.add_argument('--added', type=int, default=10)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--client-devices', type=int, default=100)
    parser.add_argument('--windows', type=int, default=3)
    parser.add_argument('--window-seconds', type=float, default=5)
    parser.add_argument('--out', default=os.path.join(HERE, 'results-devices.md'))
    args = parser.parse_args()
    run.prepare_environment()
    info = run.machine_info(run.harness.kithd_binary())
    reloads = [measure_reload(args.devices, args.added) for _ in range(args.rounds)]
    clients = [measure_reload_client(args.client_devices, args.added)
               for _ in range(args.rounds)]
    blocked = measure_blocked(args.windows, args.window_seconds)
    lines = [f'# Devices that come and go: {time.strftime("%Y-%m-%d")}', '',
             f"Machine: {info['cpu']}, {info['cores']} cores, {info['mem']}, kernel "
             f"{info['kernel']}; kithd {info['commit']} ({info['kithd']}); {info['date']}.",
             '',
             f'## Reload of {args.devices} devices (component mode) adding {args.added}',
             '', '| round | new devices online after SIGHUP | presence stanzas to the '
             'unchanged devices\' friends | new devices missing | kithd exit |',
             '|---|---|---|---|---|']
    for i, rec in enumerate(reloads, 1):
        lines.append(f"| {i} | {rec.get('new_online_ms', float('nan')):.0f} ms | "
                     f"{rec.get('presence_to_old_friends')} | {rec.get('new_missing')} | "
                     f"{rec.get('exit')} |")
    med = statistics.median(r['new_online_ms'] for r in reloads if 'new_online_ms' in r)
    client_med = statistics.median(r['new_online_ms'] for r in clients
                                   if 'new_online_ms' in r)
    lines += ['', f'Median: new devices online {med:.0f} ms after SIGHUP.', '',
              f'Client mode, {args.client_devices} devices adding {args.added} (a session '
              f'and an account each, TLS off): new devices online '
              + ', '.join(f"{r.get('new_online_ms', float('nan')):.0f} ms" for r in clients)
              + f' after SIGHUP (median {client_med:.0f} ms). The unchanged devices\' '
              'sessions are not touched (tests/integration/test_devices.py checks that '
              'their friends see no presence in both modes).', '',
              '## Ping round trip to a healthy device while another bus blocks', '',
              '| | pings | median | p99 |', '|---|---|---|---|',
              f"| no bus blocked | {blocked.get('free_n')} | "
              f"{blocked.get('free_median_ms', 0):.2f} ms | {blocked.get('free_p99_ms', 0):.2f} ms |",
              f"| another bus blocked (reads of 1 s back to back) | {blocked.get('blocked_n')} | "
              f"{blocked.get('blocked_median_ms', 0):.2f} ms | "
              f"{blocked.get('blocked_p99_ms', 0):.2f} ms |", '',
              f"Ratio blocked/free: median "
              f"{blocked.get('blocked_median_ms', 0) / max(blocked.get('free_median_ms', 1), 1e-9):.2f}, "
              f"p99 {blocked.get('blocked_p99_ms', 0) / max(blocked.get('free_p99_ms', 1), 1e-9):.2f}."]
    text = '\n'.join(lines) + '\n'
    print(text)
    with open(args.out, 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
