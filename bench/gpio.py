#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""GPIO benchmark in the emulated machine of tests/hw (Debian's kernel under QEMU, gpio-sim).

1. Pulses with none lost: kith-gpio-pulses (bench/gpio-pulses.c) pulses a gpio-sim line from
   inside the guest, N pulses at a fixed period (1 ms: a rising edge every millisecond, high
   for half of it), onto a counter input (Mode=counter) and onto a state input. What arrives
   is counted where a user would see it: kith-bus-monitor's Count and change events, then
   kithd's Count in an XEP-0323 readout and the presences a friend on the host receives.
2. Edge to friend's stanza: the host's time when it sends the guest the command that toggles
   a line (over the ctl port) to the arrival of the friend's presence, as the friend's XMPP
   library parsed it; with the ctl port's own round trip for comparison.
3. CPU per event: kithd's (and the monitor's) CPU time in the guest (/proc/PID/schedstat)
   across each run, divided by the pulses.

Under TCG (no KVM on the machine) every guest instruction is emulated: CPU times are the
emulated machine's, latencies are upper bounds. The script also measures how much slower the
guest runs the same busybox loop than the host, to scale them.

    meson compile -C build && /usr/bin/python3 bench/gpio.py [--out bench/results-gpio.md]
"""
import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'hw'))
# pylint: disable=wrong-import-position
import friend  # noqa: E402
from machine import LINES, Failed, boot, log, setup_gpio_sim  # noqa: E402
from harness import NS, befriend, fields_of, match, readout_raw  # noqa: E402

BUSES = """
[xmpp]
Domain=bench.test

[bus:pins]
Driver=gpio
Chip=kith-sim

[bus:pins:button]
Line=BUTTON
Bias=pull-down

[bus:pins:meter]
Line=METER
Bias=pull-down
Mode=counter
RateInterval=10
"""
STATE, COUNTER = 'pins-button', 'pins-meter'
LOOP = "i=0; while [ $i -lt {n} ]; do i=$((i+1)); done"


class Bench:
    def __init__(self, guest, sysfs):
        self.guest = guest
        self.sysfs = sysfs

    def pull(self, name):
        return f'{self.sysfs}/sim_gpio{LINES[name]}/pull'

    def cpu_ns(self, pid):
        """CPU time of a guest process so far (ns; schedstat's first field)"""
        return int(self.guest.sh(f'cat /proc/{pid}/schedstat').split()[0])

    def guest_cpu(self):
        """(all, idle) ticks of the guest's CPU so far"""
        ticks = [int(v) for v in self.guest.sh('head -n1 /proc/stat').split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]

    def pulses(self, name, count, period_us):
        """runs the pulse generator in the guest; its report as a dict, with the share of the
        guest's CPU that was busy meanwhile"""
        total, idle = self.guest_cpu()
        out = self.guest.sh(f'/usr/bin/kith-gpio-pulses {self.pull(name)} {count} {period_us}',
                            timeout=120 + count * period_us / 1e5)
        report = {k: int(v) for k, v in re.findall(r'(\w+)=(\d+)', out)}
        total_after, idle_after = self.guest_cpu()
        report['busy'] = 1 - (idle_after - idle) / max(total_after - total, 1)
        return report

    def sweep(self, who, pid, periods, count, reps, observe, idle_rate=0.0):
        """each period reps times: N pulses on the counter, then N on the state input.
        observe: count() (the counter's Count now), mark() and changes(mark) (what the
        state input reported since), activity() (moves while reports arrive)"""
        rows = []
        for period in periods:
            row = {'period_us': period, 'pulses': 0, 'counted': 0, 'changes': 0,
                   'lossy_runs': 0, 'elapsed_us': 0, 'late': 0, 'worst_late_us': 0,
                   'busy': [], 'counter_cpu_ns': 0.0, 'state_cpu_ns': 0.0}
            for _ in range(reps):
                for name in ('METER', 'BUTTON'):
                    before, mark = observe.count(), observe.mark()
                    cpu, started = self.cpu_ns(pid), time.monotonic()
                    generator = self.pulses(name, count, period)
                    self.settle(observe.activity)
                    cpu = self.cpu_ns(pid) - cpu - idle_rate * (time.monotonic() - started)
                    if name == 'METER':
                        counted = observe.count() - before
                        row['counted'] += counted
                        row['lossy_runs'] += counted != count
                        row['counter_cpu_ns'] += cpu
                        row['pulses'] += count
                        row['elapsed_us'] += generator['elapsed_us']
                        row['late'] += generator['late']
                        row['worst_late_us'] = max(row['worst_late_us'],
                                                   generator['worst_late_us'])
                        row['busy'].append(generator['busy'])
                    else:
                        row['changes'] += observe.changes(mark)
                        row['state_cpu_ns'] += cpu
                    log(f'{who} {period} us {name}: {generator}, ' +
                        (f'counted {counted}' if name == 'METER' else
                         f'{observe.changes(mark)} changes'))
            rows.append(row)
        return rows

    def settle(self, current, quiet=2.0, timeout=120):
        """waits until current() stops changing for `quiet` seconds; returns it"""
        value, since = current(), time.monotonic()
        deadline = since + timeout
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            time.sleep(0.2)
            now = current()
            if now != value:
                value, since = now, time.monotonic()
        return value


# ---------------------------------------------------------------- kith-bus-monitor

def monitor_runs(bench, periods, count, reps):
    guest = bench.guest
    guest.write_file('/etc/bench.conf', BUSES)
    guest.sh('mkfifo /tmp/monitor.in')
    guest.sh('/usr/bin/kith-bus-monitor /etc/bench.conf </tmp/monitor.in >/dev/vport0p2 '
             '2>/dev/ttyS0 & echo $! >/tmp/monitor.pid')
    guest.sh('exec 3>/tmp/monitor.in')
    guest.wait_event(lambda e: e.get('event') == 'started', 'the monitor started', 60)
    pid = guest.sh('cat /tmp/monitor.pid').strip()

    class Observe:
        @staticmethod
        def count():
            since = guest.mark()
            guest.sh(f'echo "read {COUNTER}" >&3')
            event = guest.wait_event(lambda e: e.get('event') == 'read' and
                                     e['id'] == COUNTER, 'a readout', 60, since)
            return event['values']['Count']

        @staticmethod
        def mark():
            return guest.mark()

        @staticmethod
        def changes(since):
            return len(guest.events_since(since, lambda e: e.get('event') == 'changed' and
                                          e['id'] == STATE))

        @staticmethod
        def activity():
            return guest.mark()

    rows = bench.sweep('monitor', pid, periods, count, reps, Observe)
    guest.sh('echo quit >&3; wait $(cat /tmp/monitor.pid); exec 3>&-')
    return rows


# ---------------------------------------------------------------- kithd and a friend

def kithd_runs(bench, server, periods, count, reps, toggles):
    guest = bench.guest
    pid = friend.start_kithd(guest, server.kithd_config(BUSES) + os.environ.get('KITH_BENCH_EXTRA', ''))
    peer = server.world.peer('alice')
    arrivals = []  # (host monotonic time, stanza) as the friend's stream parsed them
    record = peer.inbox.add

    def stamp(stanza):
        arrivals.append((time.monotonic(), stanza))
        record(stanza)
    peer.inbox.add = stamp

    def jid(device):
        return f'{device}@{server.domain}'
    for device in (STATE, COUNTER):
        friend.wait_online(peer, f'{jid(device)}/{friend.RESOURCE}', 120)
    befriend(peer, [jid(STATE), jid(COUNTER)], timeout=120)
    time.sleep(2)
    idle_start, idle_cpu = time.monotonic(), bench.cpu_ns(pid)
    time.sleep(10)
    idle_rate = (bench.cpu_ns(pid) - idle_cpu) / (time.monotonic() - idle_start)

    seqnrs = iter(range(1, 100000))

    class Observe:
        @staticmethod
        def count():
            seqnr = str(next(seqnrs))
            _, messages = readout_raw(peer, f'{jid(COUNTER)}/{friend.RESOURCE}', seqnr,
                                      timeout=60)
            return int({f['name']: f['value'] for f in fields_of(messages)}['Count'])

        @staticmethod
        def mark():
            return len(arrivals)

        @staticmethod
        def changes(since):
            return len([1 for _, s in arrivals[since:] if match('presence', jid(STATE))(s)])

        @staticmethod
        def activity():
            return len(arrivals)

    # edge to stanza: one toggle at a time, the line back before the next
    latencies, round_trips = [], []
    pull = bench.pull('BUTTON')
    for i in range(toggles):
        level, status = ('up', 'on') if i % 2 == 0 else ('down', 'off')
        def toggled(stanza, status=status):
            return (match('presence', jid(STATE))(stanza) and
                    stanza.findtext('c:status', None, NS) == status)
        mark, since = len(arrivals), peer.mark()
        sent = time.monotonic()
        guest.sh(f'echo pull-{level} > {pull}')
        peer.wait(toggled, 60, since, f'{status} presence')
        arrived = next(t for t, s in arrivals[mark:] if toggled(s))
        latencies.append(arrived - sent)
        started = time.monotonic()
        guest.sh(':')
        round_trips.append(time.monotonic() - started)
        time.sleep(0.2)
    log(f'edge to stanza: median {statistics.median(latencies) * 1e3:.1f} ms')

    rows = bench.sweep('kithd', pid, periods, count, reps, Observe, idle_rate)
    status = guest.sh(f'kill -TERM {pid}; wait {pid}; echo $?', timeout=120).strip()
    return {'rows': rows, 'latencies': latencies, 'round_trips': round_trips,
            'idle_ns_per_s': idle_rate, 'exit': status}


def tcg_factor(guest, n=20000):
    """how many times longer the guest takes for the same busybox loop than the host"""
    started = time.monotonic()
    guest.sh(':')
    empty = time.monotonic() - started
    started = time.monotonic()
    guest.sh(LOOP.format(n=n), timeout=600)
    in_guest = time.monotonic() - started - empty
    started = time.monotonic()
    subprocess.run(['/bin/busybox', 'sh', '-c', LOOP.format(n=n)], check=True)
    on_host = time.monotonic() - started
    return in_guest / on_host


# ---------------------------------------------------------------- the report

def describe_build(kithd):
    stamp = datetime.datetime.fromtimestamp(os.path.getmtime(kithd)).isoformat(
        timespec='seconds')
    commit = subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'],
                            capture_output=True, text=True, check=False).stdout.strip()
    cpu = re.search(r'model name\s*: (.*)', open('/proc/cpuinfo').read())
    return (f'commit {commit}, kithd built {stamp}; host {cpu.group(1) if cpu else "?"}, '
            f'{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at the end')


def report(accel, factor, monitor, kithd):
    out = []
    ms = [x * 1e3 for x in kithd['latencies']]
    rt = [x * 1e3 for x in kithd['round_trips']]
    out.append(f'Guest: {accel.upper()}, one emulated CPU; the same busybox loop runs '
               f'{factor:.0f}× slower in the guest than on the host.\n')
    out.append('### Pulses with none lost\n')
    out.append('Runs of N pulses generated inside the guest, each level held at least half the '
               'period (no two rising edges closer than the period; a late wake-up of the '
               'emulated machine makes the mean period longer, never a pulse shorter), onto '
               'the counter input, then onto the state input. *counted*: the counter\'s Count '
               '(the monitor\'s readout; kithd\'s XEP-0323 readout) against the pulses; '
               '*changes*: what the state input reported for its edges (monitor: change events; '
               'kithd: presences the friend received; a state input reports the level it reads '
               'when it gets to it, not every edge). *guest CPU busy*: the emulated CPU\'s busy '
               'share while the counter\'s pulses ran (generator, kernel, monitor or kithd). '
               'Pulses/s: counted pulses over the generator\'s time. CPU: the process\'s CPU '
               'time in the guest (emulated) across a run, over its pulses or edges.\n')
    out.append('| period (min) | pulses | mean period | guest CPU busy | late wake-ups (worst) '
               '| monitor counted | monitor changes | **kithd counted** | kithd pulses/s | '
               'friend\'s presences | kithd CPU per pulse, counter | kithd CPU per edge, '
               'state | monitor CPU per pulse |')
    out.append('|---|---|---|---|---|---|---|---|---|---|---|---|---|')

    def counted(row):
        lost = row['pulses'] - row['counted']
        return (f"{row['counted']}" if lost == 0 else
                f"{row['counted']} ({lost} lost, {row['lossy_runs']} of "
                f"{len(row['busy'])} runs)")
    for m, k in zip(monitor, kithd['rows']):
        n = k['pulses']
        out.append(f"| {m['period_us'] / 1000:g} ms | {n} | "
                   f"{k['elapsed_us'] / n / 1000:.2f} ms | "
                   f"{100 * statistics.mean(k['busy']):.0f} % | {k['late']} "
                   f"({k['worst_late_us'] / 1000:.1f} ms) | {counted(m)} | "
                   f"{m['changes']} of {2 * n} | **{counted(k)}** | "
                   f"{k['counted'] / k['elapsed_us'] * 1e6:.0f} | {k['changes']} of {2 * n} | "
                   f"{k['counter_cpu_ns'] / n / 1e3:.0f} µs | "
                   f"{k['state_cpu_ns'] / (2 * n) / 1e3:.0f} µs | "
                   f"{m['counter_cpu_ns'] / m['pulses'] / 1e3:.0f} µs |")
    out.append('')
    out.append('### Edge to the friend\'s stanza\n')
    out.append(f'{len(ms)} toggles of a state input, one at a time: from the host sending the '
               'toggle command to the friend parsing the presence. The path: host → ctl port → '
               'the guest\'s shell → gpio-sim → edge event → kithd → component stream → nc → '
               'xmpp port → QEMU → Prosody → the friend\'s c2s stream.\n')
    out.append('| | median | p90 | max |')
    out.append('|---|---|---|---|')
    out.append(f'| edge to stanza | **{statistics.median(ms):.1f} ms** | '
               f'{statistics.quantiles(ms, n=10, method="inclusive")[-1]:.1f} ms | {max(ms):.1f} ms |')
    out.append(f'| the ctl port\'s round trip (`:`), for comparison | '
               f'{statistics.median(rt):.1f} ms | {statistics.quantiles(rt, n=10, method="inclusive")[-1]:.1f} ms '
               f'| {max(rt):.1f} ms |')
    out.append('')
    out.append(f"kithd idle while befriended: {kithd['idle_ns_per_s'] / 1e6:.2f} ms CPU per "
               f"second (subtracted from kithd's CPU above); exit status after SIGTERM: "
               f"{kithd['exit']}.")
    return '\n'.join(out) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=os.path.join(HERE, 'results-gpio.md'))
    parser.add_argument('--pulses', type=int, default=2000)
    parser.add_argument('--periods', default='5000,2000,1000,500,250',
                        help='pulse periods in µs, comma-separated')
    parser.add_argument('--reps', type=int, default=3, help='runs per period')
    parser.add_argument('--toggles', type=int, default=40)
    args = parser.parse_args()
    build = os.path.join(ROOT, 'build')
    kithd = os.environ.get('KITHD', os.path.join(build, 'src', 'kithd'))
    binaries = [os.environ.get('KITH_BUS_MONITOR',
                               os.path.join(build, 'tests', 'tools', 'kith-bus-monitor')),
                os.path.join(build, 'bench', 'kith-gpio-pulses'), os.path.realpath(kithd)]
    os.environ.setdefault('KITH_HW_CACHE', os.path.join(build, 'tests', 'hw', 'cache'))
    periods = [int(p) for p in args.periods.split(',')]
    work = tempfile.mkdtemp(prefix='kith-bench-gpio-')
    server = friend.Server()
    guest = None
    try:
        guest = boot(binaries, work, server.component_port)
        sysfs, _ = setup_gpio_sim(guest)
        bench = Bench(guest, sysfs)
        factor = tcg_factor(guest)
        monitor = monitor_runs(bench, periods, args.pulses, args.reps)
        results = kithd_runs(bench, server, periods, args.pulses, args.reps, args.toggles)
        text = (f'# GPIO benchmark\n\n{datetime.date.today().isoformat()}, '
                f'{describe_build(kithd)}\n\n'
                f'{report(guest.accel, factor, monitor, results)}')
    except Failed as error:
        print(f'bench: {error} (work folder {work})')
        return 1
    finally:
        if guest is not None:
            guest.close()
        server.close()
    print(text)
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write(text)
    if os.environ.get('KITH_KEEP_TMP') != '1':
        shutil.rmtree(work)
    return 0


if __name__ == '__main__':
    sys.exit(main())
