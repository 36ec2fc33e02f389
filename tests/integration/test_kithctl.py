#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""kithctl against a running kithd: status, devices (table and JSON),
friends, approve and deny (Policy=manual), qr, watch, reload; who may read
and who may change (peer credentials, [kith] AdminGroup); errors that say
what to do; a control socket that survives bad requests."""

import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import KithTestCase, main, tail  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RELAY = 'sim-relay-1'
THERMO = 'sim-thermometer-1'
OWNER = 'owner@localhost'
NOBODY = 65534   # nobody / nogroup on Debian
DAEMON_GID = 1   # daemon: a group that is neither kithd's nor the admin one


def kithctl_binary():
    path = os.environ.get('KITHCTL') or os.path.join(REPO, 'build', 'src',
                                                     'ctl', 'kithctl')
    return os.path.abspath(path)


class KithctlTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        # AdminGroup=nogroup: its members may change things; kithd runs as
        # root here, so the group that may read is root's
        world = cls.start_world(policy='manual', owner=OWNER,
                                extra_groups={'kith': {'AdminGroup':
                                                       'nogroup'}})
        # the socket's directories must be reachable for other users
        os.chmod(world.tmp, 0o755)
        cls.kithd = world.kithd
        cls.socket = os.path.join(cls.kithd.dir, 'control')
        cls.owner = world.peer('owner')
        cls.kithd.wait_online(cls.owner)

    def kithctl(self, *args, user=None, check=True, timeout=20):
        """Runs kithctl; user: (uid, gid, [groups]) through setpriv."""
        command = [kithctl_binary(), '--socket', self.socket, *args]
        if user is not None:
            uid, gid, groups = user
            groups_arg = (['--clear-groups'] if not groups else
                          ['--groups', ','.join(str(g) for g in groups)])
            command = ['setpriv', f'--reuid={uid}', f'--regid={gid}',
                       *groups_arg, '--', *command]
        res = subprocess.run(command, capture_output=True, text=True,
                             timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError(f'kithctl {" ".join(args)} exited '
                                 f'{res.returncode}: {res.stderr}\n'
                                 f'{tail(self.kithd.log)}')
        return res

    def devices_json(self):
        return json.loads(self.kithctl('--json', 'devices').stdout)['devices']

    def wait_all_online(self, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            devices = self.devices_json()
            if all(d['online'] for d in devices):
                return devices
            if time.monotonic() > deadline:
                raise AssertionError(f'not all online: {devices}')
            time.sleep(0.2)

    def test_status(self):
        self.wait_all_online()
        out = self.kithctl('status').stdout
        self.assertIn('kithd ', out)
        self.assertIn(f'pid {self.kithd.proc.pid}', out)
        self.assertIn('3 devices: 3 online, 0 not answering', out)
        self.assertIn('friendship policy manual', out)
        self.assertIn(self.kithd.config, out)
        status = json.loads(self.kithctl('--json', 'status').stdout)
        self.assertEqual((status['devices'], status['online'],
                          status['notAnswering']), (3, 3, 0))
        self.assertEqual(status['mode'], 'client')
        self.assertEqual(status['domain'], 'localhost')

    def test_devices_table_and_json(self):
        devices = self.wait_all_online()
        self.assertEqual([d['id'] for d in devices],
                         sorted(self.kithd.devices))
        thermo = next(d for d in devices if d['id'] == THERMO)
        self.assertEqual(thermo['jid'], self.kithd.jid(THERMO))
        self.assertEqual(thermo['bus'], 'sim')
        self.assertTrue(thermo['answering'])
        self.assertEqual(thermo['owner'], OWNER)
        names = [v['name'] for v in thermo['values']]
        self.assertIn('Temperature', names)
        temperature = next(v for v in thermo['values']
                           if v['name'] == 'Temperature')
        self.assertIsInstance(temperature['value'], float)
        self.assertEqual(temperature['unit'], '°C')
        self.assertTrue(temperature['text'].endswith(' °C'))

        lines = self.kithctl('devices').stdout.splitlines()
        self.assertEqual(lines[0].split(), ['DEVICE', 'JID', 'BUS', 'STATE',
                                            'FRIENDS', 'VALUES'])
        row = next(line for line in lines if line.startswith(THERMO + ' '))
        self.assertIn(self.kithd.jid(THERMO), row)
        self.assertIn(' online ', row)
        self.assertIn('Temperature ', row)
        self.assertIn('°C', row)
        # the columns line up
        self.assertEqual(lines[0].index('JID'), row.index(self.kithd.jid(THERMO)))

    def request(self, user):
        peer = self.world.peer(user)
        since = peer.mark()
        peer.subscribe(self.kithd.jid(RELAY))
        return peer, since

    def wait_pending(self, jid, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.kithctl('--json', 'friends', RELAY).stdout)
            if jid in reply['pending']:
                return reply
            if time.monotonic() > deadline:
                raise AssertionError(f'{jid} not pending: {reply}')
            time.sleep(0.1)

    def test_friends_approve_and_deny(self):
        bob, since = self.request('bob')
        reply = self.wait_pending(bob.bare)
        self.assertEqual(reply['owner'], OWNER)
        self.assertEqual(reply['policy'], 'manual')
        out = self.kithctl('friends', RELAY).stdout
        self.assertIn('waiting for a decision:\n  bob@localhost', out)
        self.assertIn(f'kithctl approve {RELAY} JID', out)

        out = self.kithctl('approve', RELAY, bob.bare).stdout
        self.assertIn(f'{RELAY}: friend request from {bob.bare} accepted', out)
        bob.wait_presence(self.kithd.jid(RELAY), 'subscribed', since)
        bob.wait_roster(self.kithd.jid(RELAY), ('from', 'both'))
        reply = json.loads(self.kithctl('--json', 'friends', RELAY).stdout)
        self.assertNotIn(bob.bare, reply['pending'])
        self.assertIn(bob.bare, reply['friends'])
        self.assertIn('friend request from bob@localhost accepted by kithctl',
                      self.kithd.log_text())

        carol, since = self.request('carol')
        self.wait_pending(carol.bare)
        self.kithctl('deny', RELAY, carol.bare)
        carol.wait_presence(self.kithd.jid(RELAY), 'unsubscribed', since)

        # nothing waits from dave
        res = self.kithctl('approve', RELAY, 'dave@localhost', check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn('no friend request from dave@localhost is waiting',
                      res.stderr)
        res = self.kithctl('approve', RELAY, 'not a jid', check=False)
        self.assertIn('a bare JID', res.stderr)
        res = self.kithctl('friends', 'no-such-device', check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn('no device no-such-device (kithctl devices lists them)',
                      res.stderr)

    def test_qr_matches_commissioning(self):
        out = self.kithctl('qr', RELAY).stdout
        uri = out.splitlines()[0]
        self.assertTrue(uri.startswith('iotdisco:'), out)
        self.assertIn('▀', out)   # the QR code's half blocks
        self.assertEqual(self.kithd.commissioning('--device', RELAY)[RELAY],
                         uri)

    def first_line(self, *args):
        """The first line kithctl ARGS prints (Interval=1: within seconds)."""
        with subprocess.Popen([kithctl_binary(), '--socket', self.socket,
                               *args], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) as proc:
            try:
                return proc.stdout.readline()
            finally:
                proc.terminate()
                proc.wait(10)

    def test_watch(self):
        line = self.first_line('--json', 'watch', THERMO)
        event = json.loads(line)
        self.assertEqual(event['device'], THERMO)
        self.assertEqual(event['event'], 'values')
        self.assertIn('Temperature', [v['name'] for v in event['values']])

        line = self.first_line('watch')
        self.assertRegex(line, r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  sim-\S+  ')
        self.assertTrue(self.kithd.running())

    def test_reload(self):
        self.kithd.groups['bus:sim']['Relays'] = '2'
        self.kithd.write_config()
        try:
            out = self.kithctl('reload').stdout
            self.assertIn(f'reloaded {self.kithd.config}: 4 devices', out)
            self.kithd.groups['bus:sim']['Relays'] = 'many'
            self.kithd.write_config()
            res = self.kithctl('reload', check=False)
            self.assertEqual(res.returncode, 1)
            self.assertIn('[bus:sim] Relays', res.stderr)
            self.assertIn('reload asked by kithctl (uid 0', self.kithd.log_text())
        finally:
            self.kithd.groups['bus:sim']['Relays'] = '1'
            self.kithd.write_config()
            self.kithctl('reload')
        self.assertEqual(len(self.devices_json()), 3)

    def test_who_may_read_and_change(self):
        # neither root nor in kithd's group (root) nor the admin group
        res = self.kithctl('devices', user=(NOBODY, DAEMON_GID, []),
                           check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn('permission denied: kithctl needs root or membership '
                      'in group root', res.stderr)
        # in kithd's group: reads, may not change
        res = self.kithctl('devices', user=(NOBODY, DAEMON_GID, [0]))
        self.assertIn(THERMO, res.stdout)
        res = self.kithctl('reload', user=(NOBODY, DAEMON_GID, [0]),
                           check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn('permission denied: reload needs root or membership in '
                      'group nogroup', res.stderr)
        res = self.kithctl('qr', RELAY, user=(NOBODY, DAEMON_GID, [0]),
                           check=False)
        self.assertIn('permission denied: qr needs', res.stderr)
        # in AdminGroup (nogroup, as a supplementary group): may change
        res = self.kithctl('reload', user=(NOBODY, DAEMON_GID, [NOBODY]))
        self.assertIn('reloaded', res.stdout)
        self.assertIn(f'reload asked by kithctl (uid {NOBODY}',
                      self.kithd.log_text())

    def test_errors_say_what_to_do(self):
        res = subprocess.run([kithctl_binary(), '--socket',
                              os.path.join(self.world.tmp, 'nothing-here'),
                              'status'], capture_output=True, text=True)
        self.assertEqual(res.returncode, 1)
        self.assertIn('kithd is not running', res.stderr)
        self.assertIn('systemctl start kith', res.stderr)
        res = self.kithctl('frobnicate', check=False)
        self.assertEqual(res.returncode, 2)
        self.assertIn('unknown command frobnicate', res.stderr)
        res = self.kithctl('friends', check=False)
        self.assertEqual(res.returncode, 2)
        self.assertIn('usage: kithctl friends DEVICE', res.stderr)
        res = subprocess.run([kithctl_binary(), '--version'],
                             capture_output=True, text=True)
        self.assertRegex(res.stdout, r'^kithctl \d+\.\d+')

    def raw(self, data, replies=1):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(self.socket)
            sock.sendall(data)
            got = b''
            while got.count(b'\n') < replies:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                got += chunk
            return [json.loads(line) for line in got.splitlines()]

    def test_bad_requests(self):
        replies = self.raw(b'hello\n{"command": 7}\n[1]\n{"command":"nope"}\n'
                           b'{"command":"status"}\n', replies=5)
        self.assertEqual([r['ok'] for r in replies],
                         [False, False, False, False, True])
        self.assertIn('not JSON', replies[0]['error'])
        self.assertIn('needs a "command"', replies[1]['error'])
        self.assertIn('unknown command nope', replies[3]['error'])
        replies = self.raw(b'x' * 70000)
        self.assertEqual(replies[0]['error'], 'request line too long')
        self.assertEqual(self.raw(b'{"command":"status"}\n')[0]['devices'], 3)
        self.assertTrue(self.kithd.running())


if __name__ == '__main__':
    main()
