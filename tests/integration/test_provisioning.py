#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Policy=parent: the devices ask their parent, a XEP-0324 provisioning
server (the component prov.localhost of tests/peers/provisioning.py),
whom to befriend and what each friend may read and control
(contract-parent.md: Config, Provisioning; protocol brief §4, §13 items
13-20).

isFriend / canRead / canControl questions and answers, the answer cache
(also across restarts), clearCache, unfriend and friend from the parent
and from impostors, the Owner and the parent never asked about, a parent
that is silent, answers errors or is disconnected, kithd stopped or killed
while a question is open, and the parent found by service discovery."""

import itertools
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS, Component, KithTestCase, World, befriend,  # noqa
                     error_of, fields_of, main, match, readout_raw,
                     to_string)
from provisioning import (ERROR, SILENT, Answer,  # noqa: E402
                          ProvisioningServer, clear_cache_xml, friend_xml,
                          unfriend_xml)

THERMO = 'sim-thermometer-1'
THERMO2 = 'sim-thermometer-2'
RELAY = 'sim-relay-1'
OWNER = 'owner@localhost'
TIMEOUT = 2            # ProvisioningTimeout= in these tests
UNAVAILABLE = 'Provisioning server unavailable'
RETRY_WAIT = 40        # first retry ~5 s, then 10 s: two retries fit
RESTART_WAIT = 60
_seqnr = itertools.count(500)


def seqnr():
    return str(next(_seqnr))


def parent_world(provisioning='prov.localhost', components=None, **kwargs):
    """World arguments: Policy=parent with the parent prov.localhost and
    the impostor component evil.localhost."""
    friendship = {'ProvisioningTimeout': str(TIMEOUT)}
    if provisioning is not None:
        friendship['Provisioning'] = provisioning
    args = dict(policy='parent', owner=OWNER,
                components=components or {'prov': ProvisioningServer,
                                          'evil': Component},
                extra_groups={'friendship': friendship})
    args.update(kwargs)
    return args


class ParentMixin:
    """Helpers; the class sets world, kithd, prov."""

    def befriend_via_parent(self, peer, devices):
        """The parent says yes to peer; subscribe to each device."""
        self.prov.rule('isFriend', peer.bare, True)
        befriend(peer, [self.kithd.jid(d) for d in devices])

    def readout(self, peer, device, attrs="momentary='true'", children=''):
        return readout_raw(peer, self.kithd.full(device), seqnr(), attrs,
                           children)

    def set_relay(self, peer, value, device=RELAY):
        return peer.iq_raw(
            f"<iq type='set' to='{self.kithd.full(device)}'>"
            f"<set xmlns='{NS['ctl']}'><boolean name='Relay' "
            f"value='{value}'/></set></iq>")

    def relay_value(self, peer):
        """Relay as read by `peer` (the owner: never asks the parent)."""
        reply, msgs = self.readout(peer, RELAY)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        values = [f['value'] for f in fields_of(msgs) if f['name'] == 'Relay']
        self.assertEqual(len(values), 1)
        return values[0]

    def assert_forbidden(self, reply, text=None):
        self.assertEqual(reply.get('type'), 'error',
                         f'expected forbidden, got {to_string(reply)}')
        err = error_of(reply)
        self.assertEqual(err[:2], ('cancel', 'forbidden'), to_string(reply))
        if text is not None:
            self.assertEqual(err[2], text, to_string(reply))

    def assert_no_presence(self, peer, device, types, since):
        """After a round trip through the device, no presence of `types`
        from it since `since`."""
        peer.barrier(self.kithd.full(device))
        got = [to_string(p) for p in peer.inbox.items(since)
               if match('presence', self.kithd.jid(device))(p) and
               (p.get('type') or 'available') in types]
        self.assertEqual(got, [], f'{device} sent {types} to {peer.bare}')

    def assert_pending(self, peer, device, since):
        """Neither subscribed nor unsubscribed came back."""
        self.assert_no_presence(peer, device, ('subscribed', 'unsubscribed'),
                                since)

    def assert_question(self, q, kind, device, jid):
        self.assertEqual(q.kind, kind)
        self.assertEqual(q.type, 'get', q.xml)
        self.assertEqual(q.frm, self.kithd.full(device), q.xml)
        self.assertEqual(q.to, self.prov.jid, q.xml)
        self.assertEqual(q.jid, jid, f'jid must be the bare JID: {q.xml}')


# ----------------------------------------------------------------------------

class ParentTest(ParentMixin, KithTestCase):
    """One world for the whole class: every test uses its own requesters,
    so that cached answers of one test never answer another's questions."""

    @classmethod
    def setUpClass(cls):
        world = cls.start_world(**parent_world())
        cls.kithd = world.kithd
        cls.prov = world.components['prov']
        cls.evil = world.components['evil']
        cls.owner = world.peer('owner')
        cls.kithd.wait_online(cls.owner)
        befriend(cls.owner, cls.kithd.bare_jids())

    # -- isFriend -------------------------------------------------------------------------

    def test_is_friend_true_after_exactly_one_question(self):
        alice = self.world.peer('alice')
        jid = self.kithd.jid(THERMO)
        self.prov.rule('isFriend', alice.bare, True)
        mark, since = self.prov.qmark(), alice.mark()
        alice.subscribe(jid)
        q = self.prov.wait_question('isFriend', jid=alice.bare, since=mark)
        self.assert_question(q, 'isFriend', THERMO, alice.bare)
        subscribed = alice.wait_presence(jid, 'subscribed', since)
        subscribe = alice.wait_presence(jid, 'subscribe', since)
        items = alice.inbox.items()
        self.assertLess(items.index(subscribed), items.index(subscribe),
                        'subscribe came before subscribed')
        alice.wait_roster(jid, ('both',))
        alice.barrier(self.kithd.full(THERMO))
        self.assertEqual(self.prov.count('isFriend', jid=alice.bare,
                                         since=mark), 1,
                         [q.xml for q in self.prov.questions(since=mark)])
        self.assertEqual(self.prov.count('isFriend', device=jid, since=mark),
                         1, 'questions about other JIDs')

    def test_is_friend_false_refuses(self):
        bob = self.world.peer('bob')
        jid = self.kithd.jid(THERMO)
        self.prov.rule('isFriend', bob.bare, False)
        mark, since = self.prov.qmark(), bob.mark()
        bob.subscribe(jid)
        q = self.prov.wait_question('isFriend', jid=bob.bare, since=mark)
        self.assert_question(q, 'isFriend', THERMO, bob.bare)
        bob.wait_presence(jid, 'unsubscribed', since)
        self.assert_no_presence(bob, THERMO, ('subscribed', 'available'),
                                since)
        self.assertEqual(self.prov.count('isFriend', jid=bob.bare,
                                         since=mark), 1)
        reply, msgs = self.readout(bob, THERMO)
        self.assert_forbidden(reply)
        self.assertEqual(msgs, [])

    def test_repeated_subscribe_while_open_asks_once(self):
        """(Prosody 0.12 itself does not pass a second subscribe on while
        the first is pending, so this mostly guards the setup.)"""
        carol = self.world.peer('carol')
        jid = self.kithd.jid(THERMO)
        self.prov.rule('isFriend', carol.bare, [SILENT, True])
        mark, since = self.prov.qmark(), carol.mark()
        carol.subscribe(jid)
        self.prov.wait_question('isFriend', jid=carol.bare, since=mark)
        carol.subscribe(jid)
        carol.barrier(self.kithd.full(THERMO))
        self.assertEqual(self.prov.count('isFriend', jid=carol.bare,
                                         since=mark), 1)
        # decided once the parent answers (the retry)
        carol.wait_presence(jid, 'subscribed', since, RETRY_WAIT)

    def test_cache_answers_second_subscribe(self):
        """Unsubscribe and subscribe again: no second isFriend."""
        dave = self.world.peer('dave')
        jid = self.kithd.jid(THERMO)
        mark = self.prov.qmark()
        self.befriend_via_parent(dave, [THERMO])
        dave.wait_roster(jid, ('both',))
        since = dave.mark()
        dave.unsubscribe(jid)
        dave.wait(lambda s: match('presence', jid)(s) and
                  s.get('type') in ('unsubscribe', 'unsubscribed'),
                  10, since, what=f'{jid} ending the friendship')
        dave.wait_roster(jid, (None, 'none'))
        self.prov.rule('isFriend', dave.bare, False)  # must not be asked
        befriend(dave, [jid])
        self.assertEqual(self.prov.count('isFriend', jid=dave.bare,
                                         since=mark), 1,
                         'the cached answer was not used')

    def test_cache_answers_second_readout(self):
        erin = self.world.peer('erin')
        self.befriend_via_parent(erin, [THERMO])
        self.prov.rule('canRead', erin.bare, True)
        mark = self.prov.qmark()
        for _ in range(3):
            reply, msgs = self.readout(erin, THERMO)
            self.assertEqual(reply.get('type'), 'result', error_of(reply))
            self.assertTrue(msgs)
        self.assertEqual(self.prov.count('canRead', jid=erin.bare,
                                         since=mark), 1)

    # -- the Owner and the parent itself ----------------------------------------------

    def test_owner_is_never_asked_and_has_full_rights(self):
        """Every rule says no; the owner reads and controls anyway."""
        reply, msgs = self.readout(self.owner, THERMO)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertTrue(fields_of(msgs))
        before = self.relay_value(self.owner)
        new = 'false' if before == 'true' else 'true'
        reply = self.set_relay(self.owner, new)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(self.relay_value(self.owner), new)
        # nor about the owner's subscription in setUpClass
        self.assertEqual([q.xml for q in self.prov.questions(jid=OWNER)], [],
                         'the owner was asked about')

    def test_parent_itself_is_accepted_without_question(self):
        jid = self.kithd.jid(THERMO2)
        mark, since = self.prov.qmark(), self.prov.mark()
        self.prov.presence(jid, 'subscribe')
        self.prov.inbox.wait(
            lambda s: match('presence', jid, 'subscribed')(s), 10, since,
            what=f'subscribed from {jid} to the parent')
        self.prov.barrier(self.kithd.full(THERMO2))
        self.assertEqual(self.prov.count(jid=self.prov.jid, since=mark), 0)
        self.assertEqual(
            self.prov.inbox.find_all(match('presence', jid, 'unsubscribed'),
                                     since), [])

    # -- canRead --------------------------------------------------------------------

    def test_can_read_copies_flags_nodes_fields_and_tokens(self):
        olga = self.world.peer('olga')
        self.befriend_via_parent(olga, [THERMO])
        self.prov.rule('canRead', olga.bare, True)
        mark = self.prov.qmark()
        reply, msgs = self.readout(
            olga, THERMO,
            attrs="momentary='true' serviceToken='ST1 ST2' deviceToken='DT1' "
                  "userToken='UT1'",
            children=f"<node nodeId='{THERMO}'/><field name='Temperature'/>")
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual({f['name'] for f in fields_of(msgs)},
                         {'Temperature'})
        q = self.prov.wait_question('canRead', jid=olga.bare, since=mark)
        self.assert_question(q, 'canRead', THERMO, olga.bare)
        self.assertEqual(q.payload.get('momentary'), 'true', q.xml)
        self.assertEqual(q.payload.get('serviceToken'), 'ST1 ST2', q.xml)
        self.assertEqual(q.payload.get('deviceToken'), 'DT1', q.xml)
        self.assertEqual(q.payload.get('userToken'), 'UT1', q.xml)
        self.assertEqual(q.children('node'), [THERMO], q.xml)
        self.assertEqual(q.children('field'), ['Temperature'], q.xml)
        # another question (flag all, no children): asked, with the flag
        mark = self.prov.qmark()
        reply, msgs = self.readout(olga, THERMO, attrs="all='true'")
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        q = self.prov.wait_question('canRead', jid=olga.bare, since=mark)
        self.assertEqual(q.payload.get('all'), 'true', q.xml)
        self.assertEqual(q.children('field'), [], q.xml)
        self.assertEqual(q.children('node'), [], q.xml)
        self.assertIsNone(q.payload.get('userToken'), q.xml)

    def test_can_read_restricted_to_fields(self):
        """result='true' with <field name='Temperature'/>: a request for
        everything gets only Temperature (checked in the raw XML)."""
        pat = self.world.peer('pat')
        self.befriend_via_parent(pat, [THERMO])
        self.prov.rule('canRead', pat.bare, Answer(True,
                                                   fields=['Temperature']))
        reply, msgs = self.readout(pat, THERMO)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual({f['name'] for f in fields_of(msgs)},
                         {'Temperature'})
        for msg in msgs:
            names = [el.get('name') for el in msg.iter()
                     if el.get('name') is not None]
            self.assertTrue(set(names) <= {'Temperature'}, to_string(msg))
            self.assertNotIn('Humidity', to_string(msg))

    def test_can_read_false_is_forbidden(self):
        quinn = self.world.peer('quinn')
        self.befriend_via_parent(quinn, [THERMO])
        self.prov.rule('canRead', quinn.bare, False)
        mark, since = self.prov.qmark(), quinn.mark()
        reply, msgs = self.readout(quinn, THERMO)
        self.assert_forbidden(reply)
        self.assertEqual(msgs, [])
        q = self.prov.wait_question('canRead', jid=quinn.bare, since=mark)
        self.assert_question(q, 'canRead', THERMO, quinn.bare)
        quinn.barrier(self.kithd.full(THERMO))
        self.assertEqual(quinn.messages(
            lambda m: m.find('sd:fields', NS) is not None, since), [])

    def test_can_read_nodes_not_naming_the_device_is_forbidden(self):
        rita = self.world.peer('rita')
        self.befriend_via_parent(rita, [THERMO])
        self.prov.rule('canRead', rita.bare, Answer(True, nodes=[THERMO2]))
        reply, msgs = self.readout(rita, THERMO)
        self.assert_forbidden(reply)
        self.assertEqual(msgs, [])

    def test_can_read_nodes_naming_the_device_is_allowed(self):
        sam = self.world.peer('sam')
        self.befriend_via_parent(sam, [THERMO])
        self.prov.rule('canRead', sam.bare, Answer(True, nodes=[THERMO]))
        reply, msgs = self.readout(sam, THERMO)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual({f['name'] for f in fields_of(msgs)},
                         {'Temperature', 'Humidity'})

    # -- canControl -------------------------------------------------------------------

    def test_can_control_false_is_forbidden_and_nothing_changes(self):
        frank = self.world.peer('frank')
        self.befriend_via_parent(frank, [RELAY])
        self.prov.rule('canControl', frank.bare, False)
        before = self.relay_value(self.owner)
        new = 'false' if before == 'true' else 'true'
        mark = self.prov.qmark()
        reply = self.set_relay(frank, new)
        self.assert_forbidden(reply)
        q = self.prov.wait_question('canControl', jid=frank.bare, since=mark)
        self.assert_question(q, 'canControl', RELAY, frank.bare)
        self.assertEqual(q.children('parameter'), ['Relay'], q.xml)
        self.assertEqual(self.relay_value(self.owner), before,
                         'the relay changed although the parent said no')

    def test_can_control_restricted_lists_the_allowed_parameter(self):
        gus = self.world.peer('gus')
        self.befriend_via_parent(gus, [RELAY])
        self.prov.rule('canControl', gus.bare,
                       Answer(True, parameters=['Relay']))
        before = self.relay_value(self.owner)
        new = 'false' if before == 'true' else 'true'
        reply = self.set_relay(gus, new)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        response = reply.find('ctl:setResponse', NS)
        self.assertIsNotNone(response, to_string(reply))
        params = [(etree_name(c), c.get('name')) for c in response]
        self.assertEqual(params, [('parameter', 'Relay')], to_string(reply))
        self.assertEqual(self.relay_value(self.owner), new)

    def test_can_control_true_without_children_empty_set_response(self):
        hal = self.world.peer('hal')
        self.befriend_via_parent(hal, [RELAY])
        self.prov.rule('canControl', hal.bare, True)
        before = self.relay_value(self.owner)
        new = 'false' if before == 'true' else 'true'
        reply = self.set_relay(hal, new)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        response = reply.find('ctl:setResponse', NS)
        self.assertIsNotNone(response, to_string(reply))
        self.assertEqual(len(response), 0, to_string(reply))
        self.assertEqual(self.relay_value(self.owner), new)

    # -- every way of reading or controlling asks the same question -------------------

    def chat_reply(self, peer, device, text):
        since = peer.mark()
        peer.chat(self.kithd.jid(device), text)
        reply = peer.wait_message(frm=self.kithd.jid(device), since=since,
                                  what=f'the answer to {text!r}')
        return reply.findtext('c:body', '', NS)

    def test_chat_get_asks_the_parent_and_is_refused(self):
        """canRead false: the chat 'get' answers that it is not allowed and
        shows no reading, exactly like the readout."""
        uma = self.world.peer('uma')
        self.befriend_via_parent(uma, [THERMO])
        self.prov.rule('canRead', uma.bare, False)
        mark = self.prov.qmark()
        body = self.chat_reply(uma, THERMO, 'get')
        self.assertTrue(body.startswith('Not allowed'), body)
        self.assertNotIn('Temperature', body)
        self.assertNotIn('Humidity', body)
        q = self.prov.wait_question('canRead', jid=uma.bare, since=mark)
        self.assert_question(q, 'canRead', THERMO, uma.bare)

    def test_chat_get_shows_only_the_allowed_fields(self):
        vic = self.world.peer('vic')
        self.befriend_via_parent(vic, [THERMO])
        self.prov.rule('canRead', vic.bare, Answer(True,
                                                   fields=['Temperature']))
        body = self.chat_reply(vic, THERMO, 'get')
        self.assertIn('Temperature:', body)
        self.assertNotIn('Humidity', body)

    def test_chat_set_refused_by_the_parent_says_so(self):
        wes = self.world.peer('wes')
        self.befriend_via_parent(wes, [RELAY])
        self.prov.rule('canControl', wes.bare, False)
        before = self.relay_value(self.owner)
        new = 'off' if before == 'true' else 'on'
        body = self.chat_reply(wes, RELAY, f'set relay {new}')
        self.assertTrue(body.startswith('Not allowed'), body)
        self.assertEqual(self.relay_value(self.owner), before)

    # -- clearCache -----------------------------------------------------------------

    def cached_reader(self, name):
        """A friend whose canRead answer for THERMO is cached."""
        peer = self.world.peer(name)
        self.befriend_via_parent(peer, [THERMO])
        self.prov.rule('canRead', peer.bare, True)
        for _ in range(2):
            reply, _ = self.readout(peer, THERMO)
            self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(self.prov.count('canRead', jid=peer.bare), 1)
        return peer

    def assert_asks_again(self, peer, expected):
        mark = self.prov.qmark()
        reply, _ = self.readout(peer, THERMO)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(self.prov.count('canRead', jid=peer.bare,
                                         since=mark), expected,
                         'asked again' if expected == 0 else
                         'the cache was not cleared')

    def test_clear_cache_from_parent(self):
        ivan = self.cached_reader('ivan')
        for type_ in ('set', 'get'):
            reply = self.prov.clear_cache(self.kithd.full(THERMO), type_)
            self.assertEqual(reply.get('type'), 'result', to_string(reply))
            self.assertEqual(reply.get('from'), self.kithd.full(THERMO))
            self.assertIsNotNone(reply.find('prov:clearCacheResponse', NS),
                                 to_string(reply))
            self.assert_asks_again(ivan, 1)
            self.assert_asks_again(ivan, 0)  # and caches the new answer

    def test_clear_cache_as_message_from_parent(self):
        jack = self.cached_reader('jack')
        self.prov.clear_cache_message(self.kithd.full(THERMO))
        self.prov.barrier(self.kithd.full(THERMO))
        self.assert_asks_again(jack, 1)

    def test_clear_cache_from_a_stranger_is_forbidden(self):
        kim = self.cached_reader('kim')
        mallory = self.world.peer('mallory')
        friendly = self.world.peer('friendly')   # a friend, not the parent
        self.befriend_via_parent(friendly, [THERMO])
        for sender in (self.evil, mallory, friendly):
            if sender is self.evil:
                reply = self.evil.iq(self.kithd.full(THERMO), 'set',
                                     clear_cache_xml())
            else:
                reply = sender.iq_raw(
                    f"<iq type='set' to='{self.kithd.full(THERMO)}'>"
                    f"{clear_cache_xml()}</iq>")
            self.assert_forbidden(reply)
            # the message form is ignored
            if sender is self.evil:
                self.evil.message(self.kithd.full(THERMO), clear_cache_xml())
                self.evil.barrier(self.kithd.full(THERMO))
            else:
                sender.send_raw(f"<message to='{self.kithd.full(THERMO)}'>"
                                f"{clear_cache_xml()}</message>")
                sender.barrier(self.kithd.full(THERMO))
        self.assert_asks_again(kim, 0)

    # -- unfriend / friend --------------------------------------------------------------

    def test_unfriend_from_parent_ends_friendship_and_forgets(self):
        gina = self.world.peer('gina')
        jid = self.kithd.jid(THERMO)
        self.befriend_via_parent(gina, [THERMO])
        gina.wait_roster(jid, ('both',))
        # slixmpp may have asked a second time; let the device answer that
        # first (its answer to a ping follows), or it would be a new request
        # after the unfriend
        gina.ping(self.kithd.full(THERMO))
        since = gina.mark()
        self.prov.unfriend(jid, gina.bare)   # to the bare JID, as XEP-0324
        gina.wait_presence(jid, 'unsubscribe', since)
        gina.wait_presence(jid, 'unsubscribed', since)
        gina.wait_roster(jid, (None, 'none'))
        reply, _ = self.readout(gina, THERMO)
        self.assert_forbidden(reply)
        # the cached yes is forgotten: subscribing again asks again
        mark = self.prov.qmark()
        befriend(gina, [jid])
        self.assertEqual(self.prov.count('isFriend', jid=gina.bare,
                                         since=mark), 1)

    def test_unfriend_from_a_stranger_is_ignored(self):
        harry = self.world.peer('harry')
        nosy = self.world.peer('nosy')          # a friend, not the parent
        jid = self.kithd.jid(THERMO)
        self.befriend_via_parent(harry, [THERMO])
        self.befriend_via_parent(nosy, [THERMO])
        harry.wait_roster(jid, ('both',))
        self.prov.rule('canRead', harry.bare, True)
        since = harry.mark()
        self.evil.message(jid, unfriend_xml(harry.bare))
        self.evil.message(self.kithd.full(THERMO), unfriend_xml(harry.bare))
        self.evil.barrier(self.kithd.full(THERMO))
        nosy.send_raw(f"<message to='{jid}'>{unfriend_xml(harry.bare)}"
                      "</message>")
        nosy.send_raw(f"<message to='{self.kithd.full(THERMO)}'>"
                      f"{unfriend_xml(harry.bare)}</message>")
        nosy.barrier(self.kithd.full(THERMO))
        self.assert_no_presence(harry, THERMO,
                                ('unsubscribe', 'unsubscribed',
                                 'unavailable'), since)
        self.assertEqual(harry.roster_subscription(jid), 'both')
        reply, msgs = self.readout(harry, THERMO)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))

    def test_friend_recommendation_from_parent(self):
        """The device subscribes to Y and later accepts Y without asking
        (the parent's default answer is no)."""
        judy = self.world.peer('judy')
        jid = self.kithd.jid(THERMO2)
        mark, since = self.prov.qmark(), judy.mark()
        self.prov.friend(self.kithd.full(THERMO2), judy.bare)
        judy.wait_presence(jid, 'subscribe', since)
        # slixmpp approves and subscribes back; the device must accept
        judy.wait_presence(jid, 'subscribed', since)
        judy.wait_roster(jid, ('both',))
        self.assertEqual(self.prov.count('isFriend', jid=judy.bare,
                                         since=mark), 0)

    def test_friend_recommendation_from_a_stranger_is_ignored(self):
        victor = self.world.peer('victor')
        nosy = self.world.peer('nosy2')
        self.befriend_via_parent(nosy, [THERMO2])
        jid = self.kithd.jid(THERMO2)
        since = victor.mark()
        self.evil.message(self.kithd.full(THERMO2), friend_xml(victor.bare))
        self.evil.barrier(self.kithd.full(THERMO2))
        nosy.send_raw(f"<message to='{self.kithd.full(THERMO2)}'>"
                      f"{friend_xml(victor.bare)}</message>")
        nosy.barrier(self.kithd.full(THERMO2))
        self.assert_no_presence(victor, THERMO2, ('subscribe',), since)
        self.assertIsNone(victor.roster_subscription(jid))

    def test_claimed_from_a_stranger_is_forbidden(self):
        """No Registry= here: nobody may claim the device."""
        mallory = self.world.peer('mallory2')
        jid = self.kithd.jid(THERMO2)
        since, esince = mallory.mark(), self.evil.mark()
        claim = "<claimed xmlns='urn:xmpp:iot:discovery' jid='{}'/>"
        reply = self.evil.iq(self.kithd.full(THERMO2), 'set',
                             claim.format(mallory.bare))
        self.assert_forbidden(reply)
        reply = mallory.iq_raw(f"<iq type='set' to='{self.kithd.full(THERMO2)}'"
                               f">{claim.format(mallory.bare)}</iq>")
        self.assert_forbidden(reply)
        self.assert_no_presence(mallory, THERMO2, ('subscribe', 'subscribed'),
                                since)
        self.assertEqual(self.evil.inbox.find_all(match('presence', jid),
                                                  esince), [])
        # still not the owner: reading needs the parent, who says no
        self.prov.rule('canRead', mallory.bare, False)
        reply, _ = self.readout(mallory, THERMO2)
        self.assert_forbidden(reply)

    # -- the parent not answering (one question, one device) -------------------------

    def test_read_with_silent_parent_is_forbidden_in_time(self):
        kate = self.world.peer('kate')
        self.befriend_via_parent(kate, [THERMO])
        self.prov.rule('canRead', kate.bare, SILENT)
        start = time.monotonic()
        reply, msgs = self.readout(kate, THERMO)
        elapsed = time.monotonic() - start
        self.assert_forbidden(reply, UNAVAILABLE)
        self.assertLessEqual(elapsed, TIMEOUT + 2,
                             f'answered after {elapsed:.1f} s')
        self.assertEqual(msgs, [])

    def test_control_with_parent_error_is_forbidden(self):
        leo = self.world.peer('leo')
        self.befriend_via_parent(leo, [RELAY])
        self.prov.rule('canControl', leo.bare, ERROR)
        before = self.relay_value(self.owner)
        new = 'false' if before == 'true' else 'true'
        start = time.monotonic()
        reply = self.set_relay(leo, new)
        elapsed = time.monotonic() - start
        self.assert_forbidden(reply, UNAVAILABLE)
        self.assertLessEqual(elapsed, TIMEOUT + 2)
        self.assertEqual(self.relay_value(self.owner), before)

    def test_control_with_silent_parent_is_forbidden_in_time(self):
        mia = self.world.peer('mia')
        self.befriend_via_parent(mia, [RELAY])
        self.prov.rule('canControl', mia.bare, SILENT)
        before = self.relay_value(self.owner)
        new = 'false' if before == 'true' else 'true'
        start = time.monotonic()
        reply = self.set_relay(mia, new)
        elapsed = time.monotonic() - start
        self.assert_forbidden(reply, UNAVAILABLE)
        self.assertLessEqual(elapsed, TIMEOUT + 2)
        self.assertEqual(self.relay_value(self.owner), before)

    def test_friend_request_waits_while_parent_errs(self):
        """An IQ error is no answer: the request waits, the device asks
        again and the answer of the retry decides."""
        ned = self.world.peer('ned')
        jid = self.kithd.jid(THERMO2)
        self.prov.rule('isFriend', ned.bare, [ERROR, True])
        mark, since = self.prov.qmark(), ned.mark()
        ned.subscribe(jid)
        self.prov.wait_question('isFriend', jid=ned.bare, since=mark)
        self.assert_pending(ned, THERMO2, since)
        self.prov.wait_question('isFriend', jid=ned.bare, since=mark, n=2,
                                timeout=RETRY_WAIT)
        ned.wait_presence(jid, 'subscribed', since)


def etree_name(el):
    return el.tag.split('}')[-1]


# ----------------------------------------------------------------------------

class ParentOfflineTest(ParentMixin, KithTestCase):
    """The parent goes silent (or away) and comes back; a world per test."""

    def new_world(self, **kwargs):
        self.world = World(**parent_world(**kwargs))
        self.addCleanup(self.world.close)
        self.kithd = self.world.kithd
        self.prov = self.world.components['prov']
        return self.world

    def test_silent_parent_then_back(self):
        world = self.new_world()
        friend = world.peer('friend')
        self.kithd.wait_online(friend)
        self.befriend_via_parent(friend, [THERMO])
        self.prov.rule('canRead', friend.bare, True)
        late = world.peer('late')
        jid = self.kithd.jid(THERMO)
        self.prov.rule('isFriend', late.bare, True)

        self.prov.mode = 'silent'
        mark, since = self.prov.qmark(), late.mark()
        late.subscribe(jid)
        self.prov.wait_question('isFriend', jid=late.bare, since=mark)
        start = time.monotonic()
        reply, _ = self.readout(friend, THERMO)
        self.assertLessEqual(time.monotonic() - start, TIMEOUT + 2)
        self.assert_forbidden(reply, UNAVAILABLE)
        # still waiting when the device asks again
        self.prov.wait_question('isFriend', jid=late.bare, since=mark, n=2,
                                timeout=RETRY_WAIT)
        self.assert_pending(late, THERMO, since)

        self.prov.mode = 'answer'
        late.wait_presence(jid, 'subscribed', since, RETRY_WAIT)
        late.wait_presence(jid, 'available', since)
        # retries with backoff: ~5 s first, then longer
        asked = [q.time for q in self.prov.questions(
            'isFriend', jid=late.bare, since=mark)]
        self.assertEqual(len(asked), 3, 'expected two retries')
        first, second = asked[1] - asked[0], asked[2] - asked[1]
        self.assertGreaterEqual(first, 4.0, f'first retry after {first:.1f} s')
        self.assertLessEqual(first, 5 + TIMEOUT + 3,
                             f'first retry after {first:.1f} s')
        self.assertGreaterEqual(second, first + 1,
                                f'no backoff: {first:.1f} s, {second:.1f} s')
        reply, msgs = self.readout(friend, THERMO)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertTrue(msgs)

    def test_disconnected_parent_then_back(self):
        """The component is gone (Prosody answers for it with an error),
        then connects again."""
        world = self.new_world()
        friend = world.peer('friend')
        self.kithd.wait_online(friend)
        self.befriend_via_parent(friend, [RELAY])
        late = world.peer('late')
        jid = self.kithd.jid(RELAY)
        self.prov.rule('isFriend', late.bare, True)
        self.prov.rule('canControl', friend.bare, True)

        self.prov.stop()
        since = late.mark()
        late.subscribe(jid)
        start = time.monotonic()
        reply = self.set_relay(friend, 'true')
        self.assertLessEqual(time.monotonic() - start, TIMEOUT + 2)
        self.assert_forbidden(reply, UNAVAILABLE)
        self.assert_pending(late, RELAY, since)

        self.prov.start()
        late.wait_presence(jid, 'subscribed', since, RETRY_WAIT)
        reply = self.set_relay(friend, 'true')
        self.assertEqual(reply.get('type'), 'result', error_of(reply))


# ----------------------------------------------------------------------------

class ParentRestartTest(ParentMixin, KithTestCase):
    """Answers and open questions across kithd restarts; a world per test."""

    def new_world(self):
        self.world = World(**parent_world())
        self.addCleanup(self.world.close)
        self.kithd = self.world.kithd
        self.prov = self.world.components['prov']
        return self.world

    def test_cache_survives_restart(self):
        world = self.new_world()
        alice = world.peer('alice')
        self.kithd.wait_online(alice)
        jid = self.kithd.jid(THERMO)
        self.befriend_via_parent(alice, [THERMO])
        alice.wait_roster(jid, ('both',))
        self.prov.rule('canRead', alice.bare, True)
        reply, _ = self.readout(alice, THERMO)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(self.kithd.stop(), 0)
        rows = self.kithd.query_db('SELECT count(*) FROM provisioning_cache')
        self.assertGreater(rows[0][0], 0, 'provisioning_cache is empty')

        # from now on the parent would say no to everything
        self.prov.rule('isFriend', alice.bare, False)
        self.prov.rule('canRead', alice.bare, False)
        mark, since = self.prov.qmark(), alice.mark()
        self.kithd.start()
        alice.wait_presence(jid, 'available', since, RESTART_WAIT)
        self.kithd.wait_online(alice, [THERMO])
        reply, msgs = self.readout(alice, THERMO)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertTrue(msgs)
        # unsubscribe, subscribe: the cached isFriend decides
        since = alice.mark()
        alice.unsubscribe(jid)
        alice.wait_roster(jid, (None, 'none'))
        befriend(alice, [jid])
        self.assertEqual(self.prov.count(jid=alice.bare, since=mark), 0,
                         [q.xml for q in self.prov.questions(since=mark)])

    def check_open_question_survives(self, stop):
        world = self.new_world()
        nick = world.peer('nick')
        self.kithd.wait_online(nick)
        jid = self.kithd.jid(THERMO2)
        self.prov.rule('isFriend', nick.bare, SILENT)
        mark, since = self.prov.qmark(), nick.mark()
        nick.subscribe(jid)
        self.prov.wait_question('isFriend', jid=nick.bare, since=mark)
        stop()
        self.assert_nothing_decided(nick, jid, since)

        self.prov.rule('isFriend', nick.bare, True)
        mark = self.prov.qmark()
        self.kithd.start()
        q = self.prov.wait_question('isFriend', jid=nick.bare, since=mark,
                                    timeout=RESTART_WAIT)
        self.assert_question(q, 'isFriend', THERMO2, nick.bare)
        nick.wait_presence(jid, 'subscribed', since, RETRY_WAIT)
        nick.wait_presence(jid, 'available', since)

    def assert_nothing_decided(self, peer, jid, since):
        got = [to_string(p) for p in peer.inbox.items(since)
               if match('presence', jid)(p) and
               p.get('type') in ('subscribed', 'unsubscribed')]
        self.assertEqual(got, [], 'decided without an answer')

    def test_open_question_survives_sigterm(self):
        self.check_open_question_survives(
            lambda: self.assertEqual(self.kithd.stop(), 0))

    def test_open_question_survives_kill9(self):
        self.check_open_question_survives(lambda: self.kithd.kill9())


# ----------------------------------------------------------------------------

class ParentDiscoveryTest(ParentMixin, KithTestCase):
    """Provisioning= empty: the parent is the first item of the server's
    disco#items whose disco#info lists urn:xmpp:iot:provisioning (here
    after an item without it and a registry)."""

    @classmethod
    def setUpClass(cls):
        from registry import ThingRegistry
        world = cls.start_world(**parent_world(
            provisioning=None,
            components={'evil': Component, 'reg': ThingRegistry,
                        'prov': ProvisioningServer}))
        cls.kithd = world.kithd
        cls.prov = world.components['prov']
        cls.watcher = world.peer('watcher')
        cls.kithd.wait_online(cls.watcher)

    def test_server_lists_the_components(self):
        """The harness: Prosody's disco#items on the domain lists them."""
        reply = self.watcher.iq_raw(
            "<iq type='get' to='localhost'><query xmlns='http://jabber.org/"
            "protocol/disco#items'/></iq>")
        items = {i.get('jid') for i in reply.iter(
            '{http://jabber.org/protocol/disco#items}item')}
        self.assertLessEqual({'prov.localhost', 'reg.localhost',
                              'evil.localhost'}, items, to_string(reply))

    def test_parent_found_by_discovery_is_asked(self):
        alice = self.world.peer('alice')
        jid = self.kithd.jid(THERMO)
        self.prov.rule('isFriend', alice.bare, True)
        mark, since = self.prov.qmark(), alice.mark()
        alice.subscribe(jid)
        q = self.prov.wait_question('isFriend', jid=alice.bare, since=mark,
                                    timeout=20)
        self.assert_question(q, 'isFriend', THERMO, alice.bare)
        alice.wait_presence(jid, 'subscribed', since)
        # the gateway looked at the parent's disco#info on the way (one of its
        # devices: what one device finds serves them all)
        devices = {self.kithd.full(d) for d in self.kithd.devices}
        self.assertTrue(self.prov.inbox.find_all(
            lambda s: s.get('from') in devices and
            s.find('disco:query', NS) is not None), 'no disco#info seen')

    def test_discovered_parent_refuses(self):
        bob = self.world.peer('bob')
        jid = self.kithd.jid(THERMO2)
        self.prov.rule('isFriend', bob.bare, False)
        since = bob.mark()
        bob.subscribe(jid)
        bob.wait_presence(jid, 'unsubscribed', since, 20)
        self.assertEqual(self.prov.count('isFriend', jid=bob.bare), 1)


DIMMER = 'sim-dimmer-1'


class ParentRestrictedControlTest(ParentMixin, KithTestCase):
    """canControl allowing one of two parameters: only that one is set, and
    setResponse names it (XEP-0325 §3.5)."""

    @classmethod
    def setUpClass(cls):
        args = parent_world(thermometers=0, relays=0)
        args['extra_groups']['bus:sim'] = {'Dimmers': '1'}
        world = cls.start_world(**args)
        cls.kithd = world.kithd
        cls.kithd.devices = [DIMMER]
        cls.prov = world.components['prov']
        cls.owner = world.peer('owner')
        cls.kithd.wait_online(cls.owner)
        befriend(cls.owner, [cls.kithd.jid(DIMMER)])

    def dimmer_values(self):
        reply, msgs = self.readout(self.owner, DIMMER)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        return {f['name']: f['value'] for f in fields_of(msgs)}

    def test_only_the_allowed_parameter_is_set(self):
        ivy = self.world.peer('ivy')
        self.befriend_via_parent(ivy, [DIMMER])
        self.prov.rule('canControl', ivy.bare, Answer(True, parameters=['Level']))
        before = self.dimmer_values()
        reply = ivy.iq_raw(
            f"<iq type='set' to='{self.kithd.full(DIMMER)}'>"
            f"<set xmlns='{NS['ctl']}'><boolean name='On' value='true'/>"
            "<double name='Level' value='25'/></set></iq>")
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        response = reply.find('ctl:setResponse', NS)
        self.assertIsNotNone(response, to_string(reply))
        self.assertEqual([(etree_name(c), c.get('name')) for c in response],
                         [('parameter', 'Level')], to_string(reply))
        after = self.dimmer_values()
        self.assertEqual(after['On'], before['On'], 'a disallowed parameter was set')
        self.assertEqual(float(after['Level']), 25)


class StatusLineTest(ParentMixin, KithTestCase):
    """The presence status carries only the readings every friend may read
    (Policy=parent): the parent is asked what each friend may see when the
    friendship starts, and the status follows its answers."""

    def status(self, peer, device):
        """The status text of the newest presence from device, or None."""
        found = [p for p in peer.inbox.items()
                 if match('presence', self.kithd.jid(device))(p) and
                 p.get('type') is None]
        return found[-1].findtext('c:status', None, NS) if found else None

    def wait_status(self, peer, device, pattern, what):
        regex = re.compile(pattern) if pattern else None
        peer.inbox.wait_until(
            lambda: regex.search(self.status(peer, device) or '') is not None
            if pattern else self.status(peer, device) is None,
            15, f'{what} (now {self.status(peer, device)!r})')

    def test_status_shows_what_every_friend_may_read(self):
        world = World(**parent_world(thermometers=1, relays=0))
        self.addCleanup(world.close)
        self.world, self.kithd = world, world.kithd
        self.prov = world.components['prov']
        both = r'°C, \d+ %$'
        temperature_only = r'^-?\d+\.\d °C$'
        amy = world.peer('amy')
        self.kithd.wait_online(amy)
        self.prov.rule('canRead', amy.bare, True)
        self.befriend_via_parent(amy, [THERMO])
        self.wait_status(amy, THERMO, both, 'both readings')

        # bob may read the temperature only: nobody sees the humidity
        bob = world.peer('bob')
        self.prov.rule('canRead', bob.bare, Answer(True,
                                                   fields=['Temperature']))
        mark = self.prov.qmark()
        self.befriend_via_parent(bob, [THERMO])
        q = self.prov.wait_question('canRead', jid=bob.bare, since=mark,
                                    status_line=True)
        self.assertEqual(set(q.children('field')), {'Temperature', 'Humidity'})
        self.wait_status(amy, THERMO, temperature_only, 'the temperature only')
        self.wait_status(bob, THERMO, temperature_only,
                         'the temperature only, for bob too')

        # bob leaves: both readings again
        bob.unsubscribe(self.kithd.jid(THERMO))
        bob.send_presence(self.kithd.jid(THERMO), 'unsubscribed')
        self.wait_status(amy, THERMO, both, 'both readings after bob left')

        # carl may read nothing: the status has no readings at all
        carl = world.peer('carl')
        self.prov.rule('canRead', carl.bare, False)
        self.befriend_via_parent(carl, [THERMO])
        self.wait_status(amy, THERMO, None, 'no readings')
        self.assertIsNone(self.status(carl, THERMO))

        # the answers are cached: after a restart the status is the same
        self.kithd.stop()
        since = amy.mark()
        self.kithd.start()
        amy.wait_presence(self.kithd.jid(THERMO), 'available', since,
                          timeout=RESTART_WAIT)
        self.assertIsNone(self.status(amy, THERMO))
        self.assertEqual(self.prov.count('canRead', jid=carl.bare,
                                         status_line=True), 1)


if __name__ == '__main__':
    main()
