#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Disco#info, ping, version, unknown IQs, strangers, chat commands, stanzas
larger than one TLS record, and the command line (contract.md: Disco#info,
Chat, CLI)."""

import itertools
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (KithTestCase, Kithd, NS, World, befriend,  # noqa: E402
                     error_of, fields_of, kithd_binary, main, make_tls,
                     readout_raw, req_xml)

THERMO = 'sim-thermometer-1'
RELAY = 'sim-relay-1'
BASE_FEATURES = {'http://jabber.org/protocol/disco#info', 'urn:xmpp:ping',
                 'jabber:iq:version', 'urn:xmpp:iot:sensordata'}
CONTROL = 'urn:xmpp:iot:control'
PADDING = 'x' * 20480  # > 16 KiB: more than one TLS record
_seqnr = itertools.count(300)


class ServicesTest(KithTestCase):
    """What a friend and a stranger get from each device."""

    @classmethod
    def setUpClass(cls):
        world = cls.start_world(policy='open')
        cls.kithd = world.kithd
        cls.alice = world.peer('alice')
        cls.mallory = world.peer('mallory')  # never asks for friendship
        cls.kithd.wait_online(cls.alice)
        befriend(cls.alice, cls.kithd.bare_jids())

    def assert_error(self, reply, type_, condition):
        self.assertEqual(reply.get('type'), 'error',
                         f'expected an error, got {reply.get("type")}')
        self.assertEqual(error_of(reply)[:2], (type_, condition))

    def relay_value(self):
        reply, msgs = readout_raw(self.alice, self.kithd.full(RELAY),
                                  str(next(_seqnr)))
        self.assertEqual(reply.get('type'), 'result')
        return [f['value'] for f in fields_of(msgs) if f['name'] == 'Relay'][0]

    # -- disco, ping, version ------------------------------------------------------

    def disco(self, device):
        reply = self.alice.disco_info(self.kithd.full(device))
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(reply.get('from'), self.kithd.full(device))
        query = reply.find('disco:query', NS)
        identities = {(i.get('category'), i.get('type'))
                      for i in query.findall('disco:identity', NS)}
        self.assertIn(('client', 'bot'), identities)
        return {f.get('var') for f in query.findall('disco:feature', NS)}

    def test_disco_info_thermometer(self):
        features = self.disco(THERMO)
        self.assertLessEqual(BASE_FEATURES, features)
        self.assertNotIn(CONTROL, features)

    def test_disco_info_relay(self):
        features = self.disco(RELAY)
        self.assertLessEqual(BASE_FEATURES | {CONTROL}, features)

    def test_ping_every_device(self):
        for device in self.kithd.devices:
            reply = self.alice.ping(self.kithd.full(device))
            self.assertEqual(reply.get('type'), 'result', error_of(reply))
            self.assertEqual(reply.get('from'), self.kithd.full(device))
            self.assertEqual(len(reply), 0, 'ping result must be empty')

    def test_version(self):
        reply = self.alice.version(self.kithd.full(THERMO))
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(reply.findtext('ver:query/ver:name', None, NS),
                         'kithd')
        self.assertEqual(reply.findtext('ver:query/ver:version', None, NS),
                         '0.1.0')

    def test_unknown_iq_is_service_unavailable(self):
        for type_ in ('get', 'set'):
            reply = self.alice.iq_raw(
                f"<iq type='{type_}' to='{self.kithd.full(THERMO)}'>"
                "<query xmlns='urn:example:no-such-protocol'/></iq>")
            self.assert_error(reply, 'cancel', 'service-unavailable')

    # -- strangers --------------------------------------------------------------------

    def test_stranger_readout_forbidden(self):
        reply, msgs = readout_raw(self.mallory, self.kithd.full(THERMO), '1')
        self.assert_error(reply, 'cancel', 'forbidden')
        self.assertEqual(msgs, [])

    def test_stranger_control_forbidden(self):
        before = self.relay_value()
        flipped = 'false' if before == 'true' else 'true'
        reply = self.mallory.iq_raw(
            f"<iq type='set' to='{self.kithd.full(RELAY)}'><set xmlns="
            f"'{NS['ctl']}'><boolean name='Relay' value='{flipped}'/></set>"
            "</iq>")
        self.assert_error(reply, 'cancel', 'forbidden')
        self.mallory.send_raw(
            f"<message to='{self.kithd.full(RELAY)}'><set xmlns="
            f"'{NS['ctl']}'><boolean name='Relay' value='{flipped}'/></set>"
            "</message>")
        self.mallory.barrier(self.kithd.full(RELAY))
        self.assertEqual(self.relay_value(), before,
                         'a stranger changed the relay')

    def test_stranger_disco_ping_version_forbidden(self):
        to = self.kithd.full(THERMO)
        for reply in (self.mallory.disco_info(to), self.mallory.ping(to),
                      self.mallory.version(to)):
            self.assert_error(reply, 'cancel', 'forbidden')

    def test_stranger_unknown_iq_forbidden(self):
        """Authorization comes first, even for payloads kithd lacks."""
        reply = self.mallory.iq_raw(
            f"<iq type='get' to='{self.kithd.full(THERMO)}'>"
            "<query xmlns='urn:example:no-such-protocol'/></iq>")
        self.assert_error(reply, 'cancel', 'forbidden')

    def test_stranger_cannot_fake_the_roster(self):
        """A roster answer from a stranger does not make them a friend."""
        to = self.kithd.full(RELAY)
        for iq_id in ('kith-roster-get', 'roster', '1'):
            self.mallory.send_raw(
                f"<iq type='result' id='{iq_id}' to='{to}'>"
                "<query xmlns='jabber:iq:roster'>"
                "<item jid='mallory@localhost' subscription='both'/></query></iq>")
            self.mallory.send_raw(
                f"<iq type='set' id='push-{iq_id}' to='{to}'>"
                "<query xmlns='jabber:iq:roster'>"
                "<item jid='mallory@localhost' subscription='both'/></query></iq>")
        self.mallory.barrier(to)
        reply, msgs = readout_raw(self.mallory, to, '77')
        self.assert_error(reply, 'cancel', 'forbidden')
        self.assertEqual(msgs, [])

    def test_stranger_chat_gets_forbidden_error(self):
        since = self.mallory.mark()
        self.mallory.chat(self.kithd.full(THERMO), 'help')
        reply = self.mallory.wait_message(frm=self.kithd.jid(THERMO),
                                          since=since)
        self.assertEqual(reply.get('type'), 'error')
        self.assertEqual(error_of(reply)[1], 'forbidden')

    # -- chat commands ------------------------------------------------------------------

    def command(self, device, text):
        """Send a chat to the device's bare JID; return the reply body."""
        since = self.alice.mark()
        self.alice.chat(self.kithd.jid(device), text)
        reply = self.alice.wait_message(frm=self.kithd.jid(device),
                                        since=since, what=f'reply to {text!r}')
        self.assertEqual(reply.get('type'), 'chat', f'reply to {text!r}')
        body = reply.findtext('c:body', None, NS)
        self.assertIsNotNone(body, 'reply without <body>')
        return body

    def test_chat_help(self):
        """Lists the commands; `set` only where something is writable."""
        body = self.command(THERMO, 'help')
        for word in ('help', 'get'):
            self.assertIn(word, body)
        body = self.command(RELAY, 'help')
        for word in ('help', 'get', 'set'):
            self.assertIn(word, body)

    def test_chat_get_and_aliases(self):
        for text in ('get', 'read', 'status'):
            body = self.command(THERMO, text)
            self.assertRegex(body, re.compile(
                r'^Temperature: -?\d+(\.\d+)? °C$', re.M))
            self.assertRegex(body, re.compile(r'^Humidity: \d+(\.\d+)? %$',
                                              re.M))

    def test_chat_set_relay(self):
        self.assertEqual(self.command(RELAY, 'set relay on'), 'Relay set to on')
        self.assertEqual(self.relay_value(), 'true')
        self.assertRegex(self.command(RELAY, 'get'),
                         re.compile(r'^Relay: (on|true)$', re.M))
        self.assertEqual(self.command(RELAY, 'set Relay off'),
                         'Relay set to off')
        self.assertEqual(self.relay_value(), 'false')
        self.assertRegex(self.command(RELAY, 'get'),
                         re.compile(r'^Relay: (off|false)$', re.M))

    def test_chat_unknown_command(self):
        self.assertTrue(self.command(THERMO, 'dance').startswith(
            'Unknown command'))

    # -- stanzas larger than a TLS record (16 KiB) ---------------------------------------

    def test_large_chat_message(self):
        since = self.alice.mark()
        self.alice.send_raw(
            f"<message type='chat' to='{self.kithd.jid(THERMO)}'>"
            "<body>help</body><padding xmlns='urn:example:kith-test:padding'>"
            f"{PADDING}</padding></message>")
        reply = self.alice.wait_message(frm=self.kithd.jid(THERMO),
                                        since=since, what='reply to big chat')
        self.assertEqual(reply.get('type'), 'chat')
        self.assertIn('get', reply.findtext('c:body', '', NS))

    def test_large_readout_request(self):
        children = ("<padding xmlns='urn:example:kith-test:padding'>"
                    f"{PADDING}</padding>")
        reply, msgs = readout_raw(self.alice, self.kithd.full(THERMO), '77',
                                  children=children)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual({f['name'] for f in fields_of(msgs)},
                         {'Temperature', 'Humidity'})

    def test_several_large_stanzas_back_to_back(self):
        """Three 20 KiB requests in one write are all answered."""
        to = self.kithd.full(THERMO)
        padding = ("<padding xmlns='urn:example:kith-test:padding'>"
                   f"{PADDING}</padding>")
        since = self.alice.mark()
        self.alice.send_raw(''.join(
            req_xml(to, str(80 + i), children=padding)
            .replace('<iq ', f"<iq id='big{i}' ", 1) for i in range(3)))
        for i in range(3):
            reply = self.alice.wait(lambda s, i=i: s.get('id') == f'big{i}',
                                    since=since, what=f'reply big{i}')
            self.assertEqual(reply.get('type'), 'result', error_of(reply))

    def test_large_replies_leave_at_once(self):
        """Replies of 100 KB, 1 MB and 4 MB (the chat answer quotes the
        refused value) arrive without waiting for the device's next
        incoming stanza: over TLS, more than one write is needed."""
        to = self.kithd.jid(RELAY)
        for size in (100_000, 1_000_000, 4_000_000):
            since = self.alice.mark()
            started = time.monotonic()
            self.alice.send_raw(f"<message type='chat' to='{to}'><body>"
                                f"set relay {'A' * size}</body></message>")
            reply = self.alice.wait_message(frm=to, since=since, timeout=20,
                                            what=f'reply of {size} bytes')
            body = reply.findtext('c:body', '', NS)
            self.assertIn('is not a boolean', body)
            self.assertIn('A' * size, body)
            self.assertLess(time.monotonic() - started, 10,
                            f'the {size}-byte reply waited')


class TlsTest(KithTestCase):
    """kithd must not talk to a server it cannot verify, nor in clear."""

    def new_world(self, **kwargs):
        # TLS is a client-mode matter: the component link has none
        self.world = World(start_kithd=False, mode='client', **kwargs)
        self.addCleanup(self.world.close)
        return self.world

    def wait_for_refusals(self, world, timeout=20):
        """Until every device tried and gave up (and retried): more
        unauthenticated disconnects than devices.  Stops early if a device
        gets an account or logs in, which assert_never_logged_in reports."""
        devices = world.kithd.bare_jids()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = world.prosody.log_lines()
            if any(re.search(r'\t(User account created:|Authenticated as) '
                             r'(\S+)', l) and
                   any(d in l for d in devices) for l in lines):
                return
            if sum('\tClient disconnected' in l for l in lines) > \
                    len(devices):
                return
            time.sleep(0.05)
        self.fail(f'kithd made no (refused) connection attempts in '
                  f'{timeout} s')

    def assert_never_logged_in(self, world):
        kithd = world.kithd
        self.assertTrue(kithd.running(), 'kithd gave up instead of retrying')
        created = set(world.prosody.accounts_created())
        self.assertEqual(created & set(kithd.bare_jids()), set(),
                         'kithd registered accounts without (valid) TLS')
        alice = world.peer('alice')
        for device in kithd.devices:
            err = error_of(alice.ping(kithd.full(device)))
            self.assertEqual(err and err[1], 'service-unavailable',
                             f'{device} is online without (valid) TLS')

    def test_certificate_from_another_ca_is_refused(self):
        world = self.new_world()
        other = os.path.join(world.tmp, 'other-ca')
        os.makedirs(other)
        other_ca, _, _ = make_tls(other)
        world.kithd = Kithd(world.prosody, world.tmp,
                            extra_groups={'xmpp': {'TlsCaFile': other_ca}})
        self.wait_for_refusals(world)
        self.assert_never_logged_in(world)
        # the log says which certificate and what to do, once
        line = world.kithd.wait_log(r"the server's certificate is not trusted.*").group(0)
        self.assertIn("subject '/CN=localhost'", line)
        self.assertIn("issued by '/CN=kith test CA'", line)
        self.assertIn(f'does not chain to TlsCaFile={other_ca}', line)
        self.assertNotIn('No certfail handler', world.kithd.log_text(True))

    def test_tls_required_but_not_offered(self):
        world = self.new_world(tls=False)
        world.kithd = Kithd(world.prosody, world.tmp, tls='required')
        self.wait_for_refusals(world)
        self.assert_never_logged_in(world)


class CommandLineTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        world = cls.start_world(start_kithd=False)
        cls.tmp = world.tmp
        cls.kithd = Kithd(world.prosody, world.tmp, start=False)

    def run_kithd(self, *args):
        return subprocess.run([kithd_binary(), *args], capture_output=True,
                              text=True, timeout=30)

    def test_version(self):
        res = self.run_kithd('--version')
        self.assertEqual(res.returncode, 0)
        self.assertEqual(res.stdout.strip(), 'kithd 0.1.0')

    def test_check_config_lists_buses_and_devices(self):
        res = self.run_kithd('--check-config', '--config', self.kithd.config)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('sim', res.stdout)
        self.assertIn(f'{self.kithd.mode} mode', res.stdout)
        for device in self.kithd.devices:
            self.assertIn(self.kithd.full(device), res.stdout)

    def check_bad(self, group, key, value):
        path = os.path.join(self.tmp, f'bad-{key}.conf')
        groups = {g: dict(k) for g, k in self.kithd.groups.items()}
        groups[group][key] = value
        with open(path, 'w') as f:
            for name, keys in groups.items():
                f.write(f'[{name}]\n' + ''.join(
                    f'{k}={v}\n' for k, v in keys.items()) + '\n')
        res = self.run_kithd('--check-config', '--config', path)
        self.assertEqual(res.returncode, 1)
        self.assertRegex(res.stdout + res.stderr, re.compile(
            re.escape(f'{path}: [{group}] {key}: ') + r'\S'))

    def test_bad_policy_names_file_group_and_key(self):
        self.check_bad('friendship', 'Policy', 'sometimes')

    def test_bad_port_names_file_group_and_key(self):
        self.check_bad('xmpp', 'Port', 'fifty')

    def test_bad_thermometer_count_names_file_group_and_key(self):
        self.check_bad('bus:sim', 'Thermometers', 'many')


if __name__ == '__main__':
    main()
