#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults: the XMPP server stopped for 1 s and for 30 s, then back.

50 sim devices (one account and session each in client mode; one component
stream in component mode) and a friend of all of them.  While the server is
down the devices retry with backoff and jitter; once it is back every one
returns, spread out (no storm), and nothing is lost:
- the readings taken during the outage are served afterwards by a historical
  readout (every second of every thermometer is there);
- a readout that fell due during the outage (XEP-0323 `when`) waits in the
  outbox and is delivered after the reconnect;
- presence is not queued but superseded: after the return each device's
  presence says what it is now (the relay switched on before the outage).
The figures (connection attempts per second, the busiest 100 ms, time until
every device is back) are printed; bench/outage.py does the 10-minute outage.
"""

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NS, KithTestCase, error_of, main  # noqa: E402
from faults import (LogWatch, Outage, format_figures, history_gaps,  # noqa: E402
                    outage_world)

DEVICES = 50
RELAY = 'sim-relay-1'


class OutageTest(KithTestCase):
    def outage(self, seconds, seq):
        world, alice = outage_world(DEVICES)
        self.world = world
        self.addCleanup(world.close)
        kithd = world.kithd
        thermometers = [d for d in kithd.devices if d != RELAY]
        reply = alice.iq_raw(
            f"<iq type='set' to='{kithd.full(RELAY)}'><set xmlns='{NS['ctl']}'>"
            f"<boolean name='Relay' value='true'/></set></iq>")
        self.assertEqual(reply.get('type'), 'result', error_of(reply))

        # a readout falls due while the server is down: it waits in the outbox
        due = math.ceil(time.time() + 2)
        when = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(due))
        seqnr = str(seq)
        reply = alice.iq_raw(
            f"<iq type='get' to='{kithd.full(thermometers[0])}'><req xmlns="
            f"'{NS['sd']}' seqnr='{seqnr}' momentary='true' when='{when}'/></iq>")
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        time.sleep(max(0.0, due - 1 - time.time()))

        watch = LogWatch(kithd.log)
        self.addCleanup(watch.stop)
        out = Outage(world, watch, seconds)
        out.stop()
        out.start()
        self.assertLess(out.down, due - 0.5)
        self.assertGreater(out.up, due, 'the readout fell due while online')
        alice.close()
        alice = world.peer('alice')
        since = 0
        back = out.back(kithd.devices, timeout=150)
        kithd.wait_online(alice, timeout=60)
        watch.stop()
        fig = out.figures(back)
        sys.stderr.write('\n' + format_figures(
            f'{kithd.mode} mode, {DEVICES} devices, server down {seconds} s',
            fig) + '\n')

        # no storm: the devices came back spread out, and retried with backoff
        self.assertEqual(out.backoff_violations(), [])
        if kithd.mode == 'client':
            self.assertLessEqual(fig['max_attempts_100ms_after'], DEVICES // 4,
                                 fig)
            self.assertLessEqual(fig['max_online_100ms'], DEVICES // 4, fig)
            # during the outage every device tries about log2(outage) times
            self.assertLessEqual(fig['attempts_during'],
                                 DEVICES * (2 + math.log2(seconds + 1)), fig)
        self.assertLess(fig["all_back_s"], 40, fig)

        # the readout due during the outage: delivered (seen at once, or kept
        # by the server for alice and given to her at login)
        alice.inbox.wait_until(
            lambda: any(m.find('sd:fields', NS) is not None and
                        m.find('sd:fields', NS).get('seqnr') == seqnr
                        for m in alice.messages()),
            30, what='the fields of the readout due during the outage')

        # presence superseded, not replayed: each device is available, the
        # relay says it is on
        for device in kithd.devices:
            pres = alice.wait_presence(kithd.jid(device), 'available', since,
                                       30)
            self.assertIsNone(pres.find('c:show', NS), device)
        status = alice.wait_presence(kithd.jid(RELAY), 'available', since)
        self.assertEqual(status.findtext('c:status', None, NS), 'on')

        # the history covers the gap, for every thermometer
        lost = 0
        for i, device in enumerate(thermometers):
            times, missing = history_gaps(alice, kithd, device, out.down - 1,
                                          out.up + 1, str(seq + 1 + i))
            self.assertTrue(times, device)
            lost += missing
        sys.stderr.write(f'  readings lost: {lost} ({len(thermometers)} '
                         f'thermometers, one reading a second)\n')
        self.assertEqual(lost, 0)
        self.assertTrue(kithd.running())

    def test_server_down_1s(self):
        self.outage(1, 100)

    def test_server_down_30s(self):
        self.outage(30, 300)


if __name__ == '__main__':
    main()
