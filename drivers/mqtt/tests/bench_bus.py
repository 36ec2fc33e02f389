#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bus-level figures of the MQTT driver against a real mosquitto (not a test: run by hand,
KITH_BUS_MONITOR=build/tests/tools/kith-bus-monitor drivers/mqtt/tests/bench_bus.py):

- latency from a publication to the device's change (as kith-bus-monitor reports it on its
  stdout, so an upper bound), beside plain MQTT to MQTT through the same broker;
- memory per device with 1,000 devices found by Home Assistant discovery;
- CPU and wake-ups of an idle bus."""

import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_harness import Context, bus_config  # noqa: E402

MESSAGES = 1000
DEVICES = 1000


def percentiles(samples):
    samples = sorted(samples)
    return (statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000,
            samples[-1] * 1000)


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])


def switches(pid):
    total = 0
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if 'ctxt_switches' in line:
                total += int(line.split()[1])
    return total


def latency(ctx, broker):
    monitor = ctx.monitor(bus_config(broker, extra='[bus:home:meter]\nTopic=meter/v\n'
                                     'V.Path=$.v\n'))
    monitor.wait('availability', id='home-meter', answering=True)
    source = ctx.client(broker.port, client_id='source')
    sink = ctx.client(broker.port, client_id='sink')
    sink.subscribe('plain/v')
    time.sleep(0.3)
    plain, bridged = [], []
    for i in range(MESSAGES):
        payload = json.dumps({'v': i + 1})
        sent = time.monotonic()
        source.publish('plain/v', payload)
        sink.wait_message('plain/v')
        plain.append(time.monotonic() - sent)
        sent = time.monotonic()
        source.publish('meter/v', payload)
        event = monitor.wait('changed', id='home-meter', values={'V': i + 1})
        bridged.append(event['_at'] - sent)
        monitor.seen.clear()
    monitor.stop()
    return percentiles(plain), percentiles(bridged)


def memory(ctx, broker):
    monitor = ctx.monitor(bus_config(broker, 'homeassistant'), name='memory')
    monitor.wait('started')
    time.sleep(0.5)
    before = rss_kib(monitor.proc.pid)
    devices = ctx.client(broker.port, client_id='devices')
    started = time.monotonic()
    for i in range(DEVICES):
        config = {'name': 'Temperature', 'stat_t': f'flat{i}/state',
                  'val_tpl': '{{ value_json.temperature }}', 'unit_of_meas': '°C',
                  'dev_cla': 'temperature', 'uniq_id': f'flat{i}_t',
                  'avty_t': f'flat{i}/status',
                  'dev': {'ids': [f'flat-{i:04d}'], 'name': f'Flat {i}', 'mf': 'ACME',
                          'mdl': 'T1'}}
        devices.publish(f'homeassistant/sensor/flat{i}/t/config', json.dumps(config))
    for i in range(DEVICES):
        monitor.wait('added', timeout=60)
    discovered = time.monotonic() - started
    for i in range(DEVICES):
        devices.publish(f'flat{i}/state', json.dumps({'temperature': 20 + i % 10}))
    for i in range(DEVICES):
        monitor.wait('changed', timeout=60)
    monitor.seen.clear()
    time.sleep(0.5)
    after = rss_kib(monitor.proc.pid)
    pid = monitor.proc.pid
    ticks, woken = cpu_ticks(pid), switches(pid)
    time.sleep(10)
    idle_cpu = (cpu_ticks(pid) - ticks) / os.sysconf('SC_CLK_TCK')
    idle_switches = switches(pid) - woken
    return before, after, discovered, idle_cpu, idle_switches


def main():
    ctx = Context(tempfile.mkdtemp(prefix='kith-mqtt-bench-'))
    try:
        broker = ctx.broker()
        plain, bridged = latency(ctx, broker)
        print(f'{MESSAGES} messages, one at a time (ms):')
        print('  MQTT -> MQTT            p50 %.3f  p99 %.3f  max %.3f' % plain)
        print('  MQTT -> device change   p50 %.3f  p99 %.3f  max %.3f' % bridged)
        print('  ratio of the medians    %.2f' % (bridged[0] / plain[0]))
        before, after, discovered, idle_cpu, idle_switches = memory(ctx, broker)
        print(f'{DEVICES} devices by Home Assistant discovery in {discovered:.2f} s')
        print(f'  RSS {before} KiB -> {after} KiB: '
              f'{(after - before) * 1024 / DEVICES:.0f} bytes per device')
        print(f'  idle 10 s with {DEVICES} devices: {idle_cpu:.2f} s CPU, '
              f'{idle_switches} context switches')
    finally:
        ctx.close()


if __name__ == '__main__':
    main()
