#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults of the state directory and the clock: clear errors, no crash, and
recovery once the cause is gone.

- Disk full (a 4 MB tmpfs mounted as the state directory; needs root, as CI
  runs): kithd goes on, says why nothing is written, keeps the readings in
  memory; never grants a friendship it could not store.  Once space is
  freed the readings are written (none lost) and friend requests granted.
- An unwritable state directory (a read-only tmpfs as root, mode 0500
  otherwise): kithd refuses to start and says which directory and why;
  made writable, it starts.
- Damaged databases: a damaged kith.db is named, not replaced, and kithd
  does not start; restored from a copy, everything is back.  A damaged
  history.db is set aside and a new history begun.
- The clock jumping back an hour and forward two days (libfaketime, its
  control file changed while kithd runs): readings go on being kept,
  historical readouts with from/to answer in time order, and the age limit
  of the ring (HistoryDays=1) still applies after the jumps.
"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (KithTestCase, Kithd, World, befriend, error_of,  # noqa: E402
                     fields_of, main, parse_utc, ptype, readout_raw, wait_for)
from faults import utc  # noqa: E402

THERMO = 'sim-thermometer-1'
FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'
ROOT = os.geteuid() == 0


def history(peer, kithd, seqnr, start=None, end=None, device=THERMO,
            field=None):
    """(reply, reading times) of a historical readout (of one field)."""
    attrs = "historical='true'"
    if start is not None:
        attrs += f" from='{utc(start)}'"
    if end is not None:
        attrs += f" to='{utc(end)}'"
    reply, msgs = readout_raw(peer, kithd.full(device), str(seqnr), attrs,
                              timeout=20)
    times = [parse_utc(f['timestamp']).timestamp() for f in fields_of(msgs)
             if field is None or f.get('name') == field]
    return reply, times


class DiskTest(KithTestCase):
    seq = 1000

    def next_seq(self):
        DiskTest.seq += 1
        return DiskTest.seq

    def new_world(self, start=True, env=None, **kithd_args):
        world = World(start_kithd=False, storage='internal')
        self.world = world
        self.addCleanup(world.close)
        kithd = Kithd(world.prosody, world.tmp, start=False, mode=world.mode,
                      thermometers=1, relays=1, interval=1, **kithd_args)
        world.kithd = kithd
        kithd.extra_env = dict(env or {})
        if start:
            kithd.start()
        return world, kithd

    def mount_tmpfs(self, path, options):
        subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'kith-test',
                        path], check=True)

        def unmount():
            if self.world.kithd.running():
                self.world.kithd.stop()
            subprocess.run(['umount', path], check=False)
        self.addCleanup(unmount)

    def subscribe(self, peer, device, timeout):
        """A friend request; True if granted within timeout."""
        jid = self.world.kithd.jid(device)
        since = peer.mark()
        peer.subscribe(jid)
        try:
            peer.wait_presence(jid, 'subscribed', since, timeout)
            return True
        except TimeoutError:
            return False

    # -------------------------------------------------------------------------------

    def test_disk_full(self):
        if not ROOT:
            self.skipTest('mounting a small tmpfs as the state directory '
                          'needs root (CI runs as root)')
        world, kithd = self.new_world(start=False)
        os.chmod(kithd.state_dir, 0o700)
        self.mount_tmpfs(kithd.state_dir, 'size=4m,mode=0700')
        kithd.start()
        alice = world.peer('alice')
        kithd.wait_online(alice)
        befriend(alice, [kithd.jid(THERMO)])
        reply, _ = history(alice, kithd, self.next_seq())  # history.db in use
        self.assertEqual(reply.get('type'), 'result')
        # past the sim's first interval, which is 1 to 2 s (its timer keeps to
        # a phase of the second): from now on a reading a second
        time.sleep(2)

        filler = os.path.join(kithd.state_dir, 'filler')
        subprocess.run(['dd', 'if=/dev/zero', f'of={filler}', 'bs=64k'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        full = time.time()
        self.assertLess(shutil.disk_usage(kithd.state_dir).free, 64 * 1024)
        time.sleep(4)  # readings are taken meanwhile

        # a friend request: granted only if stored
        bob = world.peer('bob')
        granted_full = self.subscribe(bob, THERMO, 3)
        # historical readouts still answer (what is on disk), and kithd runs
        reply, _ = history(alice, kithd, self.next_seq())
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        log = kithd.log_text()
        self.assertIn('database or disk is full', log)
        self.assertRegex(log, r'readings could not be written .*they wait in '
                         r'memory')
        if not granted_full:
            self.assertIn('not answered: the friendship could not be stored',
                          log)
        self.assertTrue(kithd.running())

        os.unlink(filler)
        freed = time.time()
        time.sleep(1.5)
        # the readings of the full disk are written now, none lost: a reading
        # a second, so the whole seconds from the one the disk filled in to
        # the one it was freed in hold as many (timestamps say whole seconds)
        first, last = int(full), int(freed)
        reply, times = history(alice, kithd, self.next_seq(), first, last,
                               field='Temperature')
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        sys.stderr.write(f'\nfull for {freed - full:.1f} s: {len(times)} '
                         f'readings kept of {last - first} seconds; friend '
                         f'request while full '
                         f'{"granted" if granted_full else "not answered"}\n')
        self.assertGreaterEqual(len(times), last - first,
                                f'readings missing: {[t - first for t in sorted(times)]}'
                                f' (s from the disk full at {full - first:.2f} '
                                f's to freed at {freed - first:.2f} s)')
        kithd.wait_log(r'readings are written again')
        # and friend requests are granted and stored again (the server keeps
        # a request that was not answered: bob withdraws it and asks again)
        if not granted_full:
            bob.send_raw(f"<presence to='{kithd.jid(THERMO)}' "
                         f"type='unsubscribe'/>")
            self.assertTrue(self.subscribe(bob, THERMO, 10))
        kithd.stop()
        self.assertEqual(kithd.query_db(
            'SELECT decision FROM friends WHERE device_id = ? AND jid = ?',
            (THERMO, bob.bare)), [('accepted',)])

    def test_unwritable_state_directory(self):
        world, kithd = self.new_world(start=False)
        if ROOT:
            self.mount_tmpfs(kithd.state_dir, 'size=1m,mode=0700,ro')
        else:
            os.chmod(kithd.state_dir, 0o500)
        kithd.start()
        self.assertEqual(kithd.proc.wait(20), 1)
        kithd.proc = None
        self.assertRegex(kithd.log_text(),
                         rf'cannot write in the state directory '
                         rf'{kithd.state_dir}: (Read-only file system|'
                         rf'Permission denied)')
        if ROOT:
            subprocess.run(['mount', '-o', 'remount,rw', kithd.state_dir],
                           check=True)
        else:
            os.chmod(kithd.state_dir, 0o700)
        kithd.start()
        kithd.wait_online(world.peer('alice'))

    def test_damaged_databases(self):
        world, kithd = self.new_world()
        alice = world.peer('alice')
        kithd.wait_online(alice)
        befriend(alice, kithd.bare_jids())
        self.assertEqual(kithd.stop(), 0)
        backup = kithd.db + '.backup'
        shutil.copy(kithd.db, backup)

        # kith.db damaged: a page of garbage in the middle, then no database
        size = os.path.getsize(kithd.db)
        with open(kithd.db, 'r+b') as f:
            f.seek(min(2 * 4096, size - 4096))
            f.write(b'\xa5' * 4096)
        for damage in ('page', 'garbage'):
            if damage == 'garbage':
                with open(kithd.db, 'wb') as f:
                    f.write(os.urandom(8192))
            kithd.start()
            self.assertEqual(kithd.proc.wait(20), 1, damage)
            kithd.proc = None
            self.assertRegex(kithd.log_text(), rf'{kithd.db} is damaged .*'
                             r'restore it from a backup')
            self.assertTrue(os.path.exists(kithd.db), 'kith.db was replaced')

        # restored: friendships as they were
        for suffix in ('', '-wal', '-shm'):
            if os.path.exists(kithd.db + suffix):
                os.unlink(kithd.db + suffix)
        shutil.copy(backup, kithd.db)
        # and history.db damaged at the same time
        history_db = os.path.join(kithd.state_dir, 'history.db')
        with open(history_db, 'wb') as f:
            f.write(os.urandom(8192))
        kithd.start()
        kithd.wait_online(alice)
        kithd.wait_log(r'history.db is damaged: moved to \S+history.db'
                       r'.damaged-')
        started = time.time()
        time.sleep(2.5)
        reply, times = history(alice, kithd, self.next_seq(), started - 1)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertTrue(times, 'no history after a damaged history.db')
        self.assertTrue(any(n.startswith('history.db.damaged-')
                            for n in os.listdir(kithd.state_dir)))

    def test_clock_jumps(self):
        if not os.path.exists(FAKETIME_LIB):
            raise AssertionError(f'{FAKETIME_LIB} missing: apt-get install '
                                 'libfaketime')
        world = World(start_kithd=False)
        self.world = world
        self.addCleanup(world.close)
        control = os.path.join(world.tmp, 'faketime.rc')
        with open(control, 'w') as f:
            f.write('+0\n')
        env = {'LD_PRELOAD': FAKETIME_LIB,
               'FAKETIME_TIMESTAMP_FILE': control, 'FAKETIME_NO_CACHE': '1',
               'FAKETIME_DONT_FAKE_MONOTONIC': '1',
               # an ASan build wants its runtime first
               'ASAN_OPTIONS': os.environ.get('ASAN_OPTIONS', '') +
               ':verify_asan_link_order=0'}
        kithd = Kithd(world.prosody, world.tmp, start=False, mode=world.mode,
                      thermometers=1, relays=0, interval=1,
                      extra_groups={'kith': {'HistoryDays': '1'}})
        world.kithd = kithd
        kithd.extra_env = env
        kithd.start()
        alice = world.peer('alice')
        kithd.wait_online(alice)
        befriend(alice, [kithd.jid(THERMO)])
        time.sleep(3)

        def jump(offset, seconds):
            with open(control, 'w') as f:
                f.write(f'{offset}\n')
            time.sleep(seconds)

        real = time.time()
        # back an hour: new readings are older than the ones kept, and kept
        jump('-1h', 3.5)
        reply, times = history(alice, kithd, self.next_seq(),
                               real - 3600 - 5, real - 3600 + 10)
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertGreaterEqual(len(set(int(t) for t in times)), 2,
                                f'no readings after the clock went back: '
                                f'{times}')
        # everything, in time order: the hour-old readings first
        reply, times = history(alice, kithd, self.next_seq(), real - 7200)
        self.assertEqual(times, sorted(times))
        self.assertTrue(any(t > real - 60 for t in times))
        self.assertTrue(any(t < real - 3000 for t in times))
        # a momentary readout goes on answering, stamped with the clock
        reply, msgs = readout_raw(alice, kithd.full(THERMO), str(self.next_seq()))
        stamp = parse_utc(fields_of(msgs)[0]['timestamp']).timestamp()
        self.assertAlmostEqual(stamp, time.time() - 3600, delta=5)

        # two days forward: with HistoryDays=1 everything before goes
        jump('+2d', 3.5)
        fake_now = time.time() + 2 * 86400
        reply, times = history(alice, kithd, self.next_seq())
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertTrue(times, 'no readings after the clock went forward')
        self.assertGreater(min(times), fake_now - 86400 - 5,
                           'readings older than HistoryDays were kept')
        reply, times = history(alice, kithd, self.next_seq(),
                               fake_now - 10, fake_now + 10)
        self.assertTrue(times)
        self.assertEqual(times, sorted(times))

        # and back to the real time: the readings of the future are kept
        # until they are a day old, the new ones are kept too
        jump('+0', 3.5)
        reply, times = history(alice, kithd, self.next_seq(), time.time() - 5)
        self.assertTrue(any(abs(t - time.time()) < 10 for t in times))
        self.assertTrue(kithd.running())
        self.assertEqual(kithd.stop(), 0)


if __name__ == '__main__':
    main()
