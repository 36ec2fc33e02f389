#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""kithd --commissioning: the iotdisco: URI an owner scans to claim a device, as text, as a
QR code in the terminal and as a PNG that a QR reader (zbarimg) decodes to the same URI."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import kithd_binary, main  # noqa: E402

CONFIG = """[kith]
StateDirectory={state}
[xmpp]
Domain=localhost
[friendship]
Registry=reg.localhost
[bus:sim]
Driver=sim
Thermometers=2
Relays=1
"""


def parse_uri(uri):
    """iotdisco:NAME=value;#NUM=value;... -> {name: value}"""
    assert uri.startswith('iotdisco:'), uri
    tags = {}
    for part in uri[len('iotdisco:'):].split(';'):
        name, _, value = part.partition('=')
        tags[name.lstrip('#')] = urllib.parse.unquote(value)
    return tags


class CommissioningTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='kith-commissioning-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.config = os.path.join(self.dir, 'kith.conf')
        with open(self.config, 'w') as f:
            f.write(CONFIG.format(state=os.path.join(self.dir, 'state')))

    def kithd(self, *args, check=True):
        env = dict(os.environ)
        env.pop('STATE_DIRECTORY', None)
        result = subprocess.run([kithd_binary(), '--config', self.config, '--commissioning',
                                 *args], capture_output=True, text=True, env=env, timeout=30)
        if check:
            self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def uris(self):
        lines = self.kithd().stdout.splitlines()
        return dict(line.split(' ', 1) for line in lines)

    def test_every_device_has_a_uri_with_its_tags(self):
        uris = self.uris()
        self.assertEqual(sorted(uris), ['sim-relay-1', 'sim-thermometer-1',
                                        'sim-thermometer-2'])
        tags = parse_uri(uris['sim-thermometer-2'])
        self.assertEqual(tags['SN'], 'sim-thermometer-2')
        self.assertEqual(tags['MAN'], 'kith.sim')
        self.assertEqual(tags['CLASS'], 'Thermometer')
        self.assertEqual(tags['MODEL'], 'kith sim thermometer')
        self.assertEqual(tags['R'], 'reg.localhost')
        self.assertRegex(tags['KEY'], r'^[0-9a-f]{32}$')
        self.assertIn('#V=', uris['sim-thermometer-2'])

    def test_keys_are_random_and_stable(self):
        first = self.uris()
        again = self.uris()
        self.assertEqual(first, again, 'the KEY changed between two calls')
        keys = {parse_uri(uri)['KEY'] for uri in first.values()}
        self.assertEqual(len(keys), 3, 'devices share a KEY')

    def test_qr_in_the_terminal_and_png(self):
        png_dir = os.path.join(self.dir, 'qr')
        result = self.kithd('--device', 'sim-relay-1', '--qr', '--qr-png', png_dir)
        lines = result.stdout.splitlines()
        uri = lines[0].split(' ', 1)[1]
        self.assertTrue(any('█' in line for line in lines[1:]), 'no QR code drawn')
        png = os.path.join(png_dir, 'sim-relay-1.png')
        decoded = subprocess.run(['zbarimg', '--raw', '-q', png], capture_output=True,
                                 text=True, timeout=30)
        self.assertEqual(decoded.returncode, 0, decoded.stderr)
        self.assertEqual(decoded.stdout.strip(), uri)

    def test_unknown_device(self):
        result = self.kithd('--device', 'no-such-device', check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('no-such-device', result.stderr)


if __name__ == '__main__':
    main()
