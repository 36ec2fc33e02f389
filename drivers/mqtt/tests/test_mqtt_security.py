#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS with a private CA (TlsCaFile) and a user with a password file, against a real
mosquitto; a wrong CA or password is said clearly and never connects."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_harness import BUS_MONITOR, Tls, bus_config, publish_until, run  # noqa: E402

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


def check_config(ctx, config):
    """kithd --check-config on a configuration: (exit status, what it said)"""
    kithd = os.environ.get('KITHD', os.path.join(os.path.dirname(BUS_MONITOR), '..', '..',
                                                 'src', 'kithd'))
    path = os.path.join(ctx.workdir, 'check.conf')
    with open(path, 'w') as f:
        f.write('[xmpp]\nDomain=example.net\n\n' + config)
    done = subprocess.run([kithd, '--check-config', '--config', path], capture_output=True,
                          text=True, timeout=30)
    return done.returncode, done.stdout + done.stderr


def test_config_errors(ctx):
    broker = ctx.broker()
    status, said = check_config(ctx, bus_config(broker, extra='Username=kith\n'
                                                'PasswordFile=/nonexistent/password\n' + DEVICE))
    assert status == 1 and '[bus:home] PasswordFile:' in said and '/nonexistent' in said, said
    status, said = check_config(ctx, bus_config(broker, extra=DEVICE + 'Power.Colour=red\n'))
    assert status == 1 and '[bus:home:meter] Power.Colour: unknown key' in said, said
    status, said = check_config(ctx, bus_config(broker, extra='Tls=sometimes\n'))
    assert status == 1 and '[bus:home] Tls:' in said, said
    status, said = check_config(ctx, bus_config(broker, 'homeassistant;insteon'))
    assert status == 1 and "'insteon' is not a convention" in said, said
    status, said = check_config(ctx, bus_config(broker, 'homeassistant', DEVICE))
    assert status == 0 and 'home-meter@example.net' in said, said
    assert 'gateway status on kith/kith-test-home/status' in said, said


if __name__ == '__main__':
    run([test_tls, test_tls_untrusted, test_password, test_password_wrong,
         test_config_errors])
