#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Component mode's own duties (Mode=component, kithd is devices.localhost):
the subscription matrix of RFC 6121 driven stanza by stanza from a raw
contact with kithd restarted between steps (protocol brief §3.2, §14.3
item 5), probes from full JIDs, IQs to bare JIDs answered from the bare JID,
devices that do not exist, the component's own domain, the outbox across a
server outage, subscriptions while kithd is down, and a wrong secret.

The contacts are JIDs of a second component, people.localhost, whose
slixmpp roster is switched off: what it receives is exactly what kithd
sent, and nothing answers kithd on its behalf."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS, Component, Kithd, KithTestCase, World,  # noqa
                     befriend, error_of, kind, main, ptype, readout_raw,
                     req_xml, to_string)

DEVICE = 'sim-thermometer-1'
RELAY = 'sim-relay-1'
RESTART_TIMEOUT = 60
# RFC 6121 states as kithd stores them (KithSubState flags)
TO, FROM, OUT, IN = 1, 2, 4, 8


class RawContacts(Component):
    """people.localhost with slixmpp's roster out of the way: subscription
    stanzas and probes reach the inbox only."""

    def _make(self):
        xmpp = super()._make()
        for event, handler in (
                ('presence_subscribe', xmpp._handle_subscribe),
                ('presence_subscribed', xmpp._handle_subscribed),
                ('presence_unsubscribe', xmpp._handle_unsubscribe),
                ('presence_unsubscribed', xmpp._handle_unsubscribed),
                ('presence_probe', xmpp._handle_probe)):
            xmpp.del_event_handler(event, handler)
        return xmpp

    def send_presence(self, frm, to, type_=None):
        type_attr = f" type='{type_}'" if type_ else ''
        self.send_raw(f"<presence from='{frm}' to='{to}'{type_attr}/>")


class ComponentCase(KithTestCase):
    def new_world(self, **kwargs):
        kwargs.setdefault('components', {'people': RawContacts})
        self.world = World(mode='component', **kwargs)
        self.addCleanup(self.world.close)
        self.kithd = self.world.kithd
        self.people = self.world.components.get('people')
        return self.world

    def wait_component_online(self, timeout=RESTART_TIMEOUT):
        self.world.kithd.wait_log(r'component \S+: online', timeout)

    def restart_kithd(self):
        self.assertEqual(self.kithd.stop(), 0)
        self.kithd.start()
        self.wait_component_online()

    def state(self, device, jid):
        rows = self.kithd.query_db(
            'SELECT state FROM roster WHERE device_id = ? AND jid = ?',
            (device, jid))
        return rows[0][0] if rows else 0

    def befriend_contact(self, contact, device):
        """contact (a people.localhost JID) and device become friends both
        ways (Policy=open); returns when kithd has the contact as Both."""
        dev, full = self.kithd.jid(device), self.kithd.full(device)
        since = self.people.mark()
        self.people.send_presence(contact, dev, 'subscribe')
        self.people.inbox.wait_until(
            lambda: ('subscribe', dev, contact) in self.presences(since, dev),
            10, 'the device asking back')
        self.people.send_presence(contact, dev, 'subscribed')
        self.people.barrier(full)
        self.assertEqual(self.state(device, contact), TO | FROM)

    def presences(self, since, frm=None):
        """(type, from, to) of every presence people.localhost received."""
        out = []
        for el in self.people.inbox.items(since):
            if kind(el) != 'presence':
                continue
            if frm is not None and el.get('from', '').split('/')[0] != frm:
                continue
            out.append((ptype(el), el.get('from'), el.get('to')))
        return out


class PendingOutTest(ComponentCase):
    def test_own_requests_are_asked_again_after_a_crash(self):
        """The device accepted a contact and asked back (From + Pending
        Out); the contact's answer never reached it (kithd was killed).
        After the restart the device asks again, and once answered both
        sides agree on Both."""
        self.new_world(policy='open')
        kithd, people = self.kithd, self.people
        dev, full = kithd.jid(DEVICE), kithd.full(DEVICE)
        x = 'x@people.localhost'
        self.wait_component_online()
        since = people.mark()
        people.send_presence(x, dev, 'subscribe')
        people.inbox.wait_until(
            lambda: ('subscribe', dev, x) in self.presences(since, dev),
            10, 'the device asking back')
        self.assertEqual(self.state(DEVICE, x), FROM | OUT)
        kithd.kill9()
        since = people.mark()
        kithd.start()
        self.wait_component_online()
        people.inbox.wait_until(
            lambda: ('subscribe', dev, x) in self.presences(since, dev),
            20, 'the device asking again after the restart')
        people.send_presence(x, dev, 'subscribed')
        people.barrier(full)
        self.assertEqual(self.state(DEVICE, x), TO | FROM)


class SubscriptionMatrixTest(ComponentCase):
    """One contact walks through the subscription states of one device;
    kithd restarts between steps and must remember where it was."""

    def test_matrix_with_restarts(self):
        world = self.new_world(policy='manual', owner='owner@localhost')
        kithd, people = self.kithd, self.people
        owner = world.peer('owner')
        dev = kithd.jid(DEVICE)
        full = kithd.full(DEVICE)
        x = 'x@people.localhost'
        x_full = f'{x}/phone'
        self.wait_component_online()

        def step(type_, frm=x):
            since = people.mark()
            people.send_presence(frm, dev, type_)
            people.barrier(full)     # kithd has handled it
            return self.presences(since, dev)

        # subscribe in None: delivered to the policy, which waits (manual)
        self.assertEqual(step('subscribe'), [])
        self.assertEqual(self.state(DEVICE, x), IN)
        self.restart_kithd()
        # None + Pending In survives; a second subscribe is not delivered
        self.assertEqual(step('subscribe'), [])
        self.assertEqual(self.state(DEVICE, x), IN)
        # unsubscribe in None + Pending In: the request is withdrawn
        self.assertEqual(step('unsubscribe'), [])
        self.assertEqual(self.state(DEVICE, x), 0)

        # subscribe again; the owner accepts: subscribed + presence, and the
        # device asks back (From + Pending Out)
        self.assertEqual(step('subscribe'), [])
        since = people.mark()
        owner.chat(full, f'accept {x}')
        people.inbox.wait_until(
            lambda: len(self.presences(since, dev)) >= 3, 10,
            'subscribed, presence and subscribe from the device')
        got = self.presences(since, dev)
        self.assertEqual(got[0], ('subscribed', dev, x))
        self.assertEqual(got[1], ('available', full, x))
        self.assertEqual(got[2], ('subscribe', dev, x))
        self.assertEqual(self.state(DEVICE, x), FROM | OUT)

        # a restart announces the device to its contact
        since = people.mark()
        self.restart_kithd()
        people.inbox.wait_until(
            lambda: ('available', full, x) in self.presences(since, dev),
            RESTART_TIMEOUT, 'available presence after the restart')
        # subscribe in From + Pending Out: answered without asking anyone
        self.assertEqual(step('subscribe'),
                         [('subscribed', dev, x), ('available', full, x)])
        # unsubscribed in From + Pending Out: the device's request refused
        self.assertEqual(step('unsubscribed'), [])
        self.assertEqual(self.state(DEVICE, x), FROM)
        # subscribed in From (nothing pending): ignored
        self.assertEqual(step('subscribed'), [])
        self.assertEqual(self.state(DEVICE, x), FROM)
        # a probe from a full JID is answered to that full JID
        self.assertEqual(step('probe', x_full), [('available', full, x_full)])
        # and one from the bare JID to the bare JID
        self.assertEqual(step('probe', x), [('available', full, x)])

        since = people.mark()
        self.restart_kithd()
        self.assertEqual(self.state(DEVICE, x), FROM)
        # the device announces itself to its contact again (paced: wait)
        people.inbox.wait_until(
            lambda: ('available', full, x) in self.presences(since, dev),
            RESTART_TIMEOUT, 'available presence after the restart')
        # unsubscribe in From: unavailable, the friendship is over
        self.assertEqual(step('unsubscribe'), [('unavailable', full, x)])
        self.assertEqual(self.state(DEVICE, x), 0)
        self.assertEqual(kithd.query_db(
            'SELECT decision FROM friends WHERE device_id = ? AND jid = ?',
            (DEVICE, x)), [('removed',)])
        # a probe from a stranger: unsubscribed
        self.assertEqual(step('probe', x_full), [('unsubscribed', dev, x)])
        # subscribed / unsubscribed / unsubscribe in None: ignored
        y = 'y@people.localhost'
        for type_ in ('subscribed', 'unsubscribed', 'unsubscribe'):
            self.assertEqual(step(type_, y), [], type_)
            self.assertEqual(self.state(DEVICE, y), 0, type_)

    def test_kill9_keeps_the_roster(self):
        self.new_world(policy='open')
        kithd, people = self.kithd, self.people
        self.wait_component_online()
        dev, full = kithd.jid(RELAY), kithd.full(RELAY)
        x = 'k@people.localhost'
        self.befriend_contact(x, RELAY)
        kithd.kill9()
        since = people.mark()
        kithd.start()
        self.wait_component_online()
        people.inbox.wait_until(
            lambda: ('available', full, x) in self.presences(since, dev),
            RESTART_TIMEOUT, 'available presence after kill -9')
        # the friend may still ask
        people.send_raw(f"<iq type='get' id='k9' from='{x}' to='{full}'>"
                        f"<ping xmlns='{NS['ping']}'/></iq>")
        reply = people.inbox.wait(lambda el: el.get('id') == 'k9', 10,
                                  what='ping reply')
        self.assertEqual(reply.get('type'), 'result', to_string(reply))


class AddressingTest(ComponentCase):
    @classmethod
    def setUpClass(cls):
        cls.world = World(mode='component', policy='open')
        cls.addClassCleanup(cls.world.close)
        cls.kithd = cls.world.kithd
        cls.alice = cls.world.peer('alice')
        cls.kithd.wait_online(cls.alice)
        befriend(cls.alice, [cls.kithd.jid(DEVICE)])

    def test_bare_jid_iq_is_answered_from_the_bare_jid(self):
        dev = self.kithd.jid(DEVICE)
        reply = self.alice.ping(dev)
        self.assertEqual(reply.get('type'), 'result', to_string(reply))
        self.assertEqual(reply.get('from'), dev)
        reply, msgs = readout_raw(self.alice, dev, '31')
        self.assertEqual(reply.get('type'), 'result', to_string(reply))
        self.assertEqual(reply.get('from'), dev)
        self.assertTrue(msgs)
        self.assertTrue(all(m.get('from') == dev for m in msgs),
                        [to_string(m) for m in msgs])

    def test_plugin_readout_to_bare_jid(self):
        """slixmpp matches IQ replies by the address it sent to."""
        result = self.alice.request_data(self.kithd.jid(DEVICE),
                                         flags={'momentary': 'true'})
        self.assertTrue(result, result)

    def test_stranger_to_bare_jid_is_forbidden(self):
        bob = self.world.peer('bob')
        reply = bob.iq_raw(req_xml(self.kithd.jid(DEVICE), '3'))
        self.assertEqual(error_of(reply)[:2], ('cancel', 'forbidden'))

    def test_unknown_device(self):
        ghost = f'ghost@{self.kithd.domain}'
        reply = self.alice.ping(ghost)
        self.assertEqual(error_of(reply)[1], 'service-unavailable',
                         to_string(reply))
        since = self.alice.mark()
        self.alice.subscribe(ghost)
        self.alice.wait_presence(ghost, 'unsubscribed', since)

    def test_other_resource_iq_is_service_unavailable(self):
        reply = self.alice.ping(f'{self.kithd.jid(DEVICE)}/elsewhere')
        self.assertEqual(error_of(reply)[1], 'service-unavailable',
                         to_string(reply))

    def test_component_domain(self):
        domain = self.kithd.domain
        self.assertEqual(self.alice.ping(domain).get('type'), 'result')
        info = self.alice.iq_raw(
            f"<iq type='get' to='{domain}'><query xmlns='{NS['disco']}'/>"
            f"</iq>")
        features = {f.get('var') for f in info.findall('.//disco:feature', NS)}
        self.assertIn(NS['ping'], features)
        items = self.alice.iq_raw(
            f"<iq type='get' to='{domain}'><query xmlns='"
            f"http://jabber.org/protocol/disco#items'/></iq>")
        jids = {i.get('jid') for i in items.iter()
                if i.tag.endswith('item')}
        # only the devices that count alice as a friend
        self.assertEqual(jids, {self.kithd.jid(DEVICE)})


class LinkTest(ComponentCase):
    def test_outbox_survives_a_server_outage(self):
        """A readout queued with `when` falls due while the server is down:
        its fields wait in kithd's outbox and arrive after the reconnect."""
        self.new_world(policy='open', storage='internal')
        kithd, people, prosody = self.kithd, self.people, self.world.prosody
        self.wait_component_online()
        full = kithd.full(DEVICE)
        x = 'o@people.localhost'
        self.befriend_contact(x, DEVICE)
        # far enough ahead that the server is surely down by then (what is
        # written to a server that is shutting down is lost: no stream
        # management on a component link)
        due = time.time() + 8
        when = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(due))
        people.send_raw(
            f"<iq type='get' id='late' from='{x}' to='{full}'><req xmlns="
            f"'{NS['sd']}' seqnr='9' momentary='true' when='{when}'/></iq>")
        people.inbox.wait(lambda el: el.get('id') == 'late', 10,
                          what='accepted')
        people.stop()
        prosody.stop()
        self.assertLess(time.time(), due - 1, 'the server took too long to stop')
        time.sleep(due + 2 - time.time())  # the readout runs meanwhile
        # the contact must be back before kithd's link (a stanza to a component
        # that is not connected is bounced by the server): kithd waits, stopped
        os.kill(kithd.proc.pid, signal.SIGSTOP)
        try:
            prosody.start()
            people.start()
        finally:
            os.kill(kithd.proc.pid, signal.SIGCONT)
        people.inbox.wait(
            lambda el: kind(el) == 'message' and
            el.find('sd:fields', NS) is not None and
            el.find('sd:fields', NS).get('seqnr') == '9',
            RESTART_TIMEOUT, what='the fields of the queued readout')

    def test_subscribe_while_kithd_is_down_bounces(self):
        world = self.new_world(policy='open', components={})
        kithd = self.kithd
        alice = world.peer('alice')
        kithd.wait_online(alice)
        self.assertEqual(kithd.stop(), 0)
        since = alice.mark()
        alice.subscribe(kithd.jid(DEVICE))
        err = alice.wait_presence(kithd.jid(DEVICE), 'error', since)
        self.assertIsNotNone(error_of(err))
        # back: the request is made again and answered
        kithd.start()
        kithd.wait_online(alice)
        befriend(alice, [kithd.jid(DEVICE)])

    def test_wrong_secret_is_named_and_retried(self):
        world = self.new_world(policy='open', components={},
                               start_kithd=False)
        kithd = world.kithd = Kithd(world.prosody, world.tmp, start=False)
        kithd.groups['xmpp']['ComponentSecret'] = 'not-the-secret'
        kithd.groups['xmpp']['Tls'] = 'required'  # a client-mode key
        kithd.write_config()
        kithd.start()
        kithd.wait_log(r'\[xmpp\] Tls does not apply in component mode')
        kithd.wait_log(r'refused ComponentSecret', 20)
        time.sleep(1.5)
        self.assertTrue(kithd.running())
        # fixed: the next attempt gets in
        self.assertEqual(kithd.stop(), 0)
        kithd.groups['xmpp']['ComponentSecret'] = \
            world.prosody.component_secret
        kithd.write_config()
        kithd.start()
        self.wait_component_online()


if __name__ == '__main__':
    main()
