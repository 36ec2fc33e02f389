#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults on the buses, seen through XMPP: one gateway with four buses (sim,
MQTT against a real mosquitto, Modbus TCP against pymodbus with two units,
Modbus RTU against pymodbus on a socat pty pair) and a friend of all their
devices.  One fault after another:
- the MQTT broker restarted (down a few seconds);
- a Modbus unit lost (it stops answering; the other unit of the same
  server goes on);
- the serial adapter lost (the pty pair removed) and plugged back;
The rest of the gateway is unaffected: the devices of the other buses answer
readouts meanwhile with their usual latency.  Presence is honest: the lost
devices go `xa` ("not answering since ..."), their readouts fail at once,
and they come back by themselves when the fault goes.

The buses' own behaviour under the same faults (reconnects, backoff, probes)
is tested in drivers/mqtt/tests and drivers/modbus/tests; a chip that NACKs
on I2C in tests/hw.
"""

import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, 'drivers', 'mqtt', 'tests'))
sys.path.insert(0, os.path.join(REPO, 'drivers', 'modbus', 'tests'))
from harness import (NS, KithTestCase, World, befriend, error_of,  # noqa: E402
                     fields_of, main, match, readout_part, readout_raw)
from modbus_harness import PROFILES, PtyPair, Server, f32, s16  # noqa: E402
from mqtt_harness import Broker, Client, sample  # noqa: E402

SIM = 'sim-thermometer-1'
MQTT = 'home-zigbee2mqtt-0x00158d00012abcde'
MB1, MB2 = 'mb-1', 'mb-2'
RTU = 'rtu-1'
ALL = [SIM, MQTT, MB1, MB2, RTU]
SDM120 = {'input': {'0': f32(230.5), '12': f32(1500.0)}}
XYMD02 = {'input': {'1': [s16(234), 611]}}
_seqnr = itertools.count(900)


class BusFaultTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        os.environ['KITH_MODBUS_PROFILE_DIR'] = PROFILES
        cls.tmp = tempfile.mkdtemp(prefix='kith-faults-bus-')
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.broker = Broker(cls.tmp).start()
        cls.addClassCleanup(cls.broker.stop)
        publisher = Client(cls.broker.port, client_id='z2m')
        publisher.publish('homeassistant/sensor/0x00158d00012abcde/temperature/'
                          'config', sample('ha-sensor-temperature.json'),
                          retain=True)
        publisher.publish('zigbee2mqtt/bridge/state', '{"state": "online"}',
                          retain=True)
        publisher.publish('zigbee2mqtt/0x00158d00012abcde/availability',
                          '{"state": "online"}', retain=True)
        publisher.publish('zigbee2mqtt/0x00158d00012abcde',
                          '{"temperature": 21.42}', retain=True)
        publisher.close()
        cls.modbus = Server(cls.tmp, {1: SDM120, 2: SDM120})
        cls.addClassCleanup(lambda: cls.modbus.stop())
        cls.pair = PtyPair(cls.tmp)
        cls.addClassCleanup(lambda: cls.pair.stop())
        cls.rtu = Server(cls.tmp, {1: XYMD02}, transport='rtu',
                         device=cls.pair.b)
        cls.addClassCleanup(lambda: cls.rtu.stop())
        world = cls.start_world(policy='open', thermometers=1, relays=0,
                                interval=1, extra_groups={
            'bus:home': {'Driver': 'mqtt', 'Broker': '127.0.0.1',
                         'Port': str(cls.broker.port),
                         'Discovery': 'homeassistant', 'Keepalive': '5'},
            'bus:mb': {'Driver': 'modbus', 'Transport': 'tcp',
                       'Host': '127.0.0.1', 'Port': str(cls.modbus.port),
                       'Interval': '1', 'Timeout': '0.5', 'BackoffMax': '1',
                       'Units': '1:eastron-sdm120;2:eastron-sdm120'},
            'bus:rtu': {'Driver': 'modbus', 'Transport': 'rtu',
                        'Device': cls.pair.a, 'Baud': '19200',
                        'Interval': '1', 'Timeout': '0.3', 'BackoffMax': '1',
                        'Units': '1:xy-md02'},
            # the test reads each device many times a second: not a flood
            'xmpp': {'RequestRate': '0'},
        })
        cls.kithd = world.kithd
        cls.kithd.devices = list(ALL)
        cls.alice = world.peer('alice')
        cls.kithd.wait_online(cls.alice)
        befriend(cls.alice, [cls.kithd.jid(d) for d in ALL], timeout=30)
        cls.latency = {}  # device -> [seconds] of every good readout

    # -- helpers ------------------------------------------------------------------

    def readout(self, device):
        """(seconds, 'ok' | 'failure')"""
        seq = str(next(_seqnr))
        started = time.monotonic()
        reply, msgs = readout_raw(self.alice, self.kithd.full(device), seq)
        took = time.monotonic() - started
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        failed = any(readout_part(m, seq).tag.endswith('failure')
                     for m in msgs)
        if not failed:
            self.assertTrue(fields_of(msgs), device)
        return took, 'failure' if failed else 'ok'

    def latest(self, device):
        found = [p for p in self.alice.inbox.items()
                 if match('presence', self.kithd.jid(device))(p)]
        if not found:
            return None
        return (found[-1].get('type') or
                found[-1].findtext('c:show', 'available', NS),
                found[-1].findtext('c:status', None, NS))

    def wait_presence(self, device, kind, timeout=20):
        self.alice.inbox.wait_until(
            lambda: (self.latest(device) or ('',))[0] == kind, timeout,
            f'{kind} from {device} (now {self.latest(device)})')
        return self.latest(device)

    def rest_unaffected(self, lost, seconds=3.0, same_line=(), timeout=0.5):
        """Readouts of every device but the lost ones, round after round, for
        `seconds`: all answer, with their usual latency; a unit on the same
        line as a lost one may wait for one probe of it (`timeout`)."""
        worst = {}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for device in ALL:
                if device in lost:
                    continue
                took, result = self.readout(device)
                self.assertEqual(result, 'ok', f'{device} while {lost} '
                                 'was lost')
                worst[device] = max(worst.get(device, 0), took)
                self.latency.setdefault(device, []).append(took)
        for device, took in worst.items():
            usual = statistics.median(self.baseline[device])
            bound = max(0.25, 5 * usual)
            if device in same_line:
                bound += timeout
            self.assertLess(took, bound,
                            f'{device}: a readout took {took:.3f} s while '
                            f'{lost} was lost (usually {usual:.3f} s)')
        return worst

    def lost_honestly(self, device):
        """xa with 'not answering since', and its readouts fail at once."""
        show, status = self.wait_presence(device, 'xa')
        self.assertRegex(status or '', r'^not answering since ')
        deadline = time.monotonic() + 10
        took, result = self.readout(device)
        while (result != 'failure' or took > 0.9) and \
                time.monotonic() < deadline:
            took, result = self.readout(device)
        self.assertEqual(result, 'failure')
        self.assertLess(took, 0.9, 'readouts of a lost device wait')

    def report(self, title, worst):
        sys.stderr.write(f'\n{title}: slowest readout of the others '
                         + ', '.join(f'{d} {t * 1000:.0f} ms'
                                     for d, t in sorted(worst.items()))
                         + '\n')

    # -------------------------------------------------------------------------------

    def test_0_baseline(self):
        type(self).baseline = {}
        for device in ALL:
            self.wait_presence(device, 'available')
            times = [self.readout(device)[0] for _ in range(5)]
            type(self).baseline[device] = times
        sys.stderr.write('\nusual readout latency (median): ' + ', '.join(
            f'{d} {statistics.median(t) * 1000:.1f} ms'
            for d, t in self.baseline.items()) + '\n')

    def test_1_mqtt_broker_restart(self):
        self.broker.stop()
        self.lost_honestly(MQTT)
        worst = self.rest_unaffected({MQTT})
        self.broker.start()
        self.wait_presence(MQTT, 'available', timeout=30)
        self.assertEqual(self.readout(MQTT)[1], 'ok')
        self.report('MQTT broker restarted', worst)

    def test_2_modbus_unit_lost(self):
        self.modbus.command('kill 2')
        self.lost_honestly(MB2)
        worst = self.rest_unaffected({MB2}, same_line={MB1})
        self.modbus.command('revive 2')
        self.wait_presence(MB2, 'available')
        self.assertEqual(self.readout(MB2)[1], 'ok')
        self.report('Modbus unit 2 lost (unit 1 on the same server)', worst)

    def test_3_serial_adapter_lost(self):
        self.rtu.stop()
        self.pair.stop()
        self.lost_honestly(RTU)
        worst = self.rest_unaffected({RTU})
        self.pair.start()
        type(self).rtu = Server(self.tmp, {1: XYMD02}, transport='rtu',
                                device=self.pair.b)
        self.wait_presence(RTU, 'available')
        self.assertEqual(self.readout(RTU)[1], 'ok')
        self.report('serial adapter unplugged', worst)

    def test_4_all_answer_again(self):
        for device in ALL:
            self.assertEqual(self.latest(device)[0], 'available', device)
            self.assertEqual(self.readout(device)[1], 'ok', device)
        self.assertTrue(self.kithd.running())


if __name__ == '__main__':
    main()
