#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""MQTT devices through XMPP, end to end: a real mosquitto, a real Prosody, kithd and a
slixmpp friend. A device announced by Home Assistant discovery gets its JID; a friend
befriends it, sees a value pushed on the broker in its presence status and its readout,
switches it (the entity's payload arrives on its command topic), sees it not answering when
its availability topic says so and back, finds it again at once after a kithd restart with
the broker down, and hears it go when its retained config is emptied. KITH_MODE=component
runs the same over kithd's component stream."""

import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))
from harness import (NS, KithTestCase, World, befriend, error_of,  # noqa: E402
                     fields_of, main, match, readout_raw)
from mqtt_harness import Broker, Client, sample  # noqa: E402

SENSOR = 'home-zigbee2mqtt-0x00158d00012abcde'
PUMP = 'home-ac-0b-fb-11-22-33'


class MqttXmppTest(KithTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='kith-mqtt-xmpp-')
        self.broker = Broker(self.tmp)
        self.broker.start()
        self.addCleanup(self.broker.stop)
        self.device = Client(self.broker.port, client_id='ha-devices')
        self.addCleanup(self.device.close)
        self.device.publish('homeassistant/sensor/0x00158d00012abcde/temperature/config',
                            sample('ha-sensor-temperature.json'), retain=True)
        self.device.publish('homeassistant/switch/garden_pump/config',
                            sample('ha-switch-plug.json'), retain=True)
        # the sensor's two availability topics (bridge and device) say online
        self.device.publish('zigbee2mqtt/bridge/state', '{"state": "online"}', retain=True)
        self.device.publish('zigbee2mqtt/0x00158d00012abcde/availability',
                            '{"state": "online"}', retain=True)
        self.device.publish('home/garden/pump/status', 'up', retain=True)
        self.device.publish('home/garden/pump/state', '0', retain=True)
        self.device.publish('zigbee2mqtt/0x00158d00012abcde', '{"temperature": 21.42}',
                            retain=True)
        self.world = World(thermometers=0, relays=0, interval=0, extra_groups={
            'bus:home': {'Driver': 'mqtt', 'Broker': '127.0.0.1',
                         'Port': str(self.broker.port), 'Discovery': 'homeassistant'}})
        self.addCleanup(self.world.close)
        self.kithd = self.world.kithd
        self.kithd.devices = [SENSOR, PUMP]
        self.alice = self.world.peer('alice')
        self.kithd.wait_online(self.alice)
        befriend(self.alice, [self.kithd.jid(SENSOR), self.kithd.jid(PUMP)])

    def latest(self, device):
        """(show or 'available' / type, status) of the newest presence from device."""
        found = [p for p in self.alice.inbox.items()
                 if match('presence', self.kithd.jid(device))(p)]
        if not found:
            return None
        p = found[-1]
        return (p.get('type') or p.findtext('c:show', 'available', NS),
                p.findtext('c:status', None, NS))

    def wait_latest(self, device, kind, status=None, timeout=15):
        regex = re.compile(status) if status else None
        self.alice.inbox.wait_until(
            lambda: (lambda got: got is not None and got[0] == kind and
                     (regex is None or regex.search(got[1] or '')))(self.latest(device)),
            timeout, f'{kind} {status!r} from {device} (now {self.latest(device)})')

    def test_mqtt_device_through_xmpp(self):
        # the retained value, then a new one pushed on the broker: presence and readout
        self.wait_latest(SENSOR, 'available', r'21\.4 °C')
        self.device.publish('zigbee2mqtt/0x00158d00012abcde', '{"temperature": 23.25}')
        self.wait_latest(SENSOR, 'available', r'23\.\d °C')
        reply, msgs = readout_raw(self.alice, self.kithd.full(SENSOR), '41')
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        values = {f['name']: f['value'] for f in fields_of(msgs)}
        self.assertAlmostEqual(float(values['Temperature']), 23.25)

        # control: the switch's own payload on its command topic
        self.device.subscribe('home/garden/pump/set')
        reply = self.alice.iq_raw(
            f"<iq type='set' to='{self.kithd.full(PUMP)}'><set xmlns='{NS['ctl']}'>"
            "<boolean name='Pump' value='true'/></set></iq>")
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(self.device.wait_message('home/garden/pump/set'), '1')

        # availability: not answering (xa, since when), then back
        self.device.publish('home/garden/pump/status', 'down', retain=True)
        self.wait_latest(PUMP, 'xa', r'^not answering since ')
        started = time.monotonic()
        reply, msgs = readout_raw(self.alice, self.kithd.full(PUMP), '42')
        self.assertLess(time.monotonic() - started, 2)
        self.assertIsNotNone(msgs[-1].find('sd:failure', NS))
        self.device.publish('home/garden/pump/status', 'up', retain=True)
        self.wait_latest(PUMP, 'available')

        # a kithd restart while the broker is down: the devices are back at once, not
        # answering, with their friendship; then the broker confirms them
        self.kithd.stop()
        self.broker.stop()
        since = self.alice.mark()
        self.kithd.start()
        self.alice.wait(lambda s: match('presence', self.kithd.jid(SENSOR))(s) and
                        s.findtext('c:show', None, NS) == 'xa', timeout=30, since=since,
                        what='the sensor back, not answering')
        self.broker.start()
        self.wait_latest(SENSOR, 'available', r'°C', timeout=30)

        # removal: an empty retained config; the friend hears unavailable
        self.device = Client(self.broker.port, client_id='ha-devices-2')
        self.addCleanup(self.device.close)
        self.device.publish('homeassistant/switch/garden_pump/config', '', retain=True)
        self.wait_latest(PUMP, 'unavailable')
        err = error_of(self.alice.ping(self.kithd.full(PUMP)))
        self.assertEqual(err and err[1], 'service-unavailable')


if __name__ == '__main__':
    main()
