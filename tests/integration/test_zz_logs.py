#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The last integration test: every kithd log the suite kept (the harness
copies each world's kithd log and the secrets that world had, its devices'
account passwords, claim KEYs and the component secret, into KITH_LOG_DIR)
is searched for those secrets and for the harness's own; the files checked
are removed."""

import glob
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Prosody, main  # noqa: E402


class SuiteLogsTest(unittest.TestCase):
    def test_no_secret_in_any_kithd_log(self):
        directory = os.environ.get('KITH_LOG_DIR')
        if not directory or not os.path.isdir(directory):
            print('no KITH_LOG_DIR: nothing kept to check')
            return
        leaks, checked = [], 0
        for secrets_file in sorted(glob.glob(os.path.join(directory,
                                                          '*.secrets'))):
            log = secrets_file[:-len('.secrets')] + '.log'
            with open(secrets_file) as f:
                secrets = {line.strip() for line in f if line.strip()}
            secrets.add(Prosody.component_secret)
            if os.path.exists(log):
                with open(log, errors='replace') as f:
                    text = f.read()
                leaks += [f'{os.path.basename(log)}: {secret}'
                          for secret in sorted(secrets) if secret in text]
                checked += 1
            if not leaks:
                for path in (secrets_file, log):
                    if os.path.exists(path):
                        os.unlink(path)
        print(f'{checked} kithd logs checked')
        self.assertEqual(leaks, [], 'secrets in kithd logs')


if __name__ == '__main__':
    main()
