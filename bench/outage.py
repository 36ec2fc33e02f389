#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The XMPP server down for a long time (default 10 minutes), then back: the
connection-rate profile of kithd's devices during and after the outage, the
time until every device is back, and the readings lost (the history must
cover the gap).  The 1 s and 30 s outages run in CI
(tests/integration/test_faults_xmpp.py); this is the long one.

    /usr/bin/python3 bench/outage.py [--mode client|component]
        [--devices 50] [--seconds 600] [--out bench/results-outage.md]

KITHD as for the tests (default build/src/kithd).
"""

import argparse
import datetime
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))
from faults import (LogWatch, Outage, format_figures, history_gaps,  # noqa: E402
                    outage_world)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--mode', choices=('client', 'component'),
                        default='client')
    parser.add_argument('--devices', type=int, default=50)
    parser.add_argument('--seconds', type=float, default=600)
    parser.add_argument('--out', default=None,
                        help='append the result (markdown) to this file')
    args = parser.parse_args()
    os.environ.setdefault('KITHD', os.path.join(REPO, 'build', 'src', 'kithd'))

    world, alice = outage_world(args.devices, mode=args.mode)
    try:
        kithd = world.kithd
        watch = LogWatch(kithd.log)
        out = Outage(world, watch, args.seconds)
        print(f'server stopped; back in {args.seconds:.0f} s', flush=True)
        out.run()
        back = out.back(kithd.devices, timeout=300)
        alice.close()
        alice = world.peer('alice')
        kithd.wait_online(alice, timeout=120)
        watch.stop()
        fig = out.figures(back)
        lost = 0
        for i, device in enumerate(d for d in kithd.devices
                                   if d != 'sim-relay-1'):
            _, missing = history_gaps(alice, kithd, device, out.down - 1,
                                      out.up + 1, str(5000 + i))
            lost += missing
        fig['readings_lost'] = lost
        fig['backoff_violations'] = len(out.backoff_violations())
        per_min = [sum(fig['attempts_per_s'][i:i + 60])
                   for i in range(0, len(fig['attempts_per_s']), 60)]
        fig['attempts_per_minute'] = per_min
        after = fig['attempts_per_s'][int(out.up - out.down):]
        fig['attempts_per_s_after_return'] = after
        del fig['attempts_per_s']
        title = (f'{args.mode} mode, {args.devices} devices, server down '
                 f'{args.seconds:.0f} s')
        text = format_figures(title, fig)
        print(text)
        if args.out:
            commit = subprocess.run(['git', '-C', REPO, 'rev-parse', '--short',
                                     'HEAD'], capture_output=True,
                                    text=True).stdout.strip()
            with open(args.out, 'a') as f:
                f.write(f'\n## {title}\n\n{datetime.date.today()}, commit '
                        f'{commit}, {os.uname().nodename}\n\n```\n{text}\n'
                        '```\n')
    finally:
        world.close()


if __name__ == '__main__':
    main()
