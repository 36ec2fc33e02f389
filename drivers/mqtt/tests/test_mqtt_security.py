#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS with a private CA (TlsCaFile) and a user with a password file, against a real
mosquitto; a wrong CA or password is said clearly and never connects."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_harness import Tls, bus_config, publish_until, run  # noqa: E402

DEVICE = '''
[bus:home:meter]
Topic=meter/power
Power.Unit=W
'''


def test_tls(ctx):
    tls = Tls(ctx.workdir)
    broker = ctx.broker(tls=tls)
    monitor = ctx.monitor(bus_config(broker, extra=f'Tls=required\nTlsCaFile={tls.ca}\n'
                                     + DEVICE))
    monitor.wait('availability', id='home-meter', answering=True)
    meter = ctx.client(broker.port, client_id='meter', tls_ca=tls.ca)
    publish_until(monitor, meter, 'meter/power', '230.5', 'changed', id='home-meter',
                  values={'Power': 230.5})


def test_tls_untrusted(ctx):
    tls = Tls(ctx.workdir)
    os.makedirs(os.path.join(ctx.workdir, 'other'))
    other = Tls(os.path.join(ctx.workdir, 'other'))  # a CA that did not sign the broker
    broker = ctx.broker(tls=tls)
    monitor = ctx.monitor(bus_config(broker, extra=f'Tls=required\nTlsCaFile={other.ca}\n'
                                     + DEVICE))
    monitor.quiet(1.5, 'availability', id='home-meter', answering=True)
    log = monitor.log()
    assert 'TLS failed' in log or 'certificate' in log, log
    assert 'connected to' not in log, log


def test_password(ctx):
    broker = ctx.broker(users={'kith': 's3cret pass', 'meter': 'm'})
    password_file = os.path.join(ctx.workdir, 'password')
    with open(password_file, 'w') as f:
        f.write('  s3cret pass\n')
    os.chmod(password_file, 0o600)
    monitor = ctx.monitor(bus_config(broker, extra=f'Username=kith\nPasswordFile={password_file}\n'
                                     + DEVICE))
    monitor.wait('availability', id='home-meter', answering=True)
    meter = ctx.client(broker.port, client_id='meter', username='meter', password='m')
    publish_until(monitor, meter, 'meter/power', '12', 'changed', id='home-meter',
                  values={'Power': 12.0})
    assert 's3cret' not in monitor.log()


def test_password_wrong(ctx):
    broker = ctx.broker(users={'kith': 'right'})
    password_file = os.path.join(ctx.workdir, 'password')
    with open(password_file, 'w') as f:
        f.write('wrong\n')
    monitor = ctx.monitor(bus_config(broker, extra=f'Username=kith\nPasswordFile={password_file}\n'
                                     + DEVICE))
    monitor.quiet(1.5, 'availability', id='home-meter', answering=True)
    log = monitor.log()
    assert 'refused the connection' in log and 'not authori' in log.lower(), log
    assert log.count('refused the connection') == 1, log  # said once, retried quietly
    assert 'wrong' not in log, log


def test_password_file_missing(ctx):
    broker = ctx.broker()
    monitor = ctx.monitor(bus_config(broker, extra='Username=kith\n'
                                     'PasswordFile=/nonexistent/password\n' + DEVICE))
    deadline = time.monotonic() + 5
    while monitor.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert monitor.proc.returncode == 1, monitor.proc.returncode
    log = monitor.log()
    assert '[bus:home] PasswordFile:' in log and '/nonexistent/password' in log, log


if __name__ == '__main__':
    run([test_tls, test_tls_untrusted, test_password, test_password_wrong,
         test_password_file_missing])
