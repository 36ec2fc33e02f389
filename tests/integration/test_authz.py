#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who may do what: the authorization matrix.

Every kind of request a device answers (presence subscription, readout,
historical readout, control by IQ and by message, the parent's
provisioning stanzas, the registry's pushes, chat commands including the
owner's `pending` and `accept`, disco#info, version, ping) is sent from
every kind of requester, and the answer each one gets is compared with the
table MATRIX below, in which a reader sees the whole policy at once.

The devices run Policy=parent with Owner=owner@localhost, the parent
prov.localhost (a XEP-0324 provisioning server) and the thing registry
reg.localhost.  The requesters:

  owner        owner@localhost, the configured Owner (no friendship needed)
  friend       a friend the parent lets read and control everything
  limited      a friend the parent lets read and control nothing
  refused      whose friend request the parent refused
  stranger     never asked for anything
  parent       prov.localhost itself
  forged       a client that writes from='owner@localhost/forged' on its
               stanzas: the server stamps its own address instead
  like-parent  an account named like the parent: prov.localhost@localhost
  owner@evil   owner@evil.localhost/kith: the owner's name, another domain
               (sent by the component evil.localhost)
  evil/owner   evil.localhost/owner@localhost: the owner's JID as resource
  prov@evil    prov.localhost@evil.localhost/x: the parent's name as user
  evil/prov    evil.localhost/prov.localhost: the parent's JID as resource

A component that writes someone else's domain in `from` (the owner's, the
parent's, a device's) has its stream closed by the server before anything
reaches kithd: ForgedComponentTest.  The registry's own pushes and the
parent's answers are in test_registry.py and test_provisioning.py."""

import itertools
import os
import re
import sys
import time

from lxml import etree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS, Component, KithTestCase, World, befriend,  # noqa
                     error_of, fields_of, kind, main, readout_part,
                     readout_raw,
                     to_string, wait_for)
from provisioning import SILENT, ProvisioningServer  # noqa: E402
from registry import ThingRegistry  # noqa: E402

THERMO = 'sim-thermometer-1'
RELAY = 'sim-relay-1'
OWNER = 'owner@localhost'
PROV = 'prov.localhost'
REG = 'reg.localhost'
P = NS['prov']
D = NS['iotdisco']
_seqnr = itertools.count(1000)

# the rows in the order they run: the owner's `accept` comes after everybody
# else tried it, the parent's unfriend and subscribe come last
ROWS = ('friend', 'limited', 'refused', 'stranger', 'forged', 'like-parent',
        'owner@evil', 'evil/owner', 'prov@evil', 'evil/prov', 'owner',
        'parent')

# what each requester gets; '*' is every row not named
MATRIX = {
    # kind              expected answers
    'ping':            {'owner': 'result', 'friend': 'result',
                        'limited': 'result', '*': 'forbidden'},
    'disco#info':      {'owner': 'result', 'friend': 'result',
                        'limited': 'result', '*': 'forbidden'},
    'version':         {'owner': 'result', 'friend': 'result',
                        'limited': 'result', '*': 'forbidden'},
    'readout':         {'owner': 'data', 'friend': 'data',
                        '*': 'forbidden'},
    'historical':      {'owner': 'data', 'friend': 'data',
                        '*': 'forbidden'},
    # someone else's readout cannot be cancelled: a friend's cancel finds no
    # readout of its own with that seqnr
    'cancel':          {'owner': 'item-not-found', 'friend': 'item-not-found',
                        'limited': 'item-not-found', '*': 'forbidden'},
    'control iq':      {'owner': 'result', 'friend': 'result',
                        '*': 'forbidden'},
    # XEP-0325: a message-carried set is never answered, whoever sends it
    'control message': {'owner': 'applied', 'friend': 'applied',
                        '*': 'ignored'},
    'clearCache iq':   {'parent': 'result, cleared', '*': 'forbidden'},
    'clearCache msg':  {'parent': 'cleared', '*': 'ignored'},
    'friend msg':      {'parent': 'befriended', '*': 'ignored'},
    'unfriend msg':    {'parent': 'unfriended', '*': 'ignored'},
    'claimed':         {'*': 'forbidden'},
    'disowned':        {'*': 'forbidden'},
    'removed':         {'*': 'forbidden'},
    'chat help':       {'owner': 'help', 'friend': 'help', 'limited': 'help',
                        '*': 'error forbidden'},
    'chat get':        {'owner': 'readings', 'friend': 'readings',
                        'limited': 'not allowed', '*': 'error forbidden'},
    'chat set':        {'owner': 'set', 'friend': 'set',
                        'limited': 'not allowed', '*': 'error forbidden'},
    'chat pending':    {'owner': 'list', 'friend': 'owner only',
                        'limited': 'owner only', '*': 'error forbidden'},
    'chat accept':     {'owner': 'accepted', 'friend': 'owner only',
                        'limited': 'owner only', '*': 'error forbidden'},
    # the presence status shows readings: only to those who see the device
    # (kithd answers probes in component mode, the server in client mode)
    'probe':           {'friend': 'presence', 'limited': 'presence',
                        '*': ('unsubscribed', 'none')},
    # the owner and the parent are always welcome, friends again; everyone
    # else is the parent's decision (no to anyone it does not know)
    'subscribe':       {'owner': 'subscribed', 'friend': 'still friend',
                        'limited': 'still friend', 'parent': 'subscribed',
                        '*': 'unsubscribed'},
}


def expected(kind_, row):
    cells = MATRIX[kind_]
    return cells.get(row, cells['*'])


class Requester:
    """Sends stanzas as one row of the matrix: through a client (whose
    address the server stamps) or a component (which writes `jid` in
    `from` itself); `forge` is written in `from` by a client."""

    def __init__(self, name, conn, jid=None, forge=None):
        self.name = name
        self.conn = conn
        self.jid = jid              # component: the address it sends from
        self.forge = forge          # client: a forged from attribute
        self.bare = jid.split('/')[0] if jid else conn.bare

    def _element(self, xml):
        el = etree.fromstring(xml)
        if self.jid is not None:
            el.set('from', self.jid)
        elif self.forge is not None:
            el.set('from', self.forge)
        if el.get('id') is None:
            el.set('id', f'authz{next(_seqnr)}')
        return el

    def send(self, xml):
        el = self._element(xml)
        self.conn.send_raw(to_string(el))
        return el.get('id')

    def mark(self):
        return self.conn.inbox.mark()

    def mine(self, stanza):
        """Addressed to this requester (a component hears its whole
        domain)."""
        if self.jid is None:
            return True
        return (stanza.get('to') or '').split('/')[0] == self.bare

    def iq(self, xml, timeout=10):
        """The reply element, or None if none came in time."""
        since = self.mark()
        iq_id = self.send(xml)
        try:
            return self.conn.inbox.wait(
                lambda s: kind(s) == 'iq' and s.get('id') == iq_id and
                s.get('type') in ('result', 'error'), timeout, since,
                what=f'reply to {iq_id}')
        except TimeoutError:
            return None

    def barrier(self, to):
        """A round trip through `to`: what it sent before has arrived."""
        reply = self.iq(f"<iq type='get' to='{to}'><ping xmlns="
                        f"'{NS['ping']}'/></iq>")
        if reply is None:
            raise AssertionError(f'{self.name}: no answer to a ping of {to}')

    def received(self, since, pred):
        return [s for s in self.conn.inbox.items(since)
                if self.mine(s) and pred(s)]

    def wait(self, since, pred, timeout):
        try:
            self.conn.inbox.wait(lambda s: self.mine(s) and pred(s),
                                 timeout, since)
            return True
        except TimeoutError:
            return False


def outcome(reply):
    """'result', the error condition, or 'none' for an IQ reply."""
    if reply is None:
        return 'none'
    if reply.get('type') == 'result':
        return 'result'
    return error_of(reply)[1]


def from_device(device_jid):
    return lambda s: (s.get('from') or '').split('/')[0] == device_jid


class AuthzMatrixTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        world = cls.start_world(
            policy='parent', owner=OWNER,
            components={'prov': ProvisioningServer, 'reg': ThingRegistry,
                        'evil': Component},
            extra_groups={'friendship': {'Provisioning': PROV,
                                         'Registry': REG,
                                         'ProvisioningTimeout': '2'},
                          # who, not how often: the owner's checks between
                          # cells would trip RequestRate (test_floods.py)
                          'xmpp': {'RequestRate': '0'}})
        cls.kithd = kithd = world.kithd
        prov = cls.prov = world.components['prov']
        evil = world.components['evil']
        peers = {name: world.peer(name) for name in
                 ('owner', 'friend', 'limited', 'refused', 'stranger',
                  'mallory', 'victim', 'waiting')}
        peers['like-parent'] = world.peer(PROV)
        cls.peers = peers
        for name in ('friend', 'limited', 'victim'):
            prov.rule('isFriend', peers[name].bare, True)
        prov.rule('isFriend', peers['waiting'].bare, SILENT)
        for kind_ in ('canRead', 'canControl'):
            prov.rule(kind_, peers['friend'].bare, True)
        prov.rule('canRead', peers['victim'].bare, True)
        kithd.wait_online(peers['owner'])
        cls.thermo, cls.relay = kithd.jid(THERMO), kithd.jid(RELAY)
        befriend(peers['friend'], [cls.thermo, cls.relay])
        befriend(peers['limited'], [cls.thermo, cls.relay])
        befriend(peers['victim'], [cls.thermo])
        since = peers['refused'].mark()
        peers['refused'].subscribe(cls.relay)
        peers['refused'].wait_presence(cls.relay, 'unsubscribed', since)
        # a friend request the parent leaves unanswered: pending, for the
        # owner's `accept`
        mark = prov.qmark()
        peers['waiting'].subscribe(cls.relay)
        prov.wait_question('isFriend', jid=peers['waiting'].bare,
                           since=mark)
        wait_for(lambda: kithd.query_db(
            'SELECT decision FROM friends WHERE device_id = ? AND jid = ?',
            (RELAY, peers['waiting'].bare)) == [('pending',)],
            'the request of waiting@localhost is pending')
        cls.requesters = {
            'owner': Requester('owner', peers['owner']),
            'friend': Requester('friend', peers['friend']),
            'limited': Requester('limited', peers['limited']),
            'refused': Requester('refused', peers['refused']),
            'stranger': Requester('stranger', peers['stranger']),
            'forged': Requester('forged', peers['mallory'],
                                forge=f'{OWNER}/forged'),
            'like-parent': Requester('like-parent', peers['like-parent']),
            'parent': Requester('parent', prov, jid=PROV),
            'owner@evil': Requester('owner@evil', evil,
                                    jid='owner@evil.localhost/kith'),
            'evil/owner': Requester('evil/owner', evil,
                                    jid=f'evil.localhost/{OWNER}'),
            'prov@evil': Requester('prov@evil', evil,
                                   jid=f'{PROV}@evil.localhost/x'),
            'evil/prov': Requester('evil/prov', evil,
                                   jid=f'evil.localhost/{PROV}'),
        }

    # -- helpers -------------------------------------------------------------------

    def owner_readout(self, device):
        """(reply, fields) of the owner's momentary readout."""
        owner = self.requesters['owner']
        seqnr = str(next(_seqnr))
        since = owner.mark()
        reply = owner.iq(f"<iq type='get' to='{self.kithd.full(device)}'>"
                         f"<req xmlns='{NS['sd']}' seqnr='{seqnr}' "
                         "momentary='true'/></iq>")
        self.assertEqual(outcome(reply), 'result')
        self.assertTrue(owner.wait(since, lambda s: self.done(s, seqnr), 10))
        return [f for f in fields_of(owner.received(since, from_device(
            self.kithd.jid(device))))]

    def relay_value(self):
        return [f['value'] for f in self.owner_readout(RELAY)
                if f['name'] == 'Relay'][0]

    def set_relay(self, requester, value, carrier='iq'):
        body = (f"<set xmlns='{NS['ctl']}'><boolean name='Relay' "
                f"value='{value}'/></set>")
        to = self.kithd.full(RELAY)
        if carrier == 'iq':
            return requester.iq(f"<iq type='set' to='{to}'>{body}</iq>")
        requester.send(f"<message to='{to}'>{body}</message>")
        return None

    @staticmethod
    def done(stanza, seqnr):
        if kind(stanza) != 'message':
            return False
        part = readout_part(stanza, seqnr)
        return part is not None and part.get('done') == 'true'

    def db(self, sql, *args):
        return self.kithd.query_db(sql, args)

    def friend_read_cached(self):
        """Makes sure the parent's answer to the friend's momentary
        readout of the thermometer is cached; whether it still is."""
        question = f"canRead\x1f{self.peers['friend'].bare}\x1fmomentary"
        return bool(self.db('SELECT 1 FROM provisioning_cache WHERE '
                            'device_id = ? AND question = ?', THERMO,
                            question))

    def cache_friend_read(self):
        self.assertEqual(self.readout(self.requesters['friend'],
                                      "momentary='true'"), 'data')
        self.assertTrue(self.friend_read_cached())

    # -- one cell per request kind: what the requester observed ---------------------

    def cell_iq(self, r, payload):
        return outcome(r.iq(f"<iq type='get' to='{self.kithd.full(THERMO)}'>"
                            f"{payload}</iq>"))

    def cell_ping(self, r):
        return self.cell_iq(r, f"<ping xmlns='{NS['ping']}'/>")

    def cell_disco(self, r):
        return self.cell_iq(r, f"<query xmlns='{NS['disco']}'/>")

    def cell_version(self, r):
        return self.cell_iq(r, f"<query xmlns='{NS['ver']}'/>")

    def readout(self, r, attrs):
        seqnr = str(next(_seqnr))
        since = r.mark()
        reply = r.iq(f"<iq type='get' to='{self.kithd.full(THERMO)}'>"
                     f"<req xmlns='{NS['sd']}' seqnr='{seqnr}' {attrs}/></iq>")
        if outcome(reply) != 'result':
            return outcome(reply)
        if not r.wait(since, lambda s: self.done(s, seqnr), 10):
            return 'result without done'
        return 'data'

    def cell_readout(self, r):
        return self.readout(r, "momentary='true'")

    def cell_historical(self, r):
        start = time.strftime('%Y-%m-%dT%H:%M:%SZ',
                              time.gmtime(time.time() - 3600))
        return self.readout(r, f"historical='true' from='{start}'")

    def cell_cancel(self, r):
        # the friend's readout in flight is the one that would be cancelled
        return outcome(r.iq(f"<iq type='get' to='{self.kithd.full(THERMO)}'>"
                            f"<cancel xmlns='{NS['sd']}' seqnr='1'/></iq>"))

    def cell_probe(self, r):
        since = r.mark()
        r.send(f"<presence type='probe' to='{self.thermo}'/>")
        r.barrier(self.kithd.full(THERMO))
        pred = (lambda s: kind(s) == 'presence' and
                from_device(self.thermo)(s) and
                s.get('type') in (None, 'unsubscribed'))
        r.wait(since, pred, 2)
        got = [s.get('type') or 'presence' for s in r.received(since, pred)]
        return got[0] if got else 'none'

    def cell_control_iq(self, r):
        self.assertEqual(outcome(self.set_relay(self.requesters['owner'],
                                                'false')), 'result')
        got = outcome(self.set_relay(r, 'true'))
        changed = self.relay_value() == 'true'
        if changed != (got == 'result'):
            got += ', relay changed' if changed else ', relay unchanged'
        return got

    def cell_control_message(self, r):
        self.assertEqual(outcome(self.set_relay(self.requesters['owner'],
                                                'false')), 'result')
        since = r.mark()
        self.set_relay(r, 'true', carrier='message')
        r.barrier(self.kithd.full(RELAY))
        answered = r.received(since, lambda s: kind(s) == 'message' and
                              from_device(self.relay)(s))
        got = 'applied' if self.relay_value() == 'true' else 'ignored'
        return got + (', answered' if answered else '')

    def cell_clear_cache_iq(self, r):
        # a cached answer that clearCache would remove
        self.cache_friend_read()
        got = outcome(r.iq(f"<iq type='set' to='{self.kithd.full(THERMO)}'>"
                           f"<clearCache xmlns='{P}'/></iq>"))
        return got + ('' if self.friend_read_cached() else ', cleared')

    def cell_clear_cache_message(self, r):
        self.cache_friend_read()
        since = r.mark()
        r.send(f"<message to='{self.kithd.full(THERMO)}'>"
               f"<clearCache xmlns='{P}'/></message>")
        r.barrier(self.kithd.full(THERMO))
        got = 'ignored' if self.friend_read_cached() else 'cleared'
        if r.received(since, lambda s: kind(s) == 'message'):
            got += ', answered'
        return got

    def cell_friend_message(self, r):
        target = f'target-{r.name.replace("/", "-").replace("@", "-")}' \
                 '@localhost'
        r.send(f"<message to='{self.kithd.full(THERMO)}'>"
               f"<friend xmlns='{P}' jid='{target}'/></message>")
        r.barrier(self.kithd.full(THERMO))
        rows = self.db('SELECT answer FROM provisioning_cache WHERE '
                       'device_id = ? AND question = ?', THERMO,
                       f'isFriend\x1f{target}')
        return 'befriended' if rows else 'ignored'

    def cell_unfriend_message(self, r):
        victim = self.peers['victim'].bare
        r.send(f"<message to='{self.kithd.full(THERMO)}'>"
               f"<unfriend xmlns='{P}' jid='{victim}'/></message>")
        r.barrier(self.kithd.full(THERMO))
        rows = self.db('SELECT decision FROM friends WHERE device_id = ? '
                       'AND jid = ?', THERMO, victim)
        return 'unfriended' if rows == [('removed',)] else 'ignored'

    def registry_push(self, r, name):
        before = self.db('SELECT key, owner, state FROM registry WHERE '
                         'device_id = ?', THERMO)
        got = outcome(r.iq(f"<iq type='set' to='{self.kithd.full(THERMO)}'>"
                           f"<{name} xmlns='{D}' jid='{r.bare}'/></iq>"))
        if self.db('SELECT key, owner, state FROM registry WHERE '
                   'device_id = ?', THERMO) != before:
            got += ', registration changed'
        return got

    def cell_claimed(self, r):
        return self.registry_push(r, 'claimed')

    def cell_disowned(self, r):
        return self.registry_push(r, 'disowned')

    def cell_removed(self, r):
        return self.registry_push(r, 'removed')

    CHAT_ANSWERS = (
        (r'^Only the owner can decide', 'owner only'),
        (r'^Not allowed', 'not allowed'),
        (r'^Relay set to on$', 'set'),
        (r'(?m)^(Relay|Temperature): ', 'readings'),
        (r'^(Waiting:|No friend requests are waiting)', 'list'),
        (r'^Accepted ', 'accepted'),
        (r'Commands:', 'help'),
    )

    def chat(self, r, text, device=RELAY):
        since = r.mark()
        r.send(f"<message type='chat' to='{self.kithd.jid(device)}'>"
               f"<body>{text}</body></message>")
        r.barrier(self.kithd.full(device))
        # a read or a write answers when the bus did: wait for it a moment
        r.wait(since, lambda s: kind(s) == 'message' and
               from_device(self.kithd.jid(device))(s), 5)
        answers = r.received(since, lambda s: kind(s) == 'message' and
                             from_device(self.kithd.jid(device))(s))
        if not answers:
            return 'none'
        reply = answers[0]
        if reply.get('type') == 'error':
            return f'error {error_of(reply)[1]}'
        body = reply.findtext('c:body', '', NS)
        for pattern, name in self.CHAT_ANSWERS:
            if re.search(pattern, body):
                return name
        return f'reply {body[:40]!r}'

    def cell_chat_help(self, r):
        return self.chat(r, 'help')

    def cell_chat_get(self, r):
        return self.chat(r, 'get')

    def cell_chat_set(self, r):
        self.assertEqual(outcome(self.set_relay(self.requesters['owner'],
                                                'false')), 'result')
        got = self.chat(r, 'set relay on')
        changed = self.relay_value() == 'true'
        if changed != (got == 'set'):
            got += ', relay changed' if changed else ', relay unchanged'
        return got

    def cell_chat_pending(self, r):
        return self.chat(r, 'pending')

    def cell_chat_accept(self, r):
        waiting = self.peers['waiting'].bare

        def decision():
            return self.db('SELECT decision FROM friends WHERE '
                           'device_id = ? AND jid = ?', RELAY, waiting)
        before = decision()
        got = self.chat(r, f'accept {waiting}')
        if got == 'accepted':
            # written once the parent said what the new friend may see
            try:
                wait_for(lambda: decision() == [('accepted',)], 'accepted', 5)
            except TimeoutError:
                pass
        after = decision()
        if after != before and got != 'accepted':
            got += f', request {after[0][0] if after else "gone"}'
        if after == before and got == 'accepted':
            got += ', request still pending'
        return got

    def cell_subscribe(self, r):
        since = r.mark()
        r.send(f"<presence type='subscribe' to='{self.relay}'/>")
        # a friend asking again gets nothing: the server (or kithd in
        # component mode) says `subscribed`, which the friend's own server
        # swallows, since nothing changed
        friend = self.db('SELECT decision FROM friends WHERE device_id = ? '
                         'AND jid = ?', RELAY, r.bare) == [('accepted',)]
        answered = r.wait(since, lambda s: kind(s) == 'presence' and
                          from_device(self.relay)(s) and
                          s.get('type') in ('subscribed', 'unsubscribed'),
                          5 if friend else 10)
        if not answered:
            return 'still friend' if friend else 'none'
        return [s.get('type') for s in r.received(
            since, lambda s: kind(s) == 'presence' and
            from_device(self.relay)(s) and
            s.get('type') in ('subscribed', 'unsubscribed'))][0]

    CELLS = {
        'ping': cell_ping, 'disco#info': cell_disco,
        'version': cell_version, 'readout': cell_readout,
        'historical': cell_historical, 'control iq': cell_control_iq,
        'control message': cell_control_message, 'cancel': cell_cancel,
        'probe': cell_probe,
        'clearCache iq': cell_clear_cache_iq,
        'clearCache msg': cell_clear_cache_message,
        'friend msg': cell_friend_message,
        'unfriend msg': cell_unfriend_message,
        'claimed': cell_claimed, 'disowned': cell_disowned,
        'removed': cell_removed, 'chat help': cell_chat_help,
        'chat get': cell_chat_get, 'chat set': cell_chat_set,
        'chat pending': cell_chat_pending, 'chat accept': cell_chat_accept,
        'subscribe': cell_subscribe,
    }

    def test_matrix(self):
        """Every cell; all wrong cells are reported together."""
        self.assertEqual(set(self.CELLS), set(MATRIX))
        wrong = []
        for kind_ in MATRIX:
            for row in ROWS:
                want = expected(kind_, row)
                got = self.CELLS[kind_](self, self.requesters[row])
                if got != want and not (isinstance(want, tuple) and
                                        got in want):
                    wrong.append(f'{kind_:16} {row:12} expected {want!r}, '
                                 f'got {got!r}')
        self.assertEqual(wrong, [], '\n' + '\n'.join(wrong))


class ForgedComponentTest(KithTestCase):
    """A component may only send from its own domain: the server closes the
    stream of one that writes the owner's, the parent's or a device's
    address in `from`, before kithd sees the stanza."""

    @classmethod
    def setUpClass(cls):
        world = cls.start_world(
            policy='parent', owner=OWNER,
            components={'prov': ProvisioningServer, 'forger': Component},
            extra_groups={'friendship': {'Provisioning': PROV,
                                         'ProvisioningTimeout': '2'}})
        cls.kithd = world.kithd
        cls.owner = world.peer('owner')
        cls.kithd.wait_online(cls.owner)

    def test_forged_domains_close_the_stream(self):
        forger = self.world.components['forger']
        device = self.kithd.full(RELAY)
        forged = (f'{OWNER}/forged', OWNER, PROV, f'{PROV}/x', device,
                  self.kithd.jid(THERMO))
        stanzas = (
            f"<iq type='set' id='f1' to='{device}'><set xmlns='{NS['ctl']}'>"
            "<boolean name='Relay' value='true'/></set></iq>",
            f"<message to='{device}'><clearCache xmlns='{P}'/></message>",
            f"<message type='chat' to='{self.kithd.jid(RELAY)}'>"
            "<body>set relay on</body></message>",
        )
        rows = self.kithd.query_db('SELECT COUNT(*) FROM provisioning_cache')
        for frm in forged:
            for stanza in stanzas:
                if not forger.connected:
                    forger.stop()
                    forger.start()
                el = etree.fromstring(stanza)
                el.set('from', frm)
                forger.send_raw(to_string(el))
                wait_for(lambda: not forger.connected,
                         f'the server kept the stream of a component '
                         f'sending from {frm}')
        self.world.prosody.wait_log(r'Component sent stanza with missing or '
                                    r'invalid .from. address',
                                    count=len(forged) * len(stanzas))
        values = [f['value'] for f in self.relay_fields()
                  if f['name'] == 'Relay']
        self.assertEqual(values, ['false'])
        self.assertEqual(self.kithd.query_db(
            'SELECT COUNT(*) FROM provisioning_cache'), rows)
        self.assertNotIn('set relay on', self.kithd.log_text())

    def relay_fields(self):
        reply, msgs = readout_raw(self.owner, self.kithd.full(RELAY),
                                  str(next(_seqnr)))
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        return fields_of(msgs)


if __name__ == '__main__':
    main()
