#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sorts valgrind memcheck reports (one file per kithd) into kith's own and
the libraries'.  A record is kith's when a frame of its stack is in src/ or
drivers/, except one-time type registration (GLib keeps those on purpose).
Prints the records from kith's code and a summary; exit status 1 if any."""

import collections
import pathlib
import re
import sys

PREFIX = re.compile(r'^==\d+== ?')
FRAME = re.compile(r'^\s+(?:at|by) 0x[0-9A-F]+: (\S+) \((.*)\)$')
KITH_FILE = re.compile(r'(?:^|/)(?:src|drivers)/[^:]+:\d+$')
# GLib's type system keeps a class and its registration for the life of the
# process, and its signal-watching thread runs until exit: "possibly lost"
# under them is by design
BY_DESIGN = re.compile(r'_get_type(?:_once)?$|_class_intern_init$|^g_type_|'
                       r'^g_unix_signal_add_full$')


def records(text):
    block = []
    for line in text.splitlines():
        if not PREFIX.match(line):
            continue
        line = PREFIX.sub('', line)
        if line.strip() == '':
            if block:
                yield block
            block = []
        else:
            block.append(line)
    if block:
        yield block


def classify(block):
    """(kind, frames) of a record, or None for valgrind's own lines."""
    frames = [FRAME.match(line) for line in block[1:]]
    frames = [(m.group(1), m.group(2)) for m in frames if m]
    if not frames:
        return None
    return block[0], frames


def main():
    reports = pathlib.Path(sys.argv[1])
    files = sorted(reports.glob('kithd.*.log'))
    ours = collections.OrderedDict()
    theirs = 0
    by_design = 0
    for path in files:
        for block in records(path.read_text(errors='replace')):
            found = classify(block)
            if found is None:
                continue
            kind, frames = found
            if any(BY_DESIGN.search(name) for name, _ in frames):
                by_design += 1
                continue
            if not any(KITH_FILE.search(where) for _, where in frames):
                theirs += 1
                continue
            # the same record from many runs counts once
            key = (re.sub(r'[\d,]+ bytes in [\d,]+ blocks', 'N bytes', kind),
                   tuple(name for name, _ in frames[:8]))
            ours.setdefault(key, (path.name, block))
    for name, block in ours.values():
        print(f'--- {name}')
        print('\n'.join(block))
    print(f'memcheck: {len(files)} kithd runs, {len(ours)} distinct records '
          f'from kith\'s code, {theirs} from libraries only, {by_design} '
          f'type registrations')
    return 1 if ours else 0


if __name__ == '__main__':
    sys.exit(main())
