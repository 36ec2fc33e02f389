#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS trust without TlsCaFile: kithd verifies the server against OpenSSL's
hashed CA directory (the system trust store), loading only what the chain
needs.  Refusals (another CA, no TLS) are in test_misc.py."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import KithTestCase, Kithd, World, main  # noqa: E402


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


if __name__ == '__main__':
    main()
