#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Policy=manual: friend requests wait until the Owner decides, chatting
with the device: `pending`, `accept JID`, `refuse JID`; anybody else is told
that only the owner can decide (contract-parent.md: Policy=manual)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS, KithTestCase, World, befriend, error_of,  # noqa
                     main, match, readout_raw, to_string)

THERMO = 'sim-thermometer-1'
THERMO2 = 'sim-thermometer-2'
RELAY = 'sim-relay-1'
OWNER = 'owner@localhost'
ONLY_OWNER = 'Only the owner can decide friend requests.'
RESTART_WAIT = 60


class ManualMixin:
    def command(self, peer, device, text):
        """Chat `text` to the device's bare JID; the reply's body."""
        jid = self.kithd.jid(device)
        since = peer.mark()
        peer.chat(jid, text)
        reply = peer.wait_message(frm=jid, since=since,
                                  what=f'reply to {text!r} from {device}')
        self.assertEqual(reply.get('type'), 'chat', to_string(reply))
        body = reply.findtext('c:body', None, NS)
        self.assertIsNotNone(body, f'reply without <body>: {to_string(reply)}')
        return body

    def assert_pending(self, peer, device, since):
        """Neither subscribed nor unsubscribed from the device (after a
        round trip through it)."""
        peer.barrier(self.kithd.full(device))
        got = [to_string(p) for p in peer.inbox.items(since)
               if match('presence', self.kithd.jid(device))(p) and
               p.get('type') in ('subscribed', 'unsubscribed')]
        self.assertEqual(got, [], f'{device} decided without the owner')

    def request(self, peer, device):
        since = peer.mark()
        peer.subscribe(self.kithd.jid(device))
        self.assert_pending(peer, device, since)
        return since

    def listed(self, device, jid):
        return jid in self.command(self.owner, device, 'pending').split()


class ManualPolicyTest(ManualMixin, KithTestCase):
    @classmethod
    def setUpClass(cls):
        world = cls.start_world(policy='manual', owner=OWNER)
        cls.kithd = world.kithd
        cls.owner = world.peer('owner')
        cls.kithd.wait_online(cls.owner)
        befriend(cls.owner, cls.kithd.bare_jids())   # never waits

    def test_request_waits_until_owner_accepts(self):
        alice = self.world.peer('alice')
        jid = self.kithd.jid(THERMO)
        since = self.request(alice, THERMO)
        body = self.command(self.owner, THERMO, 'pending')
        self.assertIn(alice.bare, body.split(), body)
        self.assertNotIn(alice.bare, self.command(self.owner, THERMO2,
                                                  'pending').split(),
                         'listed by a device alice did not ask')

        self.command(self.owner, THERMO, f'accept {alice.bare}')
        subscribed = alice.wait_presence(jid, 'subscribed', since)
        subscribe = alice.wait_presence(jid, 'subscribe', since)
        items = alice.inbox.items()
        self.assertLess(items.index(subscribed), items.index(subscribe))
        alice.wait_roster(jid, ('both',))
        reply, msgs = readout_raw(alice, self.kithd.full(THERMO), '1')
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertTrue(msgs)
        self.assertFalse(self.listed(THERMO, alice.bare),
                         'still pending after accept')

    def test_owner_refuses(self):
        bob = self.world.peer('bob')
        jid = self.kithd.jid(THERMO2)
        since = self.request(bob, THERMO2)
        self.assertTrue(self.listed(THERMO2, bob.bare))
        self.command(self.owner, THERMO2, f'refuse {bob.bare}')
        bob.wait_presence(jid, 'unsubscribed', since)
        bob.barrier(self.kithd.full(THERMO2))
        self.assertEqual(bob.inbox.find_all(
            match('presence', jid, 'subscribed'), since), [])
        self.assertFalse(self.listed(THERMO2, bob.bare),
                         'still pending after refuse')
        reply, _ = readout_raw(bob, self.kithd.full(THERMO2), '2')
        self.assertEqual(error_of(reply)[:2], ('cancel', 'forbidden'))

    def test_only_the_owner_can_decide(self):
        """A friend of the device (not the owner) cannot decide."""
        dora = self.world.peer('dora')
        carol = self.world.peer('carol')
        jid = self.kithd.jid(RELAY)
        since = self.request(dora, RELAY)
        self.command(self.owner, RELAY, f'accept {dora.bare}')
        dora.wait_presence(jid, 'subscribed', since)
        dora.wait_roster(jid, ('both',))

        since = self.request(carol, RELAY)
        for text in (f'accept {carol.bare}', f'refuse {carol.bare}',
                     'pending'):
            body = self.command(dora, RELAY, text)
            self.assertEqual(body.strip(), ONLY_OWNER, f'{text!r}: {body!r}')
        self.assert_pending(carol, RELAY, since)
        self.assertTrue(self.listed(RELAY, carol.bare))


class ManualRestartTest(ManualMixin, KithTestCase):
    def test_pending_request_survives_restart(self):
        self.world = World(policy='manual', owner=OWNER)
        self.addCleanup(self.world.close)
        self.kithd = self.world.kithd
        self.owner = self.world.peer('owner')
        self.kithd.wait_online(self.owner)
        befriend(self.owner, [self.kithd.jid(THERMO)])
        erin = self.world.peer('erin')
        jid = self.kithd.jid(THERMO)
        since = self.request(erin, THERMO)
        self.assertEqual(self.kithd.stop(), 0)
        rows = self.kithd.query_db(
            'SELECT decision FROM friends WHERE device_id = ? AND jid = ?',
            (THERMO, erin.bare))
        self.assertEqual(rows, [('pending',)])

        mark = self.owner.mark()
        self.kithd.start()
        self.owner.wait_presence(jid, 'available', mark, RESTART_WAIT)
        self.assertTrue(self.listed(THERMO, erin.bare))
        self.command(self.owner, THERMO, f'accept {erin.bare}')
        erin.wait_presence(jid, 'subscribed', since)
        erin.wait_roster(jid, ('both',))


if __name__ == '__main__':
    main()
