#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's quick start installs everything the build needs: every
pkg-config dependency of every meson.build comes from a Debian package that
its apt-get line names (found with dpkg -S on the .pc file), and the build
tools are there too.  A new dependency without a README change fails here."""

import glob
import os
import re
import subprocess
import sys
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TOOLS = {'meson', 'ninja-build', 'pkg-config', 'gcc'}


def readme_packages():
    with open(os.path.join(REPO, 'README.md')) as f:
        text = f.read()
    # the shell lines of the quick start's code blocks, continuations joined
    blocks = re.findall(r'```sh\n(.*?)```', text, re.S)
    for block in blocks:
        joined = block.replace('\\\n', ' ')
        for line in joined.splitlines():
            found = re.search(r'apt-get install (.*)', line)
            if found:
                return {word for word in found.group(1).split()
                        if not word.startswith('-')}
    raise AssertionError('no apt-get install line in README.md')


def meson_dependencies():
    names = set()
    for path in glob.glob(os.path.join(REPO, '**', 'meson.build'),
                          recursive=True):
        if '/build' in path[len(REPO):]:
            continue
        with open(path) as f:
            names.update(re.findall(r"\bdependency\(\s*'([^']+)'", f.read()))
    return names


def package_of_pkgconfig(name):
    pcdir = subprocess.run(['pkg-config', '--variable=pcfiledir', name],
                           capture_output=True, text=True)
    if pcdir.returncode != 0:
        return None
    pc = os.path.join(pcdir.stdout.strip(), name + '.pc')
    owner = subprocess.run(['dpkg', '-S', os.path.realpath(pc)],
                           capture_output=True, text=True)
    if owner.returncode != 0:
        owner = subprocess.run(['dpkg', '-S', pc], capture_output=True,
                               text=True)
    if owner.returncode != 0:
        return None
    return owner.stdout.split(':')[0].strip()


class ReadmeTest(unittest.TestCase):
    def test_quick_start_installs_the_build_dependencies(self):
        packages = readme_packages()
        self.assertTrue(TOOLS <= packages, TOOLS - packages)
        deps = meson_dependencies()
        self.assertIn('libstrophe', deps)
        missing = {}
        for dep in sorted(deps):
            package = package_of_pkgconfig(dep)
            self.assertIsNotNone(package, f'no Debian package has {dep}.pc')
            if package not in packages:
                missing[dep] = package
        self.assertEqual(missing, {}, 'README.md quick start misses these')

    def test_quick_start_updates_the_package_lists_first(self):
        with open(os.path.join(REPO, 'README.md')) as f:
            text = f.read()
        self.assertLess(text.index('apt-get update'),
                        text.index('apt-get install'))


if __name__ == '__main__':
    unittest.main(argv=[sys.argv[0], '-v'])
