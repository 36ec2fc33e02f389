#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults: kithd killed with SIGKILL at random moments, KITH_KILL_ROUNDS
rounds (default 100).

Each round starts kithd, waits for one device to answer, starts one thing
and kills kithd after a random delay (0-250 ms) in the middle of it:
- befriending: a contact (people.localhost) asks a device for friendship;
- claiming: the thing registry pushes `claimed` (XEP-0347) with a new owner;
- reload: the configuration changes (a thermometer more or less), SIGHUP;
- history writes: historical readouts one after the other (each writes what
  waits to history.db first);
- start-up: no device awaited, killed while it opens its store and logs in.
After every kill both databases pass `PRAGMA integrity_check` and hold every
change that was acknowledged before the kill: a friendship the contact saw
accepted (`subscribed`), a claim the registry saw confirmed (its push
answered), readings a historical readout returned.  KITH_FAULT_SEED repeats
a run.
"""

import asyncio
import os
import random
import signal
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'peers'))
from harness import (NS, Component, KithTestCase, World, error_of,  # noqa: E402
                     fields_of, main, parse_utc, ptype)
from registry import ThingRegistry  # noqa: E402

ROUNDS = int(os.environ.get('KITH_KILL_ROUNDS', '100'))
SEED = int(os.environ.get('KITH_FAULT_SEED', str(int(time.time()))))
THERMO = 'sim-thermometer-1'
RELAY = 'sim-relay-1'
OWNER = 'people.localhost'  # the contacts' component is the owner: it reads history
KINDS = ('befriend', 'claim', 'reload', 'history', 'startup')


class RawContacts(Component):
    """people.localhost: subscription stanzas reach the inbox only."""

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


def integrity(path):
    conn = sqlite3.connect(path, timeout=5)
    try:
        return conn.execute('PRAGMA integrity_check').fetchall()
    finally:
        conn.close()


class KillTest(KithTestCase):
    def setUp(self):
        super().setUp()
        self.rng = random.Random(SEED)
        sys.stderr.write(f'\nKITH_FAULT_SEED={SEED}\n')
        self.world = World(
            policy='open', owner=OWNER, thermometers=2, relays=1, interval=1,
            components={'people': RawContacts, 'reg': ThingRegistry},
            extra_groups={'friendship': {'Registry': 'reg.localhost'}},
            start_kithd=True)
        self.addCleanup(self.world.close)
        self.kithd = self.world.kithd
        self.people = self.world.components['people']
        self.reg = self.world.components['reg']
        self.history_db = os.path.join(self.kithd.state_dir, 'history.db')
        # claim: device -> the owners it may have: the last one the registry
        # saw confirmed, and any claimed after it without an answer (stored,
        # then killed before the answer left)
        self.acked = {'befriend': [], 'claim': {}, 'history': set()}
        self.counts = {kind: [0, 0] for kind in KINDS}  # rounds, acknowledged

    # -- helpers ------------------------------------------------------------------

    def wait_device(self, device, timeout=60):
        """Until the device answers a ping itself (not the server)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self.reg.iq(self.kithd.full(device), 'get',
                                    f"<ping xmlns='{NS['ping']}'/>", timeout=3)
                err = error_of(reply)
                if err is None or err[1] not in ('service-unavailable',
                                                 'remote-server-timeout',
                                                 'remote-server-not-found'):
                    return
            except TimeoutError:
                pass
            if not self.kithd.running():
                raise AssertionError('kithd exited:\n' + self.kithd.log_text()[-2000:])
            if time.monotonic() > deadline:
                raise TimeoutError(f'{device} not online')
            time.sleep(0.05)

    def kill_after(self, seconds):
        time.sleep(seconds)
        self.kithd.proc.send_signal(signal.SIGKILL)
        self.kithd.proc.wait()
        self.kithd.proc = None

    def check_store(self, rnd):
        for path in (self.kithd.db, self.history_db):
            if os.path.exists(path):
                self.assertEqual(integrity(path), [('ok',)],
                                 f'round {rnd}: {path}')
        for device, jid in self.acked['befriend']:
            rows = self.kithd.query_db(
                'SELECT decision FROM friends WHERE device_id = ? AND jid = ?',
                (device, jid))
            self.assertEqual(rows, [('accepted',)],
                             f'round {rnd}: {jid} saw the friendship of '
                             f'{device} accepted')
            if self.kithd.mode == 'component':
                rows = self.kithd.query_db(
                    'SELECT state FROM roster WHERE device_id = ? AND jid = ?',
                    (device, jid))
                self.assertTrue(rows and rows[0][0] & 2, f'round {rnd}: '
                                f'{jid} is not in the roster of {device}')
        for device, owners in self.acked['claim'].items():
            rows = self.kithd.query_db(
                'SELECT owner, state FROM registry WHERE device_id = ?',
                (device,))
            self.assertTrue(rows and rows[0][1] == 'claimed' and
                            rows[0][0] in owners,
                            f'round {rnd}: {device} is {rows}; the registry '
                            f'saw the claim by {owners[0]} confirmed')
        if self.acked['history']:
            kept = {(field, t // 1000000) for field, t in self.query_history(
                'SELECT s.field, r.t FROM readings r JOIN series s ON '
                's.id = r.series WHERE s.device = ?', (THERMO,))}
            missing = self.acked['history'] - kept
            self.assertFalse(missing, f'round {rnd}: readings served by a '
                             f'historical readout are gone: '
                             f'{sorted(missing)[:5]}')

    def query_history(self, sql, args):
        conn = sqlite3.connect(f'file:{self.history_db}?mode=ro', uri=True,
                               timeout=5)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    # -- the things interrupted ----------------------------------------------------

    def befriend(self, rnd, delay):
        device = self.rng.choice(self.kithd.devices)
        contact = f'c{rnd}@people.localhost'
        since = self.people.mark()
        self.people.send_raw(f"<presence from='{contact}' "
                             f"to='{self.kithd.jid(device)}' type='subscribe'/>")
        self.kill_after(delay)
        time.sleep(0.2)  # what kithd wrote before it died reaches the contact
        seen = [el for el in self.people.inbox.items(since)
                if ptype(el) == 'subscribed' and el.get('to') == contact]
        if seen:
            self.acked['befriend'].append((device, contact))
        return bool(seen)

    def claim(self, rnd, delay):
        device = self.rng.choice(self.kithd.devices)
        owner = f'o{rnd}@localhost'
        payload = (f"<claimed xmlns='urn:xmpp:iot:discovery' jid='{owner}'/>")
        future = asyncio.run_coroutine_threadsafe(
            self.reg.request(self.kithd.full(device), 'set', payload, 5),
            self.reg.loop)
        self.kill_after(delay)
        reply = future.result(10)
        ok = reply is not None and reply.get('type') == 'result'
        if ok:
            self.acked['claim'][device] = [owner]
        elif device in self.acked['claim']:
            self.acked['claim'][device].append(owner)
        return ok

    def reload(self, rnd, delay):
        bus = self.kithd.groups['bus:sim']
        bus['Thermometers'] = '3' if bus['Thermometers'] == '2' else '2'
        self.kithd.write_config()
        before = self.kithd.log_text().count(' reloaded: ')
        self.kithd.proc.send_signal(signal.SIGHUP)
        self.kill_after(delay)
        return self.kithd.log_text().count(' reloaded: ') > before

    def history(self, rnd, delay):
        since = self.people.mark()
        deadline = time.monotonic() + delay
        sent = 0
        while time.monotonic() < deadline or sent == 0:
            self.people.send_raw(
                f"<iq type='get' id='h{rnd}-{sent}' from='{OWNER}' "
                f"to='{self.kithd.full(THERMO)}'><req xmlns='{NS['sd']}' "
                f"seqnr='{rnd * 1000 + sent}' historical='true'/></iq>")
            sent += 1
            time.sleep(0.01)
        self.kill_after(0)
        time.sleep(0.2)
        served = set()
        for msg in self.people.inbox.items(since):
            for field in fields_of([msg]):
                if field.get('historicalOther') == 'true' or \
                        field.get('historical') == 'true':
                    t = parse_utc(field['timestamp']).timestamp()
                    served.add((field['name'], round(t)))
        self.acked['history'] |= served
        return bool(served)

    # -----------------------------------------------------------------------------

    def test_sigkill_rounds(self):
        started = time.monotonic()
        self.waits = []
        for rnd in range(ROUNDS):
            kind = KINDS[rnd % len(KINDS)] if rnd < len(KINDS) else \
                self.rng.choice(KINDS)
            # mostly within the few milliseconds the thing takes, now and
            # then later
            delay = self.rng.uniform(0, 0.03 if self.rng.random() < 0.7
                                     else 0.25)
            if self.kithd.proc is None:
                self.kithd.start()
            if kind == 'startup':
                self.kill_after(self.rng.uniform(0, 0.4))
                acked = False
            else:
                t0 = time.monotonic()
                self.wait_device(THERMO)
                self.waits.append(time.monotonic() - t0)
                acked = getattr(self, kind)(rnd, delay)
            self.counts[kind][0] += 1
            self.counts[kind][1] += bool(acked)
            self.check_store(rnd)
        # and once more: it starts, and what was acknowledged is in force
        self.kithd.start()
        self.wait_device(THERMO)
        self.wait_device(RELAY)
        for device, contact in self.acked['befriend']:
            rows = self.kithd.query_db(
                'SELECT decision FROM friends WHERE device_id = ? AND jid = ?',
                (device, contact))
            self.assertEqual(rows, [('accepted',)])
        self.assertEqual(self.kithd.stop(), 0)
        self.check_store(ROUNDS)
        took = time.monotonic() - started
        sys.stderr.write(
            f'{self.kithd.mode} mode: {ROUNDS} rounds in {took:.0f} s '
            f'(start to a device answering: median '
            f'{sorted(self.waits)[len(self.waits) // 2]:.2f} s); '
            + ', '.join(f'{k} {n} ({a} acknowledged before the kill)'
                        for k, (n, a) in self.counts.items()) + '\n')


if __name__ == '__main__':
    main()
