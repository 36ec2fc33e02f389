#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Discovery against a real mosquitto: each convention's announcements (the samples) become
devices with the right ids and fields, values pushed on the broker reach them, writes publish
the right payloads, availability and removal follow the broker."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_harness import bus_config, fields, publish_until, run, sample  # noqa: E402

SENSOR = 'home-zigbee2mqtt-0x00158d00012abcde'
PUMP = 'home-ac-0b-fb-11-22-33'


def test_homeassistant(ctx):
    broker = ctx.broker()
    device = ctx.client(broker.port, client_id='ha-devices')
    device.publish('homeassistant/sensor/0x00158d00012abcde/temperature/config',
                   sample('ha-sensor-temperature.json'), retain=True)
    device.publish('homeassistant/sensor/0x00158d00012abcde/humidity/config',
                   sample('ha-sensor-humidity.json'), retain=True)
    device.publish('homeassistant/switch/garden_pump/config', sample('ha-switch-plug.json'),
                   retain=True)
    device.publish('homeassistant/sensor/garden_pump/status/config',
                   sample('ha-unsupported-template.json'), retain=True)
    device.publish('homeassistant/device/ea334450945afc/config', sample('ha-device-based.json'),
                   retain=True)
    device.publish('zigbee2mqtt/0x00158d00012abcde', '{"temperature": 21.42, "humidity": 48.3}',
                   retain=True)
    monitor = ctx.monitor(bus_config(broker, 'homeassistant'))

    added = monitor.wait('added', id=SENSOR)
    assert added['key'] == 'homeassistant:zigbee2mqtt_0x00158d00012abcde', added
    assert added['manufacturer'] == 'Aqara', added
    assert added['label'] == 'Living room sensor', added
    pump = monitor.wait('added', id=PUMP)
    assert fields(pump)['Pump']['writable'] is True, pump
    assert fields(pump)['Pump']['type'] == 'boolean', pump
    kitchen = monitor.wait('added', id='home-ea334450945afc')
    assert set(fields(kitchen)) == {'some_unique_component_id1', 'some_unique_id2'}, kitchen
    # the retained state, also for the second entity on the same topic
    monitor.wait('changed', id=SENSOR, values={'Humidity': 48.3})
    monitor.command(f'read {SENSOR}')
    read = monitor.wait('read', id=SENSOR)
    assert read['values'] == {'Temperature': 21.42, 'Humidity': 48.3}, read

    # a value pushed on the broker reaches the device
    device.publish('zigbee2mqtt/0x00158d00012abcde', '{"temperature": 22.5, "humidity": 47}')
    changed = monitor.wait('changed', id=SENSOR, values={'Temperature': 22.5})
    assert changed['values']['Humidity'] == 47, changed

    # control: the switch's payload on its command topic
    device.subscribe('home/garden/pump/set')
    monitor.command(f'write {PUMP} Pump true')
    assert monitor.wait('write', id=PUMP)['ok'] is True
    assert device.wait_message('home/garden/pump/set') == '1'
    monitor.command(f'write {PUMP} Pump false')
    assert monitor.wait('write', id=PUMP)['ok'] is True
    assert device.wait_message('home/garden/pump/set') == '0'

    # availability
    device.publish('home/garden/pump/status', 'down', retain=True)
    event = monitor.wait('availability', id=PUMP)
    assert event['answering'] is False and 'home/garden/pump/status' in event['reason'], event
    monitor.command(f'write {PUMP} Pump true')
    write = monitor.wait('write', id=PUMP)
    assert write['ok'] is False and 'not answering' in write['error'], write
    device.publish('home/garden/pump/status', 'up', retain=True)
    assert monitor.wait('availability', id=PUMP)['answering'] is True

    # removal: an empty retained config
    device.publish('homeassistant/switch/garden_pump/config', '', retain=True)
    monitor.wait('removed', id=PUMP)
    device.publish('homeassistant/sensor/0x00158d00012abcde/humidity/config', '', retain=True)
    device.publish('homeassistant/sensor/0x00158d00012abcde/temperature/config', '',
                   retain=True)
    monitor.wait('removed', id=SENSOR)

    log = monitor.log()
    assert log.count('unsupported template') == 1, log
    assert log.count("component 'cover' is not supported") == 1, log


def test_zigbee2mqtt(ctx):
    broker = ctx.broker()
    bridge = ctx.client(broker.port, client_id='zigbee2mqtt')
    devices = sample('z2m-bridge-devices.json')
    bridge.publish('zigbee2mqtt/bridge/state', '{"state":"online"}', retain=True)
    bridge.publish('zigbee2mqtt/bridge/devices', devices, retain=True)
    bridge.publish('zigbee2mqtt/kitchen/bulb', sample('z2m-state-bulb.json'), retain=True)
    bridge.publish('zigbee2mqtt/kitchen/bulb/availability', sample('z2m-availability.json'),
                   retain=True)
    monitor = ctx.monitor(bus_config(broker, 'zigbee2mqtt'))

    ids = set()
    for _ in range(3):
        ids.add(monitor.wait('added')['id'])
    assert ids == {'home-00158d00012abcde', 'home-000b57fffec6a5b2', 'home-a4c138d2b1a3f0e1'}
    monitor.wait('changed', id='home-000b57fffec6a5b2', values={'state': True,
                                                                 'brightness': 215})
    publish_until(monitor, bridge, 'zigbee2mqtt/living_room_sensor',
                  sample('z2m-state-sensor.json'), 'changed', id='home-00158d00012abcde',
                  values={'temperature': 21.42})

    # control
    bridge.subscribe('zigbee2mqtt/kitchen/bulb/set')
    monitor.command('write home-000b57fffec6a5b2 brightness 128')
    assert monitor.wait('write', id='home-000b57fffec6a5b2')['ok'] is True
    assert json.loads(bridge.wait_message('zigbee2mqtt/kitchen/bulb/set')) == {'brightness': 128}
    monitor.command('write home-000b57fffec6a5b2 state false')
    assert json.loads(bridge.wait_message('zigbee2mqtt/kitchen/bulb/set')) == {'state': 'OFF'}

    # availability of the device and of the bridge
    bridge.publish('zigbee2mqtt/kitchen/bulb/availability', '{"state":"offline"}', retain=True)
    assert monitor.wait('availability', id='home-000b57fffec6a5b2')['answering'] is False
    bridge.publish('zigbee2mqtt/kitchen/bulb/availability', '{"state":"online"}', retain=True)
    assert monitor.wait('availability', id='home-000b57fffec6a5b2')['answering'] is True

    # renamed: the same device (IEEE address), its new topics
    bridge.publish('zigbee2mqtt/bridge/devices', devices.replace('kitchen/bulb', 'kitchen/ceiling'),
                   retain=True)
    publish_until(monitor, bridge, 'zigbee2mqtt/kitchen/ceiling',
                  '{"state": "ON", "brightness": 30}', 'changed', id='home-000b57fffec6a5b2',
                  values={'brightness': 30})
    assert not any(e.get('event') in ('removed', 'added') and e.get('id') == 'home-000b57fffec6a5b2'
                   for e in monitor.seen[3:]), monitor.seen

    # left the network
    bridge.publish('zigbee2mqtt/bridge/devices', '[]', retain=True)
    gone = {monitor.wait('removed')['id'] for _ in range(3)}
    assert 'home-000b57fffec6a5b2' in gone


def test_tasmota(ctx):
    broker = ctx.broker()
    plug = ctx.client(broker.port, client_id='tasmota_49A3BC')
    plug.publish('tasmota/discovery/DC4F2249A3BC/config', sample('tasmota-config.json'),
                 retain=True)
    plug.publish('tasmota/discovery/DC4F2249A3BC/sensors', sample('tasmota-sensors.json'),
                 retain=True)
    plug.publish('tele/tasmota_49A3BC/LWT', 'Online', retain=True)
    monitor = ctx.monitor(bus_config(broker, 'tasmota'))

    added = monitor.wait('added', id='home-dc4f2249a3bc')
    assert added['label'] == 'Kitchen plug' and added['model'] == 'Sonoff Pow R2', added
    changed = publish_until(monitor, plug, 'tele/tasmota_49A3BC/SENSOR',
                            sample('tasmota-tele-sensor.json'), 'changed',
                            id='home-dc4f2249a3bc', values={'AM2301 Temperature': 22.6})
    assert changed['values']['ENERGY Power'] == 71, changed
    plug.publish('tele/tasmota_49A3BC/STATE', sample('tasmota-tele-state.json'))
    monitor.wait('changed', id='home-dc4f2249a3bc', values={'POWER': True})

    plug.subscribe('cmnd/tasmota_49A3BC/POWER')
    monitor.command('write home-dc4f2249a3bc POWER false')
    assert plug.wait_message('cmnd/tasmota_49A3BC/POWER') == 'OFF'
    plug.publish('stat/tasmota_49A3BC/RESULT', '{"POWER":"OFF"}')
    monitor.wait('changed', id='home-dc4f2249a3bc', values={'POWER': False})

    plug.publish('tele/tasmota_49A3BC/LWT', 'Offline', retain=True)
    assert monitor.wait('availability', id='home-dc4f2249a3bc')['answering'] is False
    plug.publish('tasmota/discovery/DC4F2249A3BC/config', '', retain=True)
    monitor.wait('removed', id='home-dc4f2249a3bc')


def rpc_reply(name, request, result_only=False):
    reply = json.loads(sample(name))
    reply['id'] = request['id']
    reply['dst'] = request['src']
    return json.dumps(reply)


def test_shelly(ctx):
    broker = ctx.broker()
    shelly1 = ctx.client(broker.port, client_id='shelly1-B929CC')
    plus = ctx.client(broker.port, client_id='shellyplus1pm-a8032ab12345')
    shelly1.subscribe('shellies/command')
    plus.subscribe('shellyplus1pm-a8032ab12345/rpc')
    plus.publish('shellyplus1pm-a8032ab12345/online', 'true', retain=True)
    monitor = ctx.monitor(bus_config(broker, 'shelly'))

    # gen1: kith asks every device to announce itself
    assert shelly1.wait_message('shellies/command') == 'announce'
    shelly1.publish('shellies/announce', sample('shelly1-announce.json'))
    added = monitor.wait('added', id='home-shelly1-b929cc')
    assert added['model'] == 'SHSW-1' and added['manufacturer'] == 'Shelly', added
    publish_until(monitor, shelly1, 'shellies/shelly1-B929CC/relay/0', 'on', 'changed',
                  id='home-shelly1-b929cc', values={'relay0': True})
    shelly1.subscribe('shellies/shelly1-B929CC/relay/0/command')
    monitor.command('write home-shelly1-b929cc relay0 false')
    assert shelly1.wait_message('shellies/shelly1-B929CC/relay/0/command') == 'off'

    # gen2: asked who it is (Shelly.GetDeviceInfo) and what it has (Shelly.GetStatus)
    request = json.loads(plus.wait_message('shellyplus1pm-a8032ab12345/rpc'))
    assert request['method'] == 'Shelly.GetDeviceInfo', request
    plus.publish(request['src'] + '/rpc', rpc_reply('shellyplus-device-info.json', request))
    request = json.loads(plus.wait_message('shellyplus1pm-a8032ab12345/rpc'))
    assert request['method'] == 'Shelly.GetStatus', request
    plus.publish(request['src'] + '/rpc', rpc_reply('shellyplus-status.json', request))
    added = monitor.wait('added', id='home-shellyplus1pm-a8032ab12345')
    assert added['label'] == 'Boiler room', added
    assert fields(added)['switch0']['writable'] is True, added
    publish_until(monitor, plus, 'shellyplus1pm-a8032ab12345/status/switch:0',
                  sample('shellyplus-status-switch.json'), 'changed',
                  id='home-shellyplus1pm-a8032ab12345',
                  values={'switch0': True, 'switch0_power': 1850.4})
    monitor.command('write home-shellyplus1pm-a8032ab12345 switch0 false')
    command = json.loads(plus.wait_message('shellyplus1pm-a8032ab12345/rpc'))
    assert command['method'] == 'Switch.Set', command
    assert command['params'] == {'id': 0, 'on': False}, command
    plus.publish('shellyplus1pm-a8032ab12345/online', 'false', retain=True)
    assert monitor.wait('availability',
                        id='home-shellyplus1pm-a8032ab12345')['answering'] is False


if __name__ == '__main__':
    run([test_homeassistant, test_zigbee2mqtt, test_tasmota, test_shelly])
