#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a kithd as its service would, without systemd, against a Prosody on
127.0.0.1: as a given user (setpriv), optionally through qemu-user, with a
notify socket and its own runtime directory. Checks READY=1, every device
online in STATUS=, `kithctl devices` listing them online, and a clean stop
on SIGTERM (STOPPING=1, exit 0). Prints one `ok - ...` line per check.

usage: run-service.py --kithd PATH --kithctl PATH [--wrapper CMD]
                      [--user NAME] [--config FILE] [--dropin FILE]
                      [--state DIR] [--timeout S]
--config: an installed configuration; --dropin (in its conf.d) then points
it at the test server. Without --config a whole configuration is written.
"""

import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))
from harness import Prosody  # noqa: E402

DEVICES = ['sim-relay-1', 'sim-thermometer-1', 'sim-thermometer-2']
# the devices, whatever the shipped configuration holds
SIM_BUS = '[bus:sim]\nDriver=sim\nThermometers=2\nRelays=1\n'


def fail(message):
    print(f'not ok - {message}', flush=True)
    sys.exit(1)


def ok(message):
    print(f'ok - {message}', flush=True)


class Notify:
    def __init__(self):
        self.name = f'kith-packaging-{os.getpid()}'
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind('\0' + self.name)   # abstract: any user may send
        self.seen = []

    def wait(self, predicate, what, timeout, proc):
        deadline = time.monotonic() + timeout
        for fields in self.seen:
            if predicate(fields):
                return fields
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                fail(f'kithd exited ({proc.returncode}) before {what}')
            self.sock.settimeout(0.2)
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            fields = dict(line.split('=', 1) for line in data.split('\n')
                          if '=' in line)
            self.seen.append(fields)
            if predicate(fields):
                return fields
        fail(f'no {what} within {timeout} s (got {self.seen[-5:]})')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--kithd', required=True)
    parser.add_argument('--kithctl', required=True)
    parser.add_argument('--wrapper', default='')
    parser.add_argument('--user')
    parser.add_argument('--config')
    parser.add_argument('--dropin')
    parser.add_argument('--state')
    parser.add_argument('--timeout', type=float, default=30)
    args = parser.parse_args()
    wrapper = args.wrapper.split()

    tmp = tempfile.mkdtemp(prefix='kith-pkg-')
    os.chmod(tmp, 0o755)
    prosody = Prosody(tmp, tls=False)
    proc = None
    try:
        xmpp = (f'[xmpp]\nServer=127.0.0.1\nPort={prosody.port}\n'
                'Domain=localhost\nRegister=true\nTls=disabled\n')
        if args.config:
            config = args.config
            with open(args.dropin, 'w') as f:
                f.write('# written by tests/packaging/run-service.py\n' + xmpp +
                        SIM_BUS)
            os.chmod(args.dropin, 0o644)
        else:
            config = os.path.join(tmp, 'kith.conf')
            with open(config, 'w') as f:
                f.write(xmpp + SIM_BUS)
        runtime = os.path.join(tmp, 'run')
        os.mkdir(runtime)
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin')}
        notify = Notify()
        env['NOTIFY_SOCKET'] = '@' + notify.name
        env['WATCHDOG_USEC'] = str(int(args.timeout * 1e6))
        env['RUNTIME_DIRECTORY'] = runtime
        if args.state:
            env['STATE_DIRECTORY'] = args.state
        else:
            state = os.path.join(tmp, 'state')
            os.mkdir(state, 0o700)
            env['STATE_DIRECTORY'] = state
        command = wrapper + [args.kithd, '--config', config]
        if args.user:
            user = pwd.getpwnam(args.user)
            os.chown(runtime, user.pw_uid, user.pw_gid)
            if not args.state:
                os.chown(env['STATE_DIRECTORY'], user.pw_uid, user.pw_gid)
            command = ['setpriv', f'--reuid={args.user}',
                       f'--regid={user.pw_gid}', '--init-groups', '--'] + \
                command
        log = open(os.path.join(tmp, 'kithd.log'), 'wb')
        started = time.monotonic()
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, cwd=tmp)
        log.close()
        ready = notify.wait(lambda m: m.get('READY') == '1', 'READY=1',
                            args.timeout, proc)
        ok(f'READY=1 after {time.monotonic() - started:.1f} s '
           f'({ready.get("STATUS")})')
        want = f'{len(DEVICES)} devices: {len(DEVICES)} online, ' \
               '0 not answering'
        notify.wait(lambda m: m.get('STATUS') == want, f'STATUS={want}',
                    args.timeout, proc)
        ok(f'STATUS={want}')
        if args.user:
            owner = subprocess.run(['ps', '-o', 'user=', '-p',
                                    str(proc.pid)], capture_output=True,
                                   text=True).stdout.strip()
            if owner and owner != args.user:
                fail(f'kithd runs as {owner}, not {args.user}')
            ok(f'kithd runs as {args.user}')
        res = subprocess.run(wrapper + [args.kithctl, '--socket',
                             os.path.join(runtime, 'control'), '--json',
                             'devices'], capture_output=True, text=True,
                             timeout=args.timeout)
        if res.returncode != 0:
            fail(f'kithctl devices: {res.stderr.strip()}')
        devices = json.loads(res.stdout)['devices']
        listed = sorted((d['id'], d['online']) for d in devices)
        if listed != [(d, True) for d in DEVICES]:
            fail(f'kithctl devices: {listed}')
        ok('kithctl devices lists every device online')
        proc.send_signal(signal.SIGTERM)
        notify.wait(lambda m: m.get('STOPPING') == '1', 'STOPPING=1',
                    args.timeout, proc) if proc.poll() is None else None
        code = proc.wait(args.timeout)
        if code != 0:
            fail(f'kithd exited {code} after SIGTERM')
        ok('stopped cleanly on SIGTERM (STOPPING=1, exit 0)')
        proc = None
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None or os.environ.get('KITH_KEEP_TMP'):
            print(f'kithd log: {os.path.join(tmp, "kithd.log")}')
            with open(os.path.join(tmp, 'kithd.log'), errors='replace') as f:
                sys.stdout.write(f.read()[-3000:])
        prosody.stop()
        if args.dropin and os.path.exists(args.dropin):
            os.unlink(args.dropin)
        if not os.environ.get('KITH_KEEP_TMP'):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
