#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""MQTT to XMPP: what it costs a reading to reach a friend.

    /usr/bin/python3 bench/mqtt.py [--messages 1000] [--devices 100] [--discovered 1000]

1. latency: a value published on the broker until a friend (a raw XEP-0114 component,
   subscribed to the device) receives the device's presence carrying it, over 1,000 messages;
   beside it, in the same run and alternating, the same publication to a plain MQTT
   subscriber through the same broker. The figure is the ratio of the medians.
2. throughput: 100 devices, values published as fast as the broker takes them for a few
   seconds; readings bridged per second (presence stanzas received by the friends) and
   kithd's CPU per reading.
3. memory: 1,000 devices found by Home Assistant discovery; kithd's RSS per device.

Component mode, kithd started through tests/integration/harness.py with a mosquitto of
drivers/mqtt/tests/mqtt_harness.py; Prosody and mosquitto on 127.0.0.1. Prints a markdown
table and writes bench/results-mqtt.md.
"""

import argparse
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

import run  # noqa: E402  (first: the harness takes the name 'component')
import importlib.util  # noqa: E402
from mqtt_harness import Broker, Client  # noqa: E402

_spec = importlib.util.spec_from_file_location('bench_component',
                                               os.path.join(HERE, 'component.py'))
component = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(component)

WATCHERS = 'watchers'
FROM = 2


class Friend:
    """watchers.localhost: the time each presence arrives, by sender and status."""

    def __init__(self, prosody):
        self.lock = threading.Condition()
        self.seen = []            # (monotonic time, sender, status)
        self.count = 0
        self.reader = component.StanzaReader(self._stanza)
        self.comp = component.RawComponent(prosody, WATCHERS, self._data)
        self._status = None

    def _data(self, chunk, now):
        self.reader.feed(chunk, now)

    def _stanza(self, name, attrs, children, now):
        if name != 'presence' or attrs.get('type') is not None:
            return
        with self.lock:
            self.count += 1
            self.seen.append((now, attrs.get('from', '').split('/')[0]))
            self.lock.notify_all()

    def wait_count(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.count < count:
                left = deadline - time.monotonic()
                if left <= 0 or not self.lock.wait(left):
                    raise TimeoutError(f'{self.count} of {count} presences')
            return self.seen[count - 1][0]


def world(devices, explicit=True, presence_rate=None):
    """Prosody (devices + watchers components), mosquitto, kithd with `devices` explicit MQTT
    devices bench-1..N (topic bench/N, field V), each with one subscriber."""
    tmp = tempfile.mkdtemp(prefix='kith-bench-mqtt-')
    broker = Broker(tmp).start()
    tmp2, prosody = component.new_prosody((component.DEVICES, WATCHERS))
    groups = {'bus:b': {'Driver': 'mqtt', 'Broker': '127.0.0.1', 'Port': str(broker.port),
                        'MaxDevices': '100000'}}
    if explicit:
        for i in range(1, devices + 1):
            groups[f'bus:b:d{i}'] = {'Topic': f'bench/{i}', 'V.Path': '$.v',
                                     'V.Decimals': '1'}
    else:
        groups['bus:b']['Discovery'] = 'homeassistant'
    if presence_rate is not None:
        groups['xmpp'] = {'PresenceRate': str(presence_rate)}
    kithd = component.new_kithd(prosody, tmp2, 'component', 0, groups)
    kithd.devices = [f'b-d{i}' for i in range(1, devices + 1)] if explicit else []
    return tmp, broker, tmp2, prosody, kithd


def befriend_all(kithd, prosody, ids):
    kithd.start()
    kithd.wait_log(component.COMPONENT_ONLINE_RE, 60)
    if kithd.stop(timeout=60) != 0:
        raise RuntimeError('kithd did not stop cleanly')
    conn = sqlite3.connect(kithd.db, timeout=10)
    with conn:
        conn.executemany(
            'INSERT INTO roster (device_id, jid, state, updated) VALUES (?, ?, ?, ?)',
            ((d, f'w@{prosody.component_jid(WATCHERS)}', FROM, int(time.time()))
             for d in ids))
    conn.close()


def measure_latency(messages):
    tmp, broker, tmp2, prosody, kithd = world(1)
    friend = source = sink = None
    rec = {}
    try:
        befriend_all(kithd, prosody, kithd.devices)
        friend = Friend(prosody)
        kithd.start()
        source = Client(broker.port, client_id='source')
        sink = Client(broker.port, client_id='sink')
        sink.subscribe('plain/v')
        # the device online and answering: its first value arrives as presence
        source.publish('bench/1', json.dumps({'v': 0}), retain=True)
        friend.wait_count(1, 60)
        time.sleep(0.5)
        base = friend.count
        through, plain = [], []
        for i in range(1, messages + 1):
            payload = json.dumps({'v': i})     # a new value each time: a new status line
            started = time.monotonic()
            source.publish('bench/1', payload)
            at = friend.wait_count(base + i, 10)
            through.append(at - started)
            started = time.monotonic()
            source.publish('plain/v', payload)
            sink.wait_message('plain/v', payload=payload)
            plain.append(time.monotonic() - started)
        for name, samples in (('xmpp', through), ('mqtt', plain)):
            rec[f'{name}_median_ms'] = statistics.median(samples) * 1000
            rec[f'{name}_p99_ms'] = run.percentile([s * 1000 for s in samples], 99)
        rec['messages'] = messages
    finally:
        for client in (source, sink):
            if client is not None:
                client.close()
        rec['exit'] = component.close_world(tmp2, prosody, kithd,
                                            [friend.comp if friend else None])
        broker.stop()
    return rec


def measure_throughput(devices, seconds):
    # presence is paced (PresenceRate, 2000/s by default): raised here to see the bridge itself
    tmp, broker, tmp2, prosody, kithd = world(devices, presence_rate=100000)
    friend = source = None
    rec = {'devices': devices}
    try:
        befriend_all(kithd, prosody, kithd.devices)
        friend = Friend(prosody)
        kithd.start()
        source = Client(broker.port, client_id='source')
        for i in range(1, devices + 1):
            source.publish(f'bench/{i}', json.dumps({'v': 0}), retain=True)
        friend.wait_count(devices, 60)
        time.sleep(1)
        start_count = friend.count
        cpu0 = run.cpu_ms(kithd.proc.pid)
        started = time.monotonic()
        published = 0
        value = 0
        while time.monotonic() - started < seconds:
            value += 1
            for i in range(1, devices + 1):
                source.publish(f'bench/{i}', json.dumps({'v': value}))
                published += 1
            time.sleep(0.001)
        elapsed = time.monotonic() - started
        # until the last ones arrived (nothing new for a second)
        last = -1
        while friend.count != last:
            last = friend.count
            time.sleep(1)
        elapsed_all = time.monotonic() - started - 1
        bridged = friend.count - start_count
        cpu = run.cpu_ms(kithd.proc.pid) - cpu0
        rec.update({'published': published, 'bridged': bridged,
                    'per_s': bridged / elapsed_all, 'published_per_s': published / elapsed,
                    'cpu_us': cpu * 1000 / max(bridged, 1)})
    finally:
        if source is not None:
            source.close()
        rec['exit'] = component.close_world(tmp2, prosody, kithd,
                                            [friend.comp if friend else None])
        broker.stop()
    return rec


def measure_memory(devices):
    rec = {'devices': devices}
    for n in (0, devices):
        tmp, broker, tmp2, prosody, kithd = world(0, explicit=False)
        source = None
        try:
            kithd.start()
            kithd.wait_log(component.COMPONENT_ONLINE_RE, 60)
            source = Client(broker.port, client_id='source')
            for i in range(n):
                config = {'name': 'Temperature', 'stat_t': f'dev/{i}/state',
                          'val_tpl': '{{ value_json.t }}', 'unit_of_meas': '°C',
                          'uniq_id': f'dev{i}_t', 'dev': {'ids': [f'dev{i}'], 'name': f'D{i}'}}
                source.publish(f'homeassistant/sensor/dev{i}/t/config', json.dumps(config),
                               retain=True)
                source.publish(f'dev/{i}/state', json.dumps({'t': 20 + i % 10}), retain=True)
            deadline = time.monotonic() + 120
            while n and time.monotonic() < deadline:
                if kithd.log_text().count('a new device on bus b') >= n:
                    break
                time.sleep(0.2)
            time.sleep(3)
            rec[f'rss_{n}'] = run.proc_status(kithd.proc.pid).get('VmRSS')
        finally:
            if source is not None:
                source.close()
            component.close_world(tmp2, prosody, kithd)
            broker.stop()
    rec['per_device_kb'] = (rec[f'rss_{devices}'] - rec['rss_0']) / devices
    return rec


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--messages', type=int, default=1000)
    parser.add_argument('--devices', type=int, default=100)
    parser.add_argument('--seconds', type=float, default=5)
    parser.add_argument('--discovered', type=int, default=1000)
    parser.add_argument('--out', default=os.path.join(HERE, 'results-mqtt.md'))
    args = parser.parse_args()
    run.prepare_environment()
    info = run.machine_info(run.harness.kithd_binary())
    lat = measure_latency(args.messages)
    thr = measure_throughput(args.devices, args.seconds)
    mem = measure_memory(args.discovered)
    mem_full = mem[f"rss_{mem['devices']}"]
    text = '\n'.join([
        f'# MQTT to XMPP: {time.strftime("%Y-%m-%d")}', '',
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['mem']}; kithd "
        f"{info['commit']}; {info['date']}. Component mode, mosquitto and Prosody on "
        '127.0.0.1.', '',
        '| what | result |', '|---|---|',
        f"| publish → a friend's presence with the value, {lat['messages']} messages | median "
        f"{lat['xmpp_median_ms']:.2f} ms, p99 {lat['xmpp_p99_ms']:.2f} ms |",
        f"| publish → a plain MQTT subscriber, same broker, same run | median "
        f"{lat['mqtt_median_ms']:.2f} ms, p99 {lat['mqtt_p99_ms']:.2f} ms |",
        f"| ratio (medians) | **{lat['xmpp_median_ms'] / lat['mqtt_median_ms']:.1f}×** |",
        f"| {thr['devices']} devices, values published as fast as the broker takes them | "
        f"{thr['published_per_s']:.0f} published/s; {thr['per_s']:.0f} presence updates/s reach "
        f"the friends ({thr['bridged']} of {thr['published']} readings), {thr['cpu_us']:.0f} µs "
        "of kithd CPU each |",
        f"| RSS with {mem['devices']} devices from Home Assistant discovery | "
        f"{mem_full / 1024:.1f} MB (empty bus {mem['rss_0'] / 1024:.1f} MB): "
        f"**{mem['per_device_kb']:.1f} KB per device** |", ''])
    print(text)
    with open(args.out, 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
