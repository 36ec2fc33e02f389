#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS trust: kithd verifies the server against TlsCaFile, or without it against
OpenSSL's hashed CA directory (the system trust store), and refuses a server
whose certificate no trusted CA signed."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import KithTestCase, Kithd, World, main  # noqa: E402


class TlsTrustTest(KithTestCase):
    def new_world(self):
        world = World(policy='open', start_kithd=False)
        self.addCleanup(world.close)
        return world

    def start_kithd(self, world, ca_file=None, env=None):
        kithd = Kithd(world.prosody, world.tmp, start=False)
        if ca_file is None:
            kithd.groups['xmpp'].pop('TlsCaFile', None)
        else:
            kithd.groups['xmpp']['TlsCaFile'] = ca_file
        kithd.write_config()
        saved = dict(os.environ)
        os.environ.update(env or {})
        try:
            kithd.start()
        finally:
            os.environ.clear()
            os.environ.update(saved)
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

    def test_wrong_ca_is_refused(self):
        """A CA that did not sign the server's certificate: no session, a clear
        log line, and kithd keeps running (it retries with backoff)."""
        world = self.new_world()
        other = os.path.join(world.tmp, 'other-ca')
        os.makedirs(other)
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                        '-keyout', os.path.join(other, 'ca.key'),
                        '-out', os.path.join(other, 'ca.pem'), '-days', '2',
                        '-subj', '/CN=someone else'], check=True,
                       capture_output=True)
        kithd = self.start_kithd(world, ca_file=os.path.join(other, 'ca.pem'))
        kithd.wait_log(r'libstrophe tls: .*(certificate|Certificate|certfail|verif)',
                       timeout=20)
        self.assertTrue(kithd.running())
        alice = world.peer('alice')
        reply = alice.ping(kithd.full('sim-thermometer-1'), timeout=5)
        self.assertEqual(reply.get('type'), 'error')
        self.assertEqual(kithd.stop(), 0)


if __name__ == '__main__':
    main()
