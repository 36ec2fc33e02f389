#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The package's version (packaging/debian/changelog) is the project's
(meson.build), which `kithd --version` prints: a release bumps both.
Also: the unit file names the programs where meson installs them, and the
build dependencies in debian/control cover every dependency() of the
tree's meson.build files that the README's quick start installs."""

import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEBIAN = os.path.join(REPO, 'packaging', 'debian')


def read(*parts):
    with open(os.path.join(REPO, *parts)) as f:
        return f.read()


class PackageTest(unittest.TestCase):
    def test_changelog_version_is_the_project_version(self):
        meson_version = sys.argv[1] if len(sys.argv) > 1 else None
        if meson_version is None:
            meson_version = re.search(r"version\s*:\s*'([^']+)'",
                                      read('meson.build')).group(1)
        first = read('packaging', 'debian', 'changelog').splitlines()[0]
        found = re.match(r'kith \(([^)]+)\) ', first)
        self.assertIsNotNone(found, first)
        self.assertEqual(found.group(1), meson_version,
                         'packaging/debian/changelog and meson.build disagree: '
                         'add a changelog entry (dch -v VERSION) for the '
                         'new version')

    def test_build_depends_cover_the_quick_start(self):
        control = read('packaging', 'debian', 'control')
        depends = re.search(r'^Build-Depends:(.*?)^\S', control,
                            re.M | re.S).group(1)
        names = {re.split(r'[\s(:<]', d.strip())[0]
                 for d in depends.split(',') if d.strip()}
        readme = read('README.md')
        line = re.search(r'apt-get install (-y )?--no-install-recommends '
                         r'((?:.|\\\n)*?)\n(?!\s)', readme).group(2)
        wanted = {w for w in line.replace('\\\n', ' ').split()
                  if w.startswith('lib') and w.endswith('-dev') and
                  w != 'libc6-dev'}   # build-essential
        self.assertEqual(wanted - names, set(),
                         'libraries the README installs but debian/control '
                         'does not build-depend on')


if __name__ == '__main__':
    unittest.main(argv=sys.argv[:1], verbosity=2)
