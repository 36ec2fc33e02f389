#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The service manager's notify protocol without systemd: a test socket as
NOTIFY_SOCKET (abstract and path), WATCHDOG_USEC. kithd says READY=1 once
its devices have started, STATUS= with the devices online and not answering,
feeds the watchdog from its main loop, RELOADING=1/READY=1 around a reload,
STOPPING=1 when stopped; without NOTIFY_SOCKET it sends nothing."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Kithd, KithTestCase, World, main  # noqa: E402


class NotifySocket:
    """A datagram socket a service manager would listen on."""

    def __init__(self, address):
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind('\0' + address[1:] if address.startswith('@')
                       else address)
        self.messages = []   # (monotonic time, {key: value})

    def close(self):
        self.sock.close()

    def poll(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        fields = dict(line.split('=', 1) for line in
                      data.decode().split('\n') if '=' in line)
        self.messages.append((time.monotonic(), fields))
        return fields

    def wait(self, predicate, what, timeout=20, since=0):
        """The first message from index `since` on that matches."""
        deadline = time.monotonic() + timeout
        for _, fields in self.messages[since:]:
            if predicate(fields):
                return fields
        while time.monotonic() < deadline:
            fields = self.poll(max(0.01, deadline - time.monotonic()))
            if fields is not None and predicate(fields):
                return fields
        raise AssertionError(f'no {what} within {timeout} s; got '
                             f'{[m for _, m in self.messages][-10:]}')

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.poll(max(0.01, end - time.monotonic()))


class NotifyTest(KithTestCase):
    def start(self, address, env=None, **kwargs):
        self.world = World(start_kithd=False)
        self.addCleanup(self.world.close)
        sock_path = address.replace('DIR', self.world.tmp)
        self.notify = NotifySocket(sock_path)
        self.addCleanup(self.notify.close)
        kithd = Kithd(self.world.prosody, self.world.tmp, start=False,
                      mode=self.world.mode, **kwargs)
        self.world.kithd = kithd
        kithd.extra_env = {'NOTIFY_SOCKET': sock_path,
                           'WATCHDOG_USEC': '200000', **(env or {})}
        kithd.start()
        return kithd

    def test_ready_status_watchdog_reload_stop(self):
        kithd = self.start(f'@kith-test-notify-{os.getpid()}',
                           fail_reads=('sim-thermometer-2',))
        ready = self.notify.wait(lambda m: m.get('READY') == '1', 'READY=1')
        self.assertRegex(ready['STATUS'], r'^3 devices: \d online, '
                                          r'\d not answering$')
        # devices come online after READY: the status follows within seconds
        self.notify.wait(lambda m: m.get('STATUS') ==
                         '3 devices: 3 online, 1 not answering',
                         'the status with every device online')
        # the watchdog: every 100 ms for WATCHDOG_USEC=200000
        start = len(self.notify.messages)
        self.notify.drain(1.0)
        pings = [t for t, m in self.notify.messages[start:]
                 if m.get('WATCHDOG') == '1']
        self.assertGreaterEqual(len(pings), 6, self.notify.messages[start:])
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), 0.2, gaps)

        start = len(self.notify.messages)
        kithd.proc.send_signal(signal.SIGHUP)
        reloading = self.notify.wait(
            lambda m: m.get('RELOADING') == '1', 'RELOADING=1', since=start)
        self.assertIn('MONOTONIC_USEC', reloading)
        self.notify.wait(lambda m: m.get('READY') == '1', 'READY=1 after '
                         'the reload', since=start)

        kithd.proc.send_signal(signal.SIGTERM)
        stopping = self.notify.wait(lambda m: m.get('STOPPING') == '1',
                                    'STOPPING=1')
        self.assertIn('goodbye', stopping['STATUS'])
        self.assertEqual(kithd.proc.wait(20), 0)

    def test_path_socket_and_watchdog_for_another_process(self):
        kithd = self.start('DIR/notify', env={'WATCHDOG_PID': '1'})
        self.notify.wait(lambda m: m.get('READY') == '1', 'READY=1')
        self.notify.drain(1.0)
        self.assertFalse([m for _, m in self.notify.messages
                          if 'WATCHDOG' in m],
                         'fed a watchdog meant for another process')
        self.assertEqual(kithd.stop(), 0)

    def test_without_notify_socket(self):
        self.world = World(start_kithd=False)
        self.addCleanup(self.world.close)
        kithd = Kithd(self.world.prosody, self.world.tmp, start=False,
                      mode=self.world.mode)
        self.world.kithd = kithd
        kithd.extra_env = {'WATCHDOG_USEC': '200000'}
        kithd.start()
        kithd.wait_log(r'kithd \S+: 3 devices')
        time.sleep(0.5)
        self.assertTrue(kithd.running())
        self.assertNotIn('notify', kithd.log_text())
        self.assertEqual(kithd.stop(), 0)


if __name__ == '__main__':
    main()
