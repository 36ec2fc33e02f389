#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""History (README: History): every reading kithd takes is kept, and friends read it with
XEP-0323 historical readouts (historical flags, from/to). Readings taken while the XMPP
server was down are asked for afterwards; a momentary readout carries no history; a stranger
gets none."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (KithTestCase, World, befriend, error_of, fields_of,  # noqa: E402
                     main, parse_utc, readout_raw)

THERMO = 'sim-thermometer-1'


def utc(seconds):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(seconds))


class HistoryTest(KithTestCase):
    def test_readings_of_a_server_outage_are_read_afterwards(self):
        world = World(thermometers=1, relays=0, interval=1, storage='internal')
        self.addCleanup(world.close)
        kithd = world.kithd
        alice = world.peer('alice')
        kithd.wait_online(alice)
        befriend(alice, [kithd.jid(THERMO)])
        before = time.time()
        time.sleep(2)
        # the server goes away for a while; the sim bus reads on
        world.prosody.stop()
        down = time.time()
        time.sleep(4)
        up = time.time()
        world.prosody.start()
        alice.close()
        alice = world.peer('alice')
        kithd.wait_online(alice, timeout=60)

        reply, msgs = readout_raw(alice, kithd.full(THERMO), '61',
                                  f"historical='true' from='{utc(before)}'")
        self.assertEqual(reply.get('type'), 'result', str(error_of(reply)))
        fields = fields_of(msgs)
        self.assertTrue(fields, 'no historical readings')
        for field in fields:
            self.assertEqual(field.get('historicalOther'), 'true', field)
            self.assertIn(field['name'], ('Temperature', 'Humidity'))
        times = sorted({parse_utc(f['timestamp']).timestamp() for f in fields})
        during = [t for t in times if down + 0.5 < t < up - 0.5]
        self.assertGreaterEqual(len(during), 2,
                                f'readings of the outage ({down:.0f}..{up:.0f}): {times}')
        self.assertEqual(times, sorted(times))

        # a field filter and a window
        reply, msgs = readout_raw(
            alice, kithd.full(THERMO), '62',
            f"historicalOther='true' from='{utc(down)}' to='{utc(up)}'",
            "<field name='Humidity'/>")
        names = {f['name'] for f in fields_of(msgs)}
        self.assertEqual(names, {'Humidity'})
        for f in fields_of(msgs):
            self.assertTrue(down - 1 <= parse_utc(f['timestamp']).timestamp() <= up + 1)

        # a momentary readout is what it was: no history in it
        reply, msgs = readout_raw(alice, kithd.full(THERMO), '63', "momentary='true'")
        self.assertTrue(all(f.get('historicalOther') is None for f in fields_of(msgs)))
        self.assertEqual(len(fields_of(msgs)), 2)

        # a stranger reads no history either
        mallory = world.peer('mallory')
        reply, _ = readout_raw(mallory, kithd.full(THERMO), '64', "historical='true'")
        self.assertEqual(error_of(reply)[1], 'forbidden')

        # kept across a restart of kithd
        self.assertEqual(kithd.stop(), 0)
        kithd.start()
        kithd.wait_online(alice, timeout=60)
        reply, msgs = readout_raw(alice, kithd.full(THERMO), '65',
                                  f"historical='true' from='{utc(down)}' to='{utc(up)}'")
        self.assertTrue(fields_of(msgs), 'the history did not survive a restart')


if __name__ == '__main__':
    main()
