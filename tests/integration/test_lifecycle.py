#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Accounts, persistence and process life cycle: in-band registration on
first start and re-login after a restart (state dir, db mode 0600), kill -9,
Prosody restart, requests made while kithd was down, and SIGTERM
(contract.md: CLI, State dir, SIGTERM)."""

import os
import sqlite3
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (KithTestCase, Kithd, World, befriend,  # noqa: E402
                     error_of, main, readout_raw)

RESTART_TIMEOUT = 60  # kithd's reconnect backoff may wait a little


def query_db(path, sql):
    """Read-only query of kithd's SQLite db (kithd may have been killed)."""
    conn = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


class LifecycleTest(KithTestCase):
    def new_world(self, **kwargs):
        self.world = World(**kwargs)
        self.addCleanup(self.world.close)
        return self.world

    def assert_readout_works(self, peer, device, seqnr):
        reply, msgs = readout_raw(peer, self.world.kithd.full(device), seqnr)
        self.assertEqual(reply.get('type'), 'result',
                         f'{device}: {error_of(reply)}')
        self.assertTrue(msgs)

    def assert_all_available(self, peer, since, timeout=10):
        kithd = self.world.kithd
        for device in kithd.devices:
            pres = peer.wait_presence(kithd.jid(device), 'available', since,
                                      timeout)
            self.assertEqual(pres.get('from'), kithd.full(device))

    def assert_db_private(self, kithd):
        mode = stat.S_IMODE(os.stat(kithd.db).st_mode)
        self.assertEqual(mode, 0o600, f'{kithd.db} has mode {oct(mode)}')
        for name in os.listdir(kithd.state_dir):
            if name.startswith('kith.db'):
                path = os.path.join(kithd.state_dir, name)
                mode = stat.S_IMODE(os.stat(path).st_mode)
                self.assertEqual(mode & 0o077, 0, f'{path}: {oct(mode)}')

    # ------------------------------------------------------------------------------

    def test_registration_then_relogin_after_restart(self):
        # accounts exist in client mode only
        world = self.new_world(policy='open', mode='client')
        kithd = world.kithd
        alice = world.peer('alice')
        kithd.wait_online(alice)
        self.assertLessEqual(set(kithd.bare_jids()),
                             set(world.prosody.accounts_created()),
                             'device accounts were not created by IBR')
        befriend(alice, kithd.bare_jids())
        self.assertEqual(kithd.stop(), 0)

        self.assertTrue(os.path.exists(kithd.db), 'no kith.db in state dir')
        self.assert_db_private(kithd)
        self.assertEqual(query_db(kithd.db, 'PRAGMA journal_mode'),
                         [('wal',)])
        accounts = dict(query_db(kithd.db,
                                 'SELECT device_id, password FROM accounts'))
        self.assertEqual(set(accounts), set(kithd.devices))
        self.assertTrue(all(accounts.values()), 'empty password stored')
        created = len(world.prosody.accounts_created())

        since = alice.mark()
        kithd.start()
        self.assert_all_available(alice, since, RESTART_TIMEOUT)
        for i, device in enumerate(kithd.devices):
            self.assert_readout_works(alice, device, str(10 + i))
        self.assertEqual(len(world.prosody.accounts_created()), created,
                         'accounts were registered again')
        self.assertEqual(kithd.stop(), 0)
        self.assertEqual(dict(query_db(
            kithd.db, 'SELECT device_id, password FROM accounts')), accounts)
        self.assert_db_private(kithd)

    def test_kill9_keeps_friendships(self):
        world = self.new_world(policy='open')
        kithd = world.kithd
        alice = world.peer('alice')
        bob = world.peer('bob')
        kithd.wait_online(alice)
        befriend(alice, kithd.bare_jids())
        befriend(bob, [kithd.jid('sim-relay-1')])
        kithd.kill9()

        rows = {row[:2] for row in query_db(
            kithd.db, 'SELECT device_id, jid, decision, updated FROM friends')}
        for device in kithd.devices:
            self.assertIn((device, alice.bare), rows)
        self.assertIn(('sim-relay-1', bob.bare), rows)

        since = alice.mark()
        kithd.start()
        self.assert_all_available(alice, since, RESTART_TIMEOUT)
        for i, device in enumerate(kithd.devices):
            self.assert_readout_works(alice, device, str(20 + i))
        self.assert_readout_works(bob, 'sim-relay-1', '30')
        reply, _ = readout_raw(bob, kithd.full('sim-thermometer-1'), '31')
        self.assertEqual(error_of(reply)[:2], ('cancel', 'forbidden'),
                         'bob was never a friend of the thermometer')

    def test_prosody_restart_brings_every_device_back(self):
        world = self.new_world(policy='open', storage='internal')
        kithd = world.kithd
        alice = world.peer('alice')
        kithd.wait_online(alice)
        befriend(alice, kithd.bare_jids())
        world.prosody.restart()
        alice = world.peer('alice')  # the old session died with Prosody
        self.assert_all_available(alice, 0, RESTART_TIMEOUT)
        for i, device in enumerate(kithd.devices):
            self.assert_readout_works(alice, device, str(40 + i))
        self.assertTrue(kithd.running())

    def test_requests_made_while_down_are_answered_at_login(self):
        # the server keeps them for accounts; a component's stanzas bounce
        # while it is down (test_component covers that)
        world = self.new_world(policy='open', mode='client')
        kithd = world.kithd
        watcher = world.peer('watcher')
        kithd.wait_online(watcher)
        self.assertEqual(kithd.stop(), 0)
        late = world.peer('late')
        since = late.mark()
        for jid in kithd.bare_jids():
            late.subscribe(jid)
        kithd.start()
        for jid in kithd.bare_jids():
            late.wait_presence(jid, 'subscribed', since, RESTART_TIMEOUT)
            late.wait_presence(jid, 'available', since, RESTART_TIMEOUT)

    def test_state_directory_from_environment_wins(self):
        world = self.new_world(start_kithd=False)
        kithd = Kithd(world.prosody, world.tmp, start=False)
        world.kithd = kithd
        env_state = os.path.join(world.tmp, 'env-state')
        os.makedirs(env_state)
        kithd.extra_env = {'STATE_DIRECTORY': env_state}
        kithd.start()
        kithd.wait_online(world.peer('alice'))
        self.assertEqual(kithd.stop(), 0)
        env_db = os.path.join(env_state, 'kith.db')
        self.assertTrue(os.path.exists(env_db), 'no kith.db in '
                        '$STATE_DIRECTORY')
        self.assertFalse(os.path.exists(kithd.db),
                         'kith.db created in StateDirectory= despite '
                         '$STATE_DIRECTORY')
        self.assertEqual(stat.S_IMODE(os.stat(env_db).st_mode), 0o600)
        if kithd.mode == 'client':
            self.assertEqual(
                {r[0] for r in query_db(env_db,
                                        'SELECT device_id FROM accounts')},
                set(kithd.devices))

    def test_sigterm_sends_unavailable_and_exits_0(self):
        world = self.new_world(policy='open')
        kithd = world.kithd
        alice = world.peer('alice')
        kithd.wait_online(alice)
        befriend(alice, kithd.bare_jids())
        since = alice.mark()
        self.assertEqual(kithd.stop(), 0)
        for device in kithd.devices:
            alice.wait_presence(kithd.full(device), 'unavailable', since)
            if kithd.mode == 'component':
                continue  # no server speaks for a component: it was kithd
            self.assertTrue(
                world.prosody.client_sent_unavailable(kithd.full(device)),
                f'{device}: Prosody saw no unavailable presence from kithd '
                'before the stream ended (only its own on-close broadcast)')


if __name__ == '__main__':
    main()
