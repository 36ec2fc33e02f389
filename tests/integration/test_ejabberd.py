#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Component mode against a second server, ejabberd (Debian's 23.01): the
same devices, friends and requests as with Prosody, where ejabberd behaves
differently — it does not probe a component after a subscription is
approved, so kithd must send the presence itself; it probes from full JIDs
when a friend logs in again."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ejabberd import Ejabberd  # noqa: E402
from harness import (NS, KithTestCase, World, befriend, error_of,  # noqa
                     fields_of, main, readout_raw, to_string)

THERMO = 'sim-thermometer-1'
RELAY = 'sim-relay-1'


class EjabberdComponentTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        cls.world = World(mode='component', server=Ejabberd, policy='open')
        cls.addClassCleanup(cls.world.close)
        cls.kithd = cls.world.kithd
        cls.alice = cls.world.peer('alice')
        cls.kithd.wait_online(cls.alice)
        cls.presences = befriend(cls.alice, cls.kithd.bare_jids())

    def test_friends_see_the_devices_with_their_status(self):
        for device in self.kithd.devices:
            pres = self.presences[self.kithd.jid(device)]
            self.assertEqual(pres.get('from'), self.kithd.full(device))
        self.alice.wait_roster(self.kithd.jid(THERMO), ('both',))
        status = self.presences[self.kithd.jid(THERMO)].find('c:status', NS)
        self.assertIsNotNone(status)
        self.assertIn('°C', status.text)

    def test_readout_full_and_bare(self):
        for to, seqnr in ((self.kithd.full(THERMO), '11'),
                          (self.kithd.jid(THERMO), '12')):
            reply, msgs = readout_raw(self.alice, to, seqnr)
            self.assertEqual(reply.get('type'), 'result', to_string(reply))
            self.assertEqual(reply.get('from'), to)
            names = {f['name'] for f in fields_of(msgs)}
            self.assertLessEqual({'Temperature', 'Humidity'}, names)

    def test_plugin_readout(self):
        result = self.alice.request_data(self.kithd.full(THERMO),
                                         flags={'momentary': 'true'})
        self.assertTrue(result, result)

    def test_control(self):
        reply = self.alice.iq_raw(
            f"<iq type='set' to='{self.kithd.full(RELAY)}'>"
            f"<set xmlns='{NS['ctl']}'><boolean name='Relay' value='true'/>"
            f"</set></iq>")
        self.assertEqual(reply.get('type'), 'result', to_string(reply))
        reply, msgs = readout_raw(self.alice, self.kithd.full(RELAY), '13')
        relay = [f for f in fields_of(msgs) if f['name'] == 'Relay']
        self.assertEqual(relay[0]['value'], 'true', relay)

    def test_stranger_is_forbidden_and_ghost_unknown(self):
        bob = self.world.peer('bob')
        reply = bob.ping(self.kithd.full(THERMO))
        self.assertEqual(error_of(reply)[:2], ('cancel', 'forbidden'))
        reply = bob.ping(f'ghost@{self.kithd.domain}')
        self.assertEqual(error_of(reply)[1], 'service-unavailable')

    def test_relogin_probe_is_answered(self):
        """A friend who logs in again learns the devices are online from
        kithd's answers to ejabberd's probes."""
        carol = self.world.peer('carol')
        jid = self.kithd.jid(THERMO)
        befriend(carol, [jid])
        carol.close()
        carol = self.world.peer('carol')
        carol.wait_presence(jid, 'available', 0, 15)

    def test_unsubscribe_ends_the_friendship(self):
        dave = self.world.peer('dave')
        jid = self.kithd.jid(RELAY)
        befriend(dave, [jid])
        dave.wait_roster(jid, ('both',))
        # slixmpp may have asked twice; the device answers a repeated
        # request with `subscribed`, which ejabberd applies even after an
        # unsubscribe: let that settle first (a ping is answered after it)
        dave.ping(self.kithd.full(RELAY))
        since = dave.mark()
        dave.unsubscribe(jid)
        dave.wait_presence(jid, 'unavailable', since)
        dave.wait_roster(jid, ('none', None))
        reply = dave.ping(self.kithd.full(RELAY))
        self.assertEqual(error_of(reply)[:2], ('cancel', 'forbidden'))


class EjabberdRestartTest(KithTestCase):
    def test_friends_survive_restarts_and_see_sigterm(self):
        world = World(mode='component', server=Ejabberd, policy='open')
        self.world = world
        self.addCleanup(world.close)
        kithd = world.kithd
        alice = world.peer('alice')
        kithd.wait_online(alice)
        befriend(alice, kithd.bare_jids())
        since = alice.mark()
        self.assertEqual(kithd.stop(), 0)
        for device in kithd.devices:
            alice.wait_presence(kithd.full(device), 'unavailable', since)
        since = alice.mark()
        kithd.start()
        for device in kithd.devices:
            alice.wait_presence(kithd.jid(device), 'available', since, 30)
        # the server goes away and comes back: kithd reconnects and
        # announces the devices again
        world.prosody.restart()
        alice = world.peer('alice')
        kithd.wait_log(r'component \S+: online.*\n(.*\n)*.*component \S+: '
                       r'online', 60)
        for device in kithd.devices:
            alice.wait_presence(kithd.jid(device), 'available', 0, 30)
        reply, msgs = readout_raw(alice, kithd.full(THERMO), '21')
        self.assertEqual(reply.get('type'), 'result', to_string(reply))


if __name__ == '__main__':
    main()
