#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registry=: the devices register with a XEP-0347 thing registry (the
component reg.localhost of tests/peers/registry.py), the owner claims a
device with the tags of its `kithd --commissioning` iotdisco: URI, and the
registry's claimed / disowned / removed pushes (contract-parent.md:
Registry; protocol brief §8, §13 items 30-33).

The devices run Policy=parent with a parent (prov.localhost) that says no
to everything, so that whatever the owner may do comes from being the
owner.  The last class has no parent at all: the owner is the parent."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS, Component, KithTestCase, World, befriend,  # noqa
                     error_of, fields_of, main, match, readout_raw,
                     to_string, wait_for)
from provisioning import P, ProvisioningServer, Question  # noqa: E402
from registry import (D, ThingRegistry, mine_xml,  # noqa: E402
                      parse_iotdisco, same_tags)

THERMO = 'sim-thermometer-1'
THERMO2 = 'sim-thermometer-2'
RELAY = 'sim-relay-1'
REG = 'reg.localhost'
CLASSES = {THERMO: 'Thermometer', THERMO2: 'Thermometer', RELAY: 'Relay'}
KEY = re.compile(r'^[0-9a-fA-F]{32}$')
RESTART_WAIT = 60


def registry_world(provisioning=True, **kwargs):
    friendship = {'Registry': REG, 'ProvisioningTimeout': '2'}
    components = {'reg': ThingRegistry, 'evil': Component}
    if provisioning:
        friendship['Provisioning'] = 'prov.localhost'
        components['prov'] = ProvisioningServer
    args = dict(policy='parent', components=components,
                extra_groups={'friendship': friendship})
    args.update(kwargs)
    return args


class RegistryMixin:
    def new_world(self, **kwargs):
        self.world = World(**registry_world(**kwargs))
        self.addCleanup(self.world.close)
        self.kithd = self.world.kithd
        self.reg = self.world.components['reg']
        self.prov = self.world.components.get('prov')
        self.evil = self.world.components['evil']
        return self.world

    def wait_registered(self, devices=None, since=0):
        return {d: self.reg.wait_register(self.kithd.jid(d), since)
                for d in devices or self.kithd.devices}

    def claim(self, owner, device):
        """The owner scans the device's URI and sends `mine` with its tags
        to the registry the URI names.  Returns the mine reply."""
        uri = self.kithd.commissioning()[device]
        tags, registry = parse_iotdisco(uri)
        self.assertEqual(registry, REG, uri)
        reply = owner.iq_raw(f"<iq type='set' to='{registry}'>"
                             f"{mine_xml(tags)}</iq>", timeout=20)
        self.assertEqual(reply.get('type'), 'result', to_string(reply))
        claimed = reply.find('iotdisco:claimed', NS)
        self.assertIsNotNone(claimed, to_string(reply))
        self.assertEqual(claimed.get('jid'), self.kithd.jid(device))
        return reply

    def assert_owner_befriended(self, owner, device, since):
        """The device pre-approved the owner (`subscribed`, which Prosody
        keeps) and sent `subscribe`; the friendship ends up mutual."""
        jid = self.kithd.jid(device)
        if self.kithd.mode == 'client':
            self.world.prosody.wait_sent(
                self.kithd.full(device),
                rf"<presence(?=[^>]*type=['\"]subscribed['\"])"
                rf"(?=[^>]*to=['\"]{re.escape(owner.bare)}['\"])")
        owner.wait_presence(jid, 'subscribe', since)
        owner.wait_roster(jid, ('both',))
        owner.wait_presence(jid, 'available', since)
        if self.kithd.mode == 'component':
            # kithd keeps the roster itself: To and From, nothing pending
            wait_for(lambda: self.kithd.query_db(
                'SELECT state FROM roster WHERE device_id = ? AND jid = ?',
                (device, owner.bare)) == [(3,)],
                f'{device}: roster entry for {owner.bare} is not Both')

    def assert_owner_rights(self, owner, device):
        """Readout (and control of the relay) with no question to the
        parent, who would say no."""
        mark = self.prov.qmark() if self.prov else 0
        reply, msgs = readout_raw(owner, self.kithd.full(device), '7')
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertTrue(fields_of(msgs))
        if device == RELAY:
            reply = owner.iq_raw(
                f"<iq type='set' to='{self.kithd.full(RELAY)}'>"
                f"<set xmlns='{NS['ctl']}'><boolean name='Relay' "
                f"value='true'/></set></iq>")
            self.assertEqual(reply.get('type'), 'result', error_of(reply))
        if self.prov:
            self.assertEqual([q.xml for q in self.prov.questions(
                jid=owner.bare, since=mark)], [])

    def assert_forbidden(self, reply):
        self.assertEqual(reply.get('type'), 'error', to_string(reply))
        self.assertEqual(error_of(reply)[:2], ('cancel', 'forbidden'),
                         to_string(reply))

    def registry_row(self, device):
        rows = self.kithd.query_db(
            'SELECT owner, state, key FROM registry WHERE device_id = ?',
            (device,))
        self.assertEqual(len(rows), 1, rows)
        return rows[0]


class RegistryTest(RegistryMixin, KithTestCase):

    def test_register_with_tags_and_key(self):
        self.new_world()
        registers = self.wait_registered()
        keys = set()
        for device, reg in registers.items():
            self.assertEqual(reg.el.get('type'), 'set', reg.xml)
            self.assertEqual(reg.el.get('to'), REG, reg.xml)
            self.assertEqual(reg.frm, self.kithd.full(device), reg.xml)
            tags = reg.tags
            self.assertEqual(tags.get('SN'), ('str', device), reg.xml)
            self.assertEqual(tags.get('MAN'), ('str', 'kith.sim'), reg.xml)
            self.assertEqual(tags.get('CLASS'), ('str', CLASSES[device]),
                             reg.xml)
            self.assertEqual(tags.get('MODEL', (None,))[0], 'str', reg.xml)
            self.assertTrue(tags['MODEL'][1], reg.xml)
            self.assertEqual(tags.get('V', (None,))[0], 'num', reg.xml)
            self.assertEqual(float(tags['V'][1]), 0.1, reg.xml)
            self.assertEqual(tags.get('KEY', (None,))[0], 'str', reg.xml)
            self.assertRegex(tags['KEY'][1], KEY)
            keys.add(tags['KEY'][1])
            self.assertEqual(reg.answer, '')
        self.assertEqual(len(keys), len(registers), 'devices share a KEY')

    def test_commissioning_uri_has_the_registered_key(self):
        self.new_world()
        registers = self.wait_registered()
        uris = self.kithd.commissioning()
        self.assertEqual(sorted(uris), sorted(self.kithd.devices))
        for device, uri in uris.items():
            tags, registry = parse_iotdisco(uri)
            self.assertEqual(registry, REG, uri)
            self.assertIn(';#V=', uri)
            self.assertNotIn(' ', uri, 'values must be percent-encoded')
            self.assertTrue(uri.startswith('iotdisco:'), uri)
            self.assertTrue(same_tags(tags, registers[device].tags),
                            f'{uri} vs {registers[device].xml}')

    def test_owner_claims_with_the_uri(self):
        world = self.new_world()
        owner = world.peer('owner')
        self.kithd.wait_online(owner)
        self.wait_registered()
        for device in (THERMO, RELAY):
            since = owner.mark()
            self.claim(owner, device)
            push = self.reg.wait_push('claimed', self.kithd.jid(device))
            self.assertEqual(push.to, self.kithd.full(device))
            self.assertTrue(push.ok, push)
            self.assertEqual(len(push.reply), 0,
                             f'claimed answered with a payload: {push}')
            self.assert_owner_befriended(owner, device, since)
            self.assert_owner_rights(owner, device)
            owner_, state, key = self.registry_row(device)
            self.assertEqual(owner_, owner.bare)
            self.assertEqual(state, 'claimed')
        # the device nobody claimed has no owner
        self.assertIsNone(self.registry_row(THERMO2)[0])

    def test_claim_survives_restart_without_register(self):
        world = self.new_world()
        owner = world.peer('owner')
        self.kithd.wait_online(owner)
        self.wait_registered()
        since = owner.mark()
        self.claim(owner, THERMO)
        self.assert_owner_befriended(owner, THERMO, since)
        self.assertEqual(self.kithd.stop(), 0)

        rmark, since = self.reg.rmark(), owner.mark()
        self.kithd.start()
        # the unclaimed devices register again at login ...
        self.wait_registered([THERMO2, RELAY], rmark)
        owner.wait_presence(self.kithd.jid(THERMO), 'available', since,
                            RESTART_WAIT)
        self.kithd.wait_online(owner)
        self.assert_owner_rights(owner, THERMO)
        self.reg.barrier(self.kithd.full(THERMO))
        # ... the claimed one does not
        self.assertEqual(self.reg.registers(self.kithd.jid(THERMO), rmark),
                         [])

    def wait_other(self, name, device, since=0, timeout=15):
        """The update/unregister IQ the registry got from the device."""
        deadline = time.monotonic() + timeout
        full = self.kithd.full(device)
        while time.monotonic() < deadline:
            for el in self.reg.others[since:]:
                if el.get('from') == full and el.find(f'{{{D}}}{name}') is not None:
                    return el
            self.reg.barrier(full)
        self.fail(f'no {name} from {device}')

    def test_claim_blanks_the_key(self):
        """After the claim the KEY in the registry is blanked (XEP-0347
        update), so the code on the sticker is no good any more."""
        world = self.new_world()
        owner = world.peer('owner')
        self.kithd.wait_online(owner)
        self.wait_registered()
        self.claim(owner, RELAY)
        update = self.wait_other('update', RELAY)
        keys = [tag for tag in update.find(f'{{{D}}}update')
                if tag.get('name') == 'KEY']
        self.assertEqual([(k.tag, k.get('value')) for k in keys],
                         [(f'{{{D}}}str', '')], to_string(update))

    def test_unregister_when_the_registry_is_dropped(self):
        """Registry= emptied: at the next start every registered device
        unregisters from the registry it was in."""
        self.new_world()
        self.wait_registered()
        self.assertEqual(self.kithd.stop(), 0)
        since = len(self.reg.others)
        self.kithd.groups['friendship'].pop('Registry')
        self.kithd.write_config()
        self.kithd.start()
        for device in self.kithd.devices:
            self.wait_other('unregister', device, since, timeout=RESTART_WAIT)

    def test_owner_claims_while_the_device_is_offline(self):
        """The claim is in the result of the device's next register."""
        world = self.new_world()
        owner = world.peer('owner')
        self.kithd.wait_online(owner)
        self.wait_registered()
        self.assertEqual(self.kithd.stop(), 0)
        self.claim(owner, THERMO2)    # the push cannot reach the device
        push = self.reg.wait_push('claimed', self.kithd.jid(THERMO2))
        self.assertFalse(push.ok, 'a device that is not running answered')

        rmark, since = self.reg.rmark(), owner.mark()
        self.kithd.start()
        reg = self.reg.wait_register(self.kithd.jid(THERMO2), rmark,
                                     RESTART_WAIT)
        self.assertIn('claimed', reg.answer)
        self.assert_owner_befriended(owner, THERMO2, since)
        self.assert_owner_rights(owner, THERMO2)
        self.assertEqual(self.registry_row(THERMO2)[0], owner.bare)

    def test_disowned(self):
        world = self.new_world()
        owner = world.peer('owner')
        friend = world.peer('friend')
        self.kithd.wait_online(owner)
        old_key = self.wait_registered()[THERMO].key
        since = owner.mark()
        self.claim(owner, THERMO)
        self.assert_owner_befriended(owner, THERMO, since)
        # a friend whose canRead answer is cached
        self.prov.rule('isFriend', friend.bare, True)
        self.prov.rule('canRead', friend.bare, True)
        befriend(friend, [self.kithd.jid(THERMO)])
        for seq in ('1', '2'):
            reply, _ = readout_raw(friend, self.kithd.full(THERMO), seq)
            self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(self.prov.count('canRead', jid=friend.bare), 1)

        jid = self.kithd.jid(THERMO)
        rmark, since = self.reg.rmark(), owner.mark()
        reply = owner.iq_raw(f"<iq type='set' to='{REG}'><disown "
                             f"xmlns='{D}' jid='{jid}'/></iq>", timeout=20)
        self.assertEqual(reply.get('type'), 'result', to_string(reply))
        push = self.reg.wait_push('disowned', jid)
        self.assertTrue(push.ok, push)
        self.assertEqual(len(push.reply), 0, push)
        # the owner's friendship ends
        owner.wait_presence(jid, 'unsubscribe', since)
        owner.wait_presence(jid, 'unsubscribed', since)
        owner.wait_roster(jid, (None, 'none'))
        # registered again, with a new KEY, which the URI shows
        reg = self.reg.wait_register(jid, rmark)
        self.assertRegex(reg.key or '', KEY)
        self.assertNotEqual(reg.key, old_key)
        tags, _ = parse_iotdisco(self.kithd.commissioning()[THERMO])
        self.assertEqual(tags['KEY'], ('str', reg.key))
        self.assertIsNone(self.registry_row(THERMO)[0])
        # the cached answers are gone
        mark = self.prov.qmark()
        reply, _ = readout_raw(friend, self.kithd.full(THERMO), '3')
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(self.prov.count('canRead', jid=friend.bare,
                                         since=mark), 1)
        # the former owner is nobody now
        reply, _ = readout_raw(owner, self.kithd.full(THERMO), '4')
        self.assert_forbidden(reply)

    def test_removed(self):
        world = self.new_world()
        owner = world.peer('owner')
        self.kithd.wait_online(owner)
        self.wait_registered()
        since = owner.mark()
        self.claim(owner, RELAY)
        self.assert_owner_befriended(owner, RELAY, since)
        jid = self.kithd.jid(RELAY)
        updates = len(self.reg.updates(jid))
        rmark, since = self.reg.rmark(), owner.mark()
        reply = owner.iq_raw(f"<iq type='set' to='{REG}'><remove "
                             f"xmlns='{D}' jid='{jid}'/></iq>", timeout=20)
        self.assertEqual(reply.get('type'), 'result', to_string(reply))
        push = self.reg.wait_push('removed', jid)
        self.assertTrue(push.ok, f'removed not acknowledged: {push}')
        self.assertEqual(len(push.reply), 0, push)
        # still claimed: the owner keeps friendship and rights
        self.assert_owner_rights(owner, RELAY)
        self.assertEqual(self.registry_row(RELAY)[0], owner.bare)
        self.reg.barrier(self.kithd.full(RELAY))
        self.assertEqual(self.reg.registers(jid, rmark), [])
        self.assertEqual(len(self.reg.updates(jid)), updates,
                         'metadata updates after removed')
        self.assertEqual(owner.inbox.find_all(
            lambda s: match('presence', jid)(s) and
            s.get('type') in ('unsubscribe', 'unsubscribed'), since), [])

    def test_pushes_from_others_are_forbidden(self):
        """claimed / disowned / removed from another component or a client
        (even the owner): forbidden, and nothing changes."""
        world = self.new_world()
        owner = world.peer('owner')
        mallory = world.peer('mallory')
        self.kithd.wait_online(owner)
        keys = {d: r.key for d, r in self.wait_registered().items()}
        since = owner.mark()
        self.claim(owner, RELAY)
        self.assert_owner_befriended(owner, RELAY, since)

        rmark = self.reg.rmark()
        osince, msince, esince = owner.mark(), mallory.mark(), \
            self.evil.mark()
        pushes = [('claimed', f" jid='{mallory.bare}'"),
                  ('claimed', f" jid='{self.evil.jid}'"),
                  ('disowned', ''), ('removed', '')]
        for device in (THERMO, RELAY):
            full = self.kithd.full(device)
            for name, attrs in pushes:
                payload = f"<{name} xmlns='{D}'{attrs}/>"
                self.assert_forbidden(self.evil.iq(full, 'set', payload))
                for client in (mallory, owner):
                    self.assert_forbidden(client.iq_raw(
                        f"<iq type='set' to='{full}'>{payload}</iq>"))

        for device in (THERMO, RELAY):
            self.reg.barrier(self.kithd.full(device))
            mallory.barrier(self.kithd.full(device))
            owner.barrier(self.kithd.full(device))
        self.assertEqual(self.reg.registers(since=rmark), [],
                         'a device registered again')
        # nobody new was befriended, the owner kept the relay
        self.assertEqual([to_string(p) for p in mallory.inbox.items(msince)
                          if p.tag.endswith('presence')], [])
        self.assertEqual([to_string(p) for p in self.evil.inbox.items(esince)
                          if p.tag.endswith('presence') and
                          p.get('type') in ('subscribe', 'subscribed')], [])
        self.assertEqual(owner.inbox.find_all(
            lambda s: s.tag.endswith('presence') and
            s.get('type') in ('unsubscribe', 'unsubscribed'), osince), [])
        self.assertEqual(self.registry_row(RELAY)[0], owner.bare)
        self.assertIsNone(self.registry_row(THERMO)[0])
        self.assert_owner_rights(owner, RELAY)
        uris = self.kithd.commissioning()
        for device in (THERMO, THERMO2):
            self.assertEqual(parse_iotdisco(uris[device])[0]['KEY'][1],
                             keys[device], f'{device}: KEY changed')

    def test_registration_is_retried_until_the_registry_answers(self):
        """The registry is down when the devices come online: they try
        again with backoff (and say when), and register once it is back."""
        self.new_world()
        self.wait_registered()
        self.reg.stop()
        self.kithd.stop()
        rmark = self.reg.rmark()
        self.kithd.start()
        self.kithd.wait_log(r'did not accept the registration \(.*\); '
                            r'trying again in \d', timeout=30)
        self.reg.start()
        for device in self.kithd.devices:
            self.reg.wait_register(self.kithd.jid(device), rmark, timeout=30)

    def test_claim_without_a_valid_owner_is_refused(self):
        """A claimed push from the registry with an empty, missing or
        invalid jid: bad-request, and nothing is stored."""
        self.new_world()
        self.wait_registered()
        full = self.kithd.full(RELAY)
        for attrs in ("", " jid=''", " jid='not a jid'", " jid='@x'",
                      " jid='localhost'"):
            reply = self.reg.iq(full, 'set', f"<claimed xmlns='{D}'{attrs}/>")
            self.assertEqual(reply.get('type'), 'error', to_string(reply))
            self.assertEqual(error_of(reply)[:2], ('modify', 'bad-request'),
                             to_string(reply))
        owner, state, _ = self.registry_row(RELAY)
        self.assertIsNone(owner)
        self.assertEqual(state, 'registered')


class RegistryDiscoveryTest(RegistryMixin, KithTestCase):
    def test_registry_found_by_discovery(self):
        """Registry=discover: the first item of the server's disco#items
        whose disco#info lists urn:xmpp:iot:discovery (here after one
        without it and the parent)."""
        self.world = World(**registry_world(
            components={'evil': Component, 'prov': ProvisioningServer,
                        'reg': ThingRegistry},
            extra_groups={'friendship': {'Registry': 'discover',
                                         'Provisioning': 'prov.localhost',
                                         'ProvisioningTimeout': '2'}}))
        self.addCleanup(self.world.close)
        self.kithd = self.world.kithd
        self.reg = self.world.components['reg']
        for device, reg in self.wait_registered().items():
            self.assertEqual(reg.el.get('to'), REG, reg.xml)
            self.assertEqual(reg.tags.get('SN'), ('str', device))


class OwnerIsParentTest(RegistryMixin, KithTestCase):
    """Policy=parent, Provisioning= empty and no provisioning server on the
    server (only a registry and an unrelated component): once claimed,
    the owner is the parent; questions go to the owner's full JID."""

    def test_owner_answers_the_questions(self):
        world = self.new_world(provisioning=False)
        owner = world.peer('owner')
        questions = []

        def answer(el):
            questions.append(el)
            payload = el.find(f'{{{P}}}*')
            name = payload.tag.split('}')[1]
            return (f"<{name}Response xmlns='{P}' jid='{payload.get('jid')}'"
                    f" result='true'/>")
        for name in ('isFriend', 'canRead', 'canControl'):
            owner.handle_iq(P, name, answer)
        self.kithd.wait_online(owner)
        self.wait_registered()
        since = owner.mark()
        self.claim(owner, THERMO)
        self.assert_owner_befriended(owner, THERMO, since)

        bob = world.peer('bob')
        jid = self.kithd.jid(THERMO)
        befriend(bob, [jid], timeout=20)
        asked = [q for q in questions if q.find(f'{{{P}}}isFriend') is not
                 None]
        self.assertEqual(len(asked), 1, [to_string(q) for q in questions])
        self.assertEqual(asked[0].get('from'), self.kithd.full(THERMO))
        self.assertEqual(asked[0].get('to'), owner.jid)
        self.assertEqual(asked[0].get('type'), 'get')
        self.assertEqual(asked[0].find(f'{{{P}}}isFriend').get('jid'),
                         bob.bare)
        reply, msgs = readout_raw(bob, self.kithd.full(THERMO), '9')
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertTrue(msgs)
        # one for the readout, one for what bob may see in the presence
        # status (asked when the friendship started)
        can_read = [Question(q) for q in questions
                    if q.find(f'{{{P}}}canRead') is not None]
        self.assertEqual(sorted(q.status_line for q in can_read),
                         [False, True], [q.xml for q in can_read])


if __name__ == '__main__':
    main()
