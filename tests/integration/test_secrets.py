#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets never reach kithd's log, at any level: kithd runs with
G_MESSAGES_DEBUG=all (every debug line, libstrophe's traffic included)
through in-band registration, login, a claim and a disown (two claim KEYs),
an MQTT bus with a password against mosquitto, and a component login; then
its whole log is searched for each secret, also base64-encoded (SASL PLAIN
carries the password so).  Prosody's own debug log is the server's and not
searched: it shows what clients send it, passwords included."""

import base64
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'drivers', 'mqtt', 'tests'))
from harness import (KithTestCase, Kithd, World, main, secrets_of,  # noqa
                     to_string, wait_for)
from mqtt_harness import Broker  # noqa: E402
from registry import D, ThingRegistry, mine_xml, parse_iotdisco  # noqa

RELAY = 'sim-relay-1'
REG = 'reg.localhost'
MQTT_PASSWORD = 'mqtt-s3cret-Pa55'
DEBUG = {'G_MESSAGES_DEBUG': 'all'}


def variants(secret, user=None):
    """The secret as it could show up in a log: plain, base64, and as a
    SASL PLAIN message when it is an account's password."""
    out = {secret, base64.b64encode(secret.encode()).decode()}
    if user is not None:
        out.add(base64.b64encode(f'\0{user}\0{secret}'.encode()).decode())
    return out


class SecretsTest(KithTestCase):
    def assert_not_logged(self, kithd, secrets):
        text = kithd.log_text(whole=True)
        self.assertIn('-DEBUG', text, 'kithd did not log at debug level')
        leaked = sorted(s for s in secrets if s and s in text)
        self.assertEqual(leaked, [], 'secrets in kithd\'s log')

    def test_client_mode(self):
        """Registration, login, two claim KEYs, an MQTT password."""
        tmp = tempfile.mkdtemp(prefix='kith-secrets-')
        self.addCleanup(shutil.rmtree, tmp, True)
        broker = Broker(tmp, users={'kith': MQTT_PASSWORD})
        broker.start()
        self.addCleanup(broker.stop)
        password_file = os.path.join(tmp, 'mqtt-password')
        with open(password_file, 'w') as f:
            f.write(MQTT_PASSWORD + '\n')
        os.chmod(password_file, 0o600)
        world = self.world = World(
            mode='client', policy='manual', start_kithd=False,
            components={'reg': ThingRegistry})
        self.addCleanup(world.close)
        kithd = world.kithd = Kithd(
            world.prosody, world.tmp, policy='manual', start=False,
            thermometers=1, relays=1,
            extra_groups={'friendship': {'Registry': REG},
                          'bus:home': {'Driver': 'mqtt',
                                       'Broker': '127.0.0.1',
                                       'Port': str(broker.port),
                                       'Username': 'kith',
                                       'PasswordFile': password_file}})
        kithd.extra_env = DEBUG
        kithd.start()
        kithd.wait_log(r'connected to 127\.0\.0\.1:\d+ as ', timeout=20)
        owner = world.peer('owner')
        kithd.wait_online(owner)
        reg = world.components['reg']
        jid = kithd.jid(RELAY)
        first = reg.wait_register(jid)
        # the owner claims the relay with the KEY of its sticker
        tags, _ = parse_iotdisco(kithd.commissioning()[RELAY])
        since = owner.mark()
        reply = owner.iq_raw(f"<iq type='set' to='{REG}'>{mine_xml(tags)}"
                             "</iq>", timeout=20)
        self.assertEqual(reply.get('type'), 'result', to_string(reply))
        owner.wait_presence(jid, 'subscribe', since)
        # and gives it away: a new KEY is registered
        rmark = reg.rmark()
        reply = owner.iq_raw(f"<iq type='set' to='{REG}'><disown xmlns='{D}' "
                             f"jid='{jid}'/></iq>", timeout=20)
        self.assertEqual(reply.get('type'), 'result', to_string(reply))
        second = reg.wait_register(jid, since=rmark)
        self.assertNotEqual(first.key, second.key)
        secrets = {MQTT_PASSWORD, first.key, second.key}
        for device, password in kithd.query_db(
                'SELECT device_id, password FROM accounts'):
            secrets |= variants(password, device)
        self.assertEqual(len(kithd.query_db('SELECT * FROM accounts')), 2)
        secrets |= secrets_of(world)
        self.assertEqual(kithd.stop(), 0)
        self.assert_not_logged(kithd, secrets)

    def test_component_mode(self):
        world = self.world = World(mode='component', start_kithd=False)
        self.addCleanup(world.close)
        kithd = world.kithd = Kithd(world.prosody, world.tmp, start=False,
                                    mode='component')
        kithd.extra_env = DEBUG
        kithd.start()
        kithd.wait_online(world.peer('alice'))
        secret = world.prosody.component_secret
        self.assertIn(secret, open(kithd.config).read())
        self.assertEqual(kithd.stop(), 0)
        self.assert_not_logged(kithd, variants(secret))


if __name__ == '__main__':
    main()
