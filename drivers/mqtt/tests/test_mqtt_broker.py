#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The broker connection against a real mosquitto: explicit devices, the gateway's status
topic and last will, a broker that restarts or is not there yet, MQTT 5, bad payloads."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_harness import bus_config, fields, publish_until, run  # noqa: E402

BOILER = '''
[bus:home:boiler]
Label=Boiler
Manufacturer=ACME
Model=B-100
Topic=home/boiler/state
AvailabilityTopic=home/boiler/lwt
Temperature.Path=$.temp
Temperature.Unit=°C
Temperature.Scale=0.1
Pressure.Path=$.sensors.pressure
Pressure.Unit=bar
Burner.Path=$.burner
Burner.Type=boolean
Burner.PayloadOn=ON
Burner.PayloadOff=OFF
Burner.CommandTopic=home/boiler/set
Burner.Payload={"burner": "{value}"}
Setpoint.Topic=home/boiler/setpoint
Setpoint.CommandTopic=home/boiler/setpoint/set
Setpoint.Min=30
Setpoint.Max=80
'''
STATUS = 'kith/kith-test-home/status'


def test_explicit_device(ctx):
    broker = ctx.broker()
    boiler = ctx.client(broker.port, client_id='boiler')
    boiler.publish('home/boiler/state',
                   '{"temp": 652, "sensors": {"pressure": 1.5}, "burner": "OFF"}', retain=True)
    monitor = ctx.monitor(bus_config(broker, extra=BOILER))

    added = monitor.wait('added', id='home-boiler')
    assert added['key'] == 'item:boiler' and added['label'] == 'Boiler', added
    assert added['manufacturer'] == 'ACME' and added['model'] == 'B-100', added
    assert fields(added)['Temperature']['unit'] == '°C', added
    assert fields(added)['Burner']['writable'] is True, added
    assert fields(added)['Setpoint']['min'] == 30, added
    monitor.wait('availability', id='home-boiler', answering=True)
    changed = monitor.wait('changed', id='home-boiler', values={'Temperature': 65.2})
    assert changed['values']['Pressure'] == 1.5 and changed['values']['Burner'] is False, changed

    boiler.publish('home/boiler/state', '{"temp": 655, "sensors": {"pressure": 1.6}, '
                   '"burner": "ON"}')
    monitor.wait('changed', id='home-boiler', values={'Temperature': 65.5, 'Burner': True})
    boiler.subscribe('home/boiler/#')
    monitor.command('write home-boiler Burner false')
    assert monitor.wait('write', id='home-boiler')['ok'] is True
    assert boiler.wait_message('home/boiler/set') == '{"burner": "OFF"}'
    monitor.command('write home-boiler Setpoint 55.5')
    assert monitor.wait('write', id='home-boiler')['ok'] is True
    assert boiler.wait_message('home/boiler/setpoint/set') == '55.5'

    boiler.publish('home/boiler/lwt', 'offline', retain=True)
    assert monitor.wait('availability', id='home-boiler')['answering'] is False
    monitor.command('read home-boiler')
    read = monitor.wait('read', id='home-boiler')
    assert read['ok'] is False and 'offline' in read['error'], read
    boiler.publish('home/boiler/lwt', 'online', retain=True)
    assert monitor.wait('availability', id='home-boiler')['answering'] is True


def test_status_and_will(ctx):
    broker = ctx.broker()
    watcher = ctx.client(broker.port, client_id='watcher')
    watcher.subscribe(STATUS)
    monitor = ctx.monitor(bus_config(broker, extra=BOILER))
    assert watcher.wait_message(STATUS) == 'online'
    monitor.stop()  # a clean stop says offline itself
    assert watcher.wait_message(STATUS) == 'offline'
    monitor = ctx.monitor(bus_config(broker, extra=BOILER), name='again')
    assert watcher.wait_message(STATUS, payload='online') == 'online'
    monitor.kill()  # a crash: the broker sends the last will
    assert watcher.wait_message(STATUS, timeout=5) == 'offline'


def test_broker_restart(ctx):
    broker = ctx.broker()
    boiler = ctx.client(broker.port, client_id='boiler')
    boiler.publish('homeassistant/switch/garden_pump/config',
                   json.dumps({'name': 'Pump', 'uniq_id': 'pump', 'cmd_t': 'pump/set',
                               'stat_t': 'pump/state', 'dev': {'ids': ['pump-1']}}),
                   retain=True)
    monitor = ctx.monitor(bus_config(broker, 'homeassistant', extra=BOILER))
    monitor.wait('added', id='home-boiler')
    monitor.wait('added', id='home-pump-1')
    monitor.wait('availability', id='home-boiler', answering=True)
    boiler.close()

    broker.stop()
    down = monitor.wait('availability', id='home-boiler', answering=False)
    assert 'broker' in down['reason'], down
    monitor.wait('availability', id='home-pump-1', answering=False)
    monitor.command('write home-pump-1 Pump true')
    write = monitor.wait('write', id='home-pump-1')
    assert write['ok'] is False, write
    time.sleep(1.5)  # a few attempts while it is away
    broker.start()
    back = monitor.wait('availability', id='home-boiler', answering=True, timeout=15)
    monitor.wait('availability', id='home-pump-1', answering=True)
    assert back['_at'] - down['_at'] < 20

    # the subscriptions are back: values and control work again
    boiler = ctx.client(broker.port, client_id='boiler2')
    boiler.publish('home/boiler/state', '{"temp": 700}')
    monitor.wait('changed', id='home-boiler', values={'Temperature': 70.0})
    boiler.subscribe('pump/set')
    monitor.command('write home-pump-1 Pump true')
    assert monitor.wait('write', id='home-pump-1')['ok'] is True
    assert boiler.wait_message('pump/set') == 'ON'
    log = monitor.log()
    assert 'lost the broker 127.0.0.1' in log, log
    assert log.count('connected to 127.0.0.1') == 2, log


def test_broker_late(ctx):
    """no broker at start: the devices do not answer until it comes"""
    broker = ctx.broker()
    broker.stop()
    monitor = ctx.monitor(bus_config(broker, extra=BOILER))
    added = monitor.wait('added', id='home-boiler')
    assert added['answering'] is False, added
    time.sleep(1)
    assert 'cannot reach the broker' in monitor.log()
    broker.start()
    monitor.wait('availability', id='home-boiler', answering=True, timeout=15)


def test_client_id_clash(ctx):
    """two gateways with one ClientId take the link from each other: said once, not forever"""
    broker = ctx.broker()
    first = ctx.monitor(bus_config(broker, extra=BOILER), name='first')
    first.wait('availability', id='home-boiler', answering=True)
    second = ctx.monitor(bus_config(broker, extra=BOILER), name='second')
    time.sleep(3)
    for monitor in (first, second):
        log = monitor.log()
        assert log.count('same ClientId') == 1, log
        assert log.count('lost the broker') <= 2, log
        assert log.count('connected to') <= 2, log


def test_mqtt5(ctx):
    """MQTT 5, and a broker given by name (looked up on the bus's worker thread)"""
    broker = ctx.broker()
    monitor = ctx.monitor(bus_config(broker, extra='ProtocolVersion=5\n' + BOILER,
                                     host='localhost'))
    monitor.wait('availability', id='home-boiler', answering=True)
    boiler = ctx.client(broker.port, client_id='boiler')
    publish_until(monitor, boiler, 'home/boiler/state', '{"temp": 123}', 'changed',
                  id='home-boiler', values={'Temperature': 12.3})
    assert 'as kith-test-home (p5' in broker.read_log(), broker.read_log()


def test_bad_payloads(ctx):
    broker = ctx.broker()
    devices = ctx.client(broker.port, client_id='devices')
    devices.publish('homeassistant/sensor/dev1/t/config',
                    json.dumps({'name': 'T', 'stat_t': 'dev1/state',
                                'val_tpl': '{{ value_json.t | float }}', 'unit_of_meas': '°C',
                                'uniq_id': 'dev1-t', 'dev': {'ids': 'dev1'}}), retain=True)
    monitor = ctx.monitor(bus_config(broker, 'homeassistant', extra=BOILER))
    monitor.wait('added', id='home-dev1')
    publish_until(monitor, devices, 'dev1/state', '{"t": 20}', 'changed', id='home-dev1',
                  values={'T': 20.0})
    big = '{"t": "' + 'x' * (1024 * 1024) + '"}'
    for _ in range(3):
        for payload in ('not json', '{"t": "warm"}', '{"u": 1}', '[1, 2]', big, '',
                        b'\xff\xfe\x00'):
            devices.publish('dev1/state', payload)
            devices.publish('home/boiler/state', payload)
        devices.publish('homeassistant/sensor/dev2/t/config', '{broken')
        devices.publish('homeassistant/sensor/dev3/t/config', big)
    devices.publish('dev1/state', '{"t": 21}')
    monitor.wait('changed', id='home-dev1', values={'T': 21.0})
    monitor.command('read home-dev1')
    assert monitor.wait('read', id='home-dev1')['ok'] is True
    log = monitor.log()
    assert log.count('home-dev1: bad payload on dev1/state') == 1, log
    assert log.count('home-boiler: bad payload on home/boiler/state') == 1, log
    assert log.count('homeassistant/sensor/dev2/t/config: payload is not JSON') == 1, log
    assert log.count('homeassistant/sensor/dev3/t/config: payload of') == 1, log
    assert not any(e.get('event') == 'removed' for e in monitor.seen), monitor.seen


if __name__ == '__main__':
    run([test_explicit_device, test_status_and_will, test_broker_restart, test_broker_late,
         test_client_id_clash, test_mqtt5, test_bad_payloads])
