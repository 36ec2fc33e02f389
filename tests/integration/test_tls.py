#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS trust without TlsCaFile: kithd verifies the server against OpenSSL's
hashed CA directory (the system trust store), loading only what the chain
needs.  Certificates from the trusted CA that are wrong all the same (for
another host name, expired) are refused; plaintext only with Tls=disabled
or Tls=optional.  Refusals of another CA and of a server without TLS are in
test_misc.py."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import KithTestCase, Kithd, World, main  # noqa: E402
import test_misc  # noqa: E402


def reissue(prosody, name, days):
    """Replace the server certificate of `prosody` by one its test CA signs
    for DNS:`name`, valid for `days` (-1: expired yesterday), and restart
    it."""
    def openssl(*args):
        subprocess.run(['openssl', *args], check=True, cwd=prosody.dir,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(os.path.join(prosody.dir, 'reissue.ext'), 'w') as f:
        f.write(f'subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n'
                'keyUsage=critical,digitalSignature\n'
                'extendedKeyUsage=serverAuth\n')
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
            '-nodes', '-keyout', 'server.key', '-out', 'reissue.csr',
            '-subj', f'/CN={name}')
    openssl('x509', '-req', '-in', 'reissue.csr', '-CA', 'ca.pem', '-CAkey',
            'ca.key', '-set_serial', '7', '-days', str(days), '-extfile',
            'reissue.ext', '-out', 'server.crt')
    prosody.restart()


class TlsTrustTest(KithTestCase):
    def new_world(self):
        world = World(policy='open', start_kithd=False, mode='client')
        self.addCleanup(world.close)
        return world

    def start_kithd(self, world, ca_file=None, env=None):
        kithd = Kithd(world.prosody, world.tmp, start=False)
        if ca_file is None:
            kithd.groups['xmpp'].pop('TlsCaFile', None)
        else:
            kithd.groups['xmpp']['TlsCaFile'] = ca_file
        kithd.write_config()
        kithd.extra_env = dict(env or {})
        kithd.start()
        world.kithd = kithd
        return kithd

    def test_trust_directory_without_ca_file(self):
        """No TlsCaFile: the CA is found in a hashed directory, as in
        /etc/ssl/certs, loading only what the chain needs."""
        world = self.new_world()
        certs = tempfile.mkdtemp(prefix='kith-certs-')
        self.addCleanup(shutil.rmtree, certs, True)
        shutil.copy(world.prosody.ca_file, os.path.join(certs, 'kith-test-ca.pem'))
        subprocess.run(['openssl', 'rehash', certs], check=True)
        kithd = self.start_kithd(world, env={'SSL_CERT_DIR': certs})
        alice = world.peer('alice')
        kithd.wait_online(alice, timeout=30)


class TlsVerifyTest(KithTestCase):
    """Certificate and host name are both verified, whatever Tls= says
    about using TLS at all."""

    wait_for_refusals = test_misc.TlsTest.wait_for_refusals

    def assert_never_logged_in(self, world):
        """No account made, no login, kithd still trying (a peer cannot
        check the devices itself: it refuses the certificate too)."""
        self.assertTrue(world.kithd.running(), 'kithd gave up')
        devices = set(world.kithd.bare_jids())
        self.assertEqual(set(world.prosody.accounts_created()) & devices,
                         set())
        logins = [line for line in world.prosody.log_lines()
                  if 'Authenticated as' in line and
                  any(d in line for d in devices)]
        self.assertEqual(logins, [])

    def refused(self, name, days, reason, hint, tls='required'):
        world = World(start_kithd=False, mode='client')
        self.addCleanup(world.close)
        self.world = world
        reissue(world.prosody, name, days)
        world.kithd = Kithd(world.prosody, world.tmp, tls=tls)
        self.wait_for_refusals(world)
        self.assert_never_logged_in(world)
        line = world.kithd.wait_log(
            r"the server's certificate is not trusted.*").group(0)
        self.assertIn(reason, line)
        self.assertIn(f"subject '/CN={name}'", line)
        self.assertIn(hint, line)
        self.assertNotIn('does not chain', line)

    def test_certificate_for_another_host_is_refused(self):
        """Signed by the trusted CA, but for another name than the
        devices' domain (localhost)."""
        self.refused('wrong.example', 3, 'hostname mismatch',
                     'it is not issued for localhost')

    def test_expired_certificate_is_refused(self):
        self.refused('localhost', -1, 'certificate has expired',
                     "renew the server's certificate, or check this "
                     "machine's clock")

    def test_optional_tls_still_verifies(self):
        """Tls=optional uses TLS when offered, and then verifies it."""
        self.refused('wrong.example', 3, 'hostname mismatch',
                     'it is not issued for localhost', tls='optional')


class PlaintextTest(KithTestCase):
    """A server without TLS is used only when the configuration says so
    (the refusal under the default Tls=required is in test_misc.py)."""

    def test_plaintext_only_when_configured(self):
        for tls in ('disabled', 'optional'):
            with self.subTest(tls=tls):
                world = World(start_kithd=False, mode='client', tls=False)
                self.addCleanup(world.close)
                self.world = world
                world.kithd = Kithd(world.prosody, world.tmp, tls=tls)
                world.kithd.wait_online(world.peer('alice'), timeout=30)


if __name__ == '__main__':
    main()
