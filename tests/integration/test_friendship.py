#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Friendship (RFC 6121 presence subscriptions) under Policy=open and
Policy=allowlist, the Owner, reciprocal subscribe, status text and ending a
friendship (contract.md: Presence, Friendship)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (KithTestCase, NS, befriend, error_of, main,  # noqa: E402
                     match, readout_raw)

THERMOMETER_STATUS = re.compile(r'-?\d+(\.\d+)?\s*°C.*\d+(\.\d+)?\s*%')


class FriendshipMixin:
    def assert_refused(self, peer, device_jid, since):
        """`unsubscribed` from the device and never `subscribed`."""
        kithd = self.world.kithd
        peer.wait_presence(device_jid, 'unsubscribed', since)
        peer.barrier(kithd.full(device_jid.split('@')[0]))
        self.assertEqual(
            peer.inbox.find_all(match('presence', device_jid, 'subscribed'),
                                since), [],
            f'{device_jid} sent subscribed to {peer.bare} after refusing')

    def assert_forbidden_readout(self, peer, device):
        reply, msgs = readout_raw(peer, self.world.kithd.full(device), '1')
        self.assertEqual(reply.get('type'), 'error')
        self.assertEqual(error_of(reply)[:2], ('cancel', 'forbidden'))
        self.assertEqual(msgs, [])


class OpenPolicyTest(FriendshipMixin, KithTestCase):
    @classmethod
    def setUpClass(cls):
        world = cls.start_world(policy='open')
        world.kithd.wait_online(world.peer('watcher'))

    def test_subscribe_is_accepted_with_presence_and_status(self):
        kithd = self.world.kithd
        alice = self.world.peer('alice')
        presences = befriend(alice, kithd.bare_jids())
        for device in kithd.devices:
            pres = presences[kithd.jid(device)]
            self.assertEqual(pres.get('from'), kithd.full(device))
            priority = pres.findtext('c:priority', '0', NS)
            self.assertEqual(int(priority), 0, 'priority must be 0')
            status = pres.findtext('c:status', None, NS)
            self.assertIsNotNone(status, f'{device}: no <status>')
            if 'thermometer' in device:
                self.assertRegex(status, THERMOMETER_STATUS)
            else:
                self.assertIn(status, ('on', 'off'))

    def test_friendship_becomes_mutual(self):
        """slixmpp with auto_authorize ends with subscription 'both'."""
        kithd = self.world.kithd
        bob = self.world.peer('bob')
        befriend(bob, kithd.bare_jids())
        for jid in kithd.bare_jids():
            bob.wait_roster(jid, ('both',))

    def test_device_sends_reciprocal_subscribe(self):
        kithd = self.world.kithd
        carol = self.world.peer('carol', auto_authorize=None,
                                auto_subscribe=False)
        jid = kithd.jid('sim-thermometer-1')
        since = carol.mark()
        carol.subscribe(jid)
        carol.wait_presence(jid, 'subscribed', since)
        carol.wait_presence(jid, 'subscribe', since)
        carol.send_presence(jid, 'subscribed')
        carol.wait_roster(jid, ('both',))

    def test_unsubscribe_ends_friendship_then_readout_forbidden(self):
        kithd = self.world.kithd
        dave = self.world.peer('dave')
        device = 'sim-thermometer-1'
        jid = kithd.jid(device)
        befriend(dave, [jid])
        dave.wait_roster(jid, ('both',))
        reply, _ = readout_raw(dave, kithd.full(device), '1')
        self.assertEqual(reply.get('type'), 'result', 'friend readout failed')
        since = dave.mark()
        dave.unsubscribe(jid)
        # the device removes the friendship: unsubscribe (and/or
        # unsubscribed) reach dave, which only kithd can cause here
        dave.wait(lambda s: match('presence', jid)(s) and
                  s.get('type') in ('unsubscribe', 'unsubscribed'),
                  10, since, what=f'unsubscribe from {jid}')
        dave.wait_roster(jid, (None, 'none'))
        self.assert_forbidden_readout(dave, device)

    def test_resubscribe_after_unsubscribe(self):
        """An ended friendship can be started again (Policy=open)."""
        kithd = self.world.kithd
        erin = self.world.peer('erin')
        jid = kithd.jid('sim-relay-1')
        befriend(erin, [jid])
        erin.wait_roster(jid, ('both',))
        since = erin.mark()
        erin.unsubscribe(jid)
        erin.wait(lambda s: match('presence', jid)(s) and
                  s.get('type') in ('unsubscribe', 'unsubscribed'),
                  10, since, what=f'unsubscribe from {jid}')
        erin.wait_roster(jid, (None, 'none'))
        befriend(erin, [jid])
        reply, msgs = readout_raw(erin, kithd.full('sim-relay-1'), '2')
        self.assertEqual(reply.get('type'), 'result')
        self.assertTrue(msgs)


class AllowlistPolicyTest(FriendshipMixin, KithTestCase):
    OWNER = 'owner@localhost'

    @classmethod
    def setUpClass(cls):
        world = cls.start_world(policy='allowlist', owner=cls.OWNER,
                                allow=('alice@localhost', 'bob@localhost'))
        world.kithd.wait_online(world.peer('watcher'))

    def test_allowed_jid_is_accepted(self):
        kithd = self.world.kithd
        alice = self.world.peer('alice')
        befriend(alice, kithd.bare_jids())
        for jid in kithd.bare_jids():
            alice.wait_roster(jid, ('both',))

    def test_owner_is_accepted_without_being_in_allow(self):
        kithd = self.world.kithd
        owner = self.world.peer('owner')
        befriend(owner, kithd.bare_jids())
        reply, msgs = readout_raw(owner, kithd.full('sim-relay-1'), '3')
        self.assertEqual(reply.get('type'), 'result')
        self.assertTrue(msgs)

    def test_other_jid_is_refused_with_unsubscribed(self):
        kithd = self.world.kithd
        mallory = self.world.peer('mallory')
        since = mallory.mark()
        for jid in kithd.bare_jids():
            mallory.subscribe(jid)
        for jid in kithd.bare_jids():
            self.assert_refused(mallory, jid, since)
            self.assertIn(mallory.roster_subscription(jid), (None, 'none'))
        self.assert_forbidden_readout(mallory, 'sim-thermometer-1')

    def test_refused_jid_gets_no_presence(self):
        """A refused JID must not learn the device's presence."""
        kithd = self.world.kithd
        trudy = self.world.peer('trudy')
        jid = kithd.jid('sim-thermometer-2')
        since = trudy.mark()
        trudy.subscribe(jid)
        self.assert_refused(trudy, jid, since)
        self.assertEqual(
            trudy.inbox.find_all(match('presence', jid, 'available'), since),
            [])


if __name__ == '__main__':
    main()
