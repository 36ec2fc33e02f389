#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Count meson test results across build directories.

usage: count-tests.py [--failed N] TESTLOG.json...

Each TESTLOG.json is a meson-logs/testlog.json (one JSON object per line).
A file that does not exist adds nothing. --failed N adds N failures that
happened outside meson test (a setup or build step that broke).

Prints the tests that did not pass, then one last line
`N passed, N failed` (`, N skipped` when something was skipped), and exits
1 if anything failed or nothing ran at all, else 0.
"""

import json
import os
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
SKIPPED = {"SKIP"}
# everything else (FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, INTERRUPT, ...) fails


def main(argv):
    extra_failed = 0
    paths = []
    args = iter(argv)
    for arg in args:
        if arg == "--failed":
            extra_failed += int(next(args))
        else:
            paths.append(arg)

    passed = failed = skipped = 0
    for path in paths:
        if not os.path.exists(path):
            continue
        # the build directory names the run: build/meson-logs/testlog.json -> build
        run = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(path))))
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    test = json.loads(line)
                    result = str(test.get("result", ""))
                    name = str(test.get("name", "?"))
                except (ValueError, AttributeError):
                    print(f"{run}: {path}:{number}: unreadable line", file=sys.stderr)
                    failed += 1
                    continue
                if result in PASSED:
                    passed += 1
                elif result in SKIPPED:
                    skipped += 1
                else:
                    failed += 1
                    print(f"{run}: {result or 'NO RESULT'}: {name}")

    failed += extra_failed
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    sys.stdout.flush()
    print(line, flush=True)
    return 1 if failed or passed + skipped == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
