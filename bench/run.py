#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""kithd benchmarks: memory per device, idle wake-ups, readout round trip.

    /usr/bin/python3 bench/run.py [--quick]

Every measurement runs in its own fresh Prosody + kithd on 127.0.0.1,
started through tests/integration/harness.py (imported by path, not
copied).  Prints a markdown table and writes bench/results.md.
See bench/README.md for what each number means.
"""

import argparse
import atexit
import datetime
import glob
import math
import os
import platform
import re
import resource
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))

import harness  # noqa: E402
from harness import NS, befriend, readout_part  # noqa: E402

ONLINE_RE = r'all (\d+) devices online after (\d+) ms'
SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'
SYSTEM_CERT_DIR = '/etc/ssl/certs'
SETTLE_S = 2.0

# ----------------------------------------------------------------------------
# environment


def prepare_environment():
    """Things that would otherwise skew every number.

    - SSL_CERT_FILE / SSL_CERT_DIR: without TlsCaFile kithd respects a
      user-set SSL_CERT_FILE (that is how the naive comparison is made).
      Some shells (this build machine's, for one) export both globally.
      The benchmark's own environment drops them; the trust variants set
      exactly what they need (see BenchWorld).
    - the kithd binary is copied once, so that a rebuild of build/ while
      the benchmark runs cannot mix two versions in one result (KITHD).
    - Prosody logs at 'info' instead of the harness' 'debug': with 500
      sessions the debug log costs the (shared) CPU noticeably.  Nothing
      else in its configuration needs to change for 500 c2s sessions
      (epoll backend; registrations from 127.0.0.1 are never throttled).
    - open files: Prosody needs one fd per session; raise the soft limit.
    - temporary directories in a private parent, so nothing else that
      tidies /tmp/kith-it-* can touch a running benchmark.
    """
    dropped = {k: os.environ.pop(k) for k in ('SSL_CERT_FILE', 'SSL_CERT_DIR')
               if k in os.environ}
    harness.PROSODY_CONFIG = harness.PROSODY_CONFIG.replace(
        'min = "debug"', 'min = "info"')
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    tempfile.tempdir = tempfile.mkdtemp(prefix='kith-bench-')
    if not os.environ.get('KITH_KEEP_TMP'):
        # registered after harness' own atexit hook, so it runs before it:
        # stop whatever is still running here by pid, then remove the tree
        atexit.register(_remove_tree, tempfile.tempdir)
    source = harness.kithd_binary()
    copy = os.path.join(tempfile.tempdir, 'kithd')
    shutil.copy2(source, copy)
    os.environ['KITHD'] = copy
    return dropped, source


def _remove_tree(path):
    harness._reap_all()
    shutil.rmtree(path, ignore_errors=True)


def cmd_out(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return '?'


def machine_info(kithd_source):
    cpu = '?'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    with open('/proc/meminfo') as f:
        mem_kb = int(f.readline().split()[1])
    pkgs = cmd_out('dpkg-query', '-W', '-f', '${Package} ${Version}\n',
                   'prosody', 'libstrophe0', 'libssl3', 'libglib2.0-0',
                   'python3-slixmpp')
    commit = cmd_out('git', '-C', REPO, 'rev-parse', '--short', 'HEAD')
    dirty = cmd_out('git', '-C', REPO, 'status', '--porcelain',
                    '--untracked-files=no')
    kithd = harness.kithd_binary()
    with open(kithd, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    built = datetime.datetime.fromtimestamp(os.path.getmtime(kithd))
    build_dir = os.path.dirname(os.path.dirname(kithd_source))
    fresh = ''
    if os.path.exists(os.path.join(build_dir, 'build.ninja')):
        dry = cmd_out('ninja', '-C', build_dir, '-n')
        fresh = (', build up to date with the work tree'
                 if 'no work to do' in dry else
                 ', build NOT up to date with the work tree')
    return {
        'cpu': cpu, 'cores': os.cpu_count(),
        'mem': f'{mem_kb / 1024 / 1024:.0f} GiB',
        'kernel': platform.release(),
        'packages': pkgs.replace('\n', ', '),
        'commit': commit + (' (+uncommitted changes)' if dirty else ''),
        'kithd': f'{kithd_source} ({cmd_out(kithd, "--version")}, built '
                 f'{built:%Y-%m-%d %H:%M}, sha256 {digest}…{fresh})',
        'date': datetime.datetime.now().astimezone().strftime(
            '%Y-%m-%d %H:%M %Z'),
    }


def loadavg():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


# ----------------------------------------------------------------------------
# /proc readings


def proc_status(pid):
    out = {}
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'VmHWM', 'Threads'):
                out[key] = int(value.split()[0])
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            if line.startswith(('Pss:', 'Anonymous:')):
                out[line.split(':')[0]] = int(line.split()[1])
    return out


def cpu_ms(pid):
    """user + system CPU time of pid (all threads) so far, in ms."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / \
        os.sysconf('SC_CLK_TCK')


def context_switches(pid):
    """{'tid:name': (voluntary, nonvoluntary)} over all threads of pid."""
    out = {}
    for task in glob.glob(f'/proc/{pid}/task/*'):
        try:
            with open(f'{task}/comm') as f:
                name = f.read().strip()
            vol = invol = 0
            with open(f'{task}/status') as f:
                for line in f:
                    if line.startswith('voluntary_ctxt_switches'):
                        vol = int(line.split()[1])
                    elif line.startswith('nonvoluntary_ctxt_switches'):
                        invol = int(line.split()[1])
        except OSError:  # thread ended while we looked
            continue
        out[f'{os.path.basename(task)}:{name}'] = (vol, invol)
    return out


def _log_seconds(line):
    found = re.search(r' (\d\d):(\d\d):(\d\d\.\d+): ', line)
    if not found:
        return None
    h, m, sec = found.groups()
    return int(h) * 3600 + int(m) * 60 + float(sec)


def login_times(kithd):
    """Per device, ms from 'account created' (registration done, the login
    connection starts) to its roster answer (online).  First start only."""
    created, online = {}, {}
    for line in kithd.log_text().splitlines():
        found = re.search(r': (\S+)@\S+: account created$', line)
        if found:
            created[found.group(1)] = _log_seconds(line)
        found = re.search(r'-INFO: [\d:.]+: (\S+): \d+ roster entries$', line)
        if found:
            online.setdefault(found.group(1), _log_seconds(line))
    out = []
    for device, t0 in created.items():
        if device in online:
            out.append(((online[device] - t0) % 86400) * 1000)
    return out


def log_problems(kithd):
    """kithd log lines at warning level or above of this run."""
    return [line for line in kithd.log_text().splitlines()
            if re.search(r'-(WARNING|CRITICAL|ERROR)\b|\*\*', line)]


# ----------------------------------------------------------------------------
# one world = one fresh Prosody + one kithd


TRUST = {
    'cafile': 'TlsCaFile = the test CA',
    'dir': 'no TlsCaFile: system CA directory (+ test CA)',
    'bundle': 'no TlsCaFile, SSL_CERT_FILE = system bundle (+ test CA)',
}


def trust_dir(directory, ca_file):
    """A hashed CA directory like /etc/ssl/certs with the test CA added."""
    os.makedirs(directory)
    count = 0
    for name in os.listdir(SYSTEM_CERT_DIR):
        if re.fullmatch(r'[0-9a-f]{8}\.\d+', name):
            os.symlink(os.path.realpath(os.path.join(SYSTEM_CERT_DIR, name)),
                       os.path.join(directory, name))
            count += 1
    subject_hash = subprocess.run(
        ['openssl', 'x509', '-hash', '-noout', '-in', ca_file],
        capture_output=True, text=True, check=True).stdout.strip()
    suffix = 0
    while os.path.exists(os.path.join(directory, f'{subject_hash}.{suffix}')):
        suffix += 1
    os.symlink(ca_file, os.path.join(directory, f'{subject_hash}.{suffix}'))
    return count + 1


def trust_bundle(path, ca_file):
    """The system CA bundle with the test CA appended."""
    with open(path, 'w') as out:
        for name in (SYSTEM_BUNDLE, ca_file):
            with open(name) as f:
                out.write(f.read().rstrip('\n') + '\n')


class BenchWorld:
    """A fresh Prosody and a kithd with `devices` sim thermometers.

    trust (TLS only): 'cafile' = TlsCaFile is the test CA (what the docs
    recommend); 'dir' = no TlsCaFile, OpenSSL's CA directory is the system
    one plus the test CA (kithd's default trust path); 'bundle' = no
    TlsCaFile, SSL_CERT_FILE set by the user to the system bundle plus the
    test CA (kithd respects a user-chosen trust file; libstrophe then
    parses the whole bundle for every session: the naive setup)."""

    def __init__(self, devices, tls=True, trust='cafile', relays=0):
        self.world = harness.World(tls=tls, start_kithd=False)
        try:
            self.kithd = harness.Kithd(
                self.world.prosody, self.world.tmp, thermometers=devices,
                relays=relays, interval=0,
                tls='required' if tls else 'disabled', start=False,
                # one requester reading one device as fast as it can
                extra_groups={'xmpp': {'RequestRate': '0'}})
            self.world.kithd = self.kithd
            # INFO of domain 'kith' only: one "<device>: N roster entries"
            # line per device when it is online (no libstrophe traffic dump)
            self.kithd.extra_env['G_MESSAGES_DEBUG'] = 'kith'
            if tls and trust != 'cafile':
                ca_file = self.world.prosody.ca_file
                del self.kithd.groups['xmpp']['TlsCaFile']
                self.kithd.write_config()
                if trust == 'dir':
                    path = os.path.join(self.world.tmp, 'trust-dir')
                    trust_dir(path, ca_file)
                    self.kithd.extra_env['SSL_CERT_DIR'] = path
                else:
                    path = os.path.join(self.world.tmp, 'trust-bundle.pem')
                    trust_bundle(path, ca_file)
                    self.kithd.extra_env['SSL_CERT_FILE'] = path
            self.devices = devices + relays
            # Prosody's own start-up is not the devices' cost
            self.prosody_cpu0 = cpu_ms(self.world.prosody.proc.pid)
            self.kithd.start()
        except BaseException:
            self.world.close()
            raise

    @property
    def pid(self):
        return self.kithd.proc.pid

    def wait_all_online(self):
        """Return kithd's own 'all N devices online after X ms' figure."""
        if self.devices == 0:
            time.sleep(0.5)  # no such line without devices; just started
            if not self.kithd.running():
                raise RuntimeError('kithd exited:\n' +
                                   harness.tail(self.kithd.log))
            return 0.0
        timeout = 60 + self.devices * 0.5
        try:
            found = self.kithd.wait_log(ONLINE_RE, timeout=timeout)
        except (TimeoutError, AssertionError) as exc:
            raise RuntimeError(f'{exc}\nkithd log tail:\n'
                               f'{harness.tail(self.kithd.log, 30)}') from None
        if int(found.group(1)) != self.devices:
            raise RuntimeError(f'log says {found.group(0)!r}, expected '
                               f'{self.devices} devices')
        return float(found.group(2))

    def restart(self):
        """SIGTERM kithd, start it again; (exit code, ms to all online)."""
        try:
            code = self.kithd.stop()
        except AssertionError as exc:  # needed SIGKILL: report, no restart
            return str(exc), None
        self.kithd.start()
        return code, self.wait_all_online()

    def close(self):
        code = None
        try:
            if self.kithd.running():
                code = self.kithd.stop()
        except AssertionError as exc:  # needed SIGKILL
            code = f'{exc}'
        finally:
            self.world.close()
        return code


# ----------------------------------------------------------------------------
# 1 + 2: memory


def measure_memory(devices, tls, trust='cafile', restart=False):
    bw = BenchWorld(devices, tls=tls, trust=trust)
    rec = {'devices': devices, 'tls': tls, 'trust': trust if tls else None}
    try:
        rec['online_ms'] = bw.wait_all_online()
        rec['cpu_ms'] = cpu_ms(bw.pid)
        rec['prosody_cpu_ms'] = cpu_ms(bw.world.prosody.proc.pid) - \
            bw.prosody_cpu0
        time.sleep(SETTLE_S)
        rec.update(proc_status(bw.pid))
        rec['prosody_rss'] = proc_status(bw.world.prosody.proc.pid)['VmRSS']
        rec['problems'] = log_problems(bw.kithd)
        logins = login_times(bw.kithd)
        if logins:
            rec['login_median_ms'] = statistics.median(logins)
            rec['slow_logins'] = sum(1 for ms in logins if ms > 500)
            rec['login_max_ms'] = max(logins)
        if restart and devices:
            code, ms = bw.restart()
            rec['restart_exit'] = code
            rec['restart_online_ms'] = ms
            if ms is not None:
                rec['restart_cpu_ms'] = cpu_ms(bw.pid)
    finally:
        rec['exit'] = bw.close()
    return rec


# ----------------------------------------------------------------------------
# 3: idle wake-ups


def measure_idle(devices, seconds):
    bw = BenchWorld(devices, tls=True)
    rec = {'devices': devices, 'seconds': seconds}
    try:
        rec['online_ms'] = bw.wait_all_online()
        time.sleep(SETTLE_S + 3)
        log_before = len(bw.kithd.log_text())
        mem_before = proc_status(bw.pid)
        before = context_switches(bw.pid)
        t0 = time.monotonic()
        time.sleep(seconds)
        after = context_switches(bw.pid)
        elapsed = time.monotonic() - t0
        mem_after = proc_status(bw.pid)
        threads = {}
        for tid in sorted(set(before) | set(after)):
            b = before.get(tid, (0, 0))
            a = after.get(tid, (0, 0))
            threads[tid] = (a[0] - b[0], a[1] - b[1],
                            'started' if tid not in before else
                            'ended' if tid not in after else '')
        vol = sum(v for v, _, _ in threads.values())
        invol = sum(i for _, i, _ in threads.values())
        rec.update(elapsed=elapsed, voluntary=vol, nonvoluntary=invol,
                   per_second=(vol + invol) / elapsed, threads=threads,
                   rss_before=mem_before['VmRSS'],
                   rss_after=mem_after['VmRSS'],
                   log_during=bw.kithd.log_text()[log_before:].strip(),
                   problems=log_problems(bw.kithd))
    finally:
        rec['exit'] = bw.close()
    return rec


# ----------------------------------------------------------------------------
# 4: readout round trip, and the ping floor


def percentile(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def is_iq_reply(iq_id):
    return lambda s: (harness.kind(s) == 'iq' and s.get('id') == iq_id and
                      s.get('type') in ('result', 'error'))


def socket_ports(pid, remote_port):
    """Local TCP ports of pid's sockets connected to 127.0.0.1:remote_port."""
    inodes = set()
    for fd in glob.glob(f'/proc/{pid}/fd/*'):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith('socket:['):
            inodes.add(target[8:-1])
    ports = set()
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            cols = line.split()
            local, remote, inode = cols[1], cols[2], cols[9]
            if inode in inodes and int(remote.split(':')[1], 16) == remote_port:
                ports.add(int(local.split(':')[1], 16))
    return ports


def sniff(server_port, ports, out_path):
    """(Runs as its own process: run.py --sniff ...)  Record kernel
    timestamps of TCP segments with payload on lo between server_port and
    any of ports, until SIGTERM.  Lines: time_ns dir(in|out) kithd_port len."""
    import signal
    import socket
    import struct
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    so_timestampns = getattr(socket, 'SO_TIMESTAMPNS', 35)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sock.setsockopt(socket.SOL_SOCKET, so_timestampns, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(('lo', 0))
    with open(out_path, 'w') as out:
        open(out_path + '.ready', 'w').close()
        try:
            while True:
                data, anc, _, addr = sock.recvmsg(65536, 64)
                if addr[2] != socket.PACKET_OUTGOING or len(data) < 54 or \
                        data[12:14] != b'\x08\x00' or data[23] != 6:
                    continue
                ihl = (data[14] & 0x0f) * 4
                total = struct.unpack('!H', data[16:18])[0]
                tcp = 14 + ihl
                sport, dport = struct.unpack('!HH', data[tcp:tcp + 4])
                payload = total - ihl - (data[tcp + 12] >> 4) * 4
                if payload <= 0:
                    continue
                if sport == server_port and dport in ports:
                    direction, port = 'in', dport
                elif dport == server_port and sport in ports:
                    direction, port = 'out', sport
                else:
                    continue
                stamp = 0
                for level, kind_, value in anc:
                    if level == socket.SOL_SOCKET and kind_ == so_timestampns:
                        sec, nsec = struct.unpack('qq', value[:16])
                        stamp = sec * 10**9 + nsec
                out.write(f'{stamp} {direction} {port} {payload}\n')
        finally:
            out.flush()


def start_sniffer(bw, out_path):
    """A sniffer process for kithd's connections; None if not possible."""
    if os.geteuid() != 0:
        return None
    ports = socket_ports(bw.pid, bw.world.prosody.port)
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), '--sniff',
         str(bw.world.prosody.port), ','.join(map(str, sorted(ports))),
         out_path], stdin=subprocess.DEVNULL)
    harness._processes.append(proc)  # reaped at exit whatever happens
    deadline = time.monotonic() + 10
    while not os.path.exists(out_path + '.ready'):
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            return None
        time.sleep(0.05)
    return proc


def wire_times(path, kinds):
    """kithd's own time per request from the capture: request segment in →
    last answer segment out.  kinds: 'r'/'p' per request in send order.
    Returns ({'r': [...], 'r_first': [...], 'p': [...]}, None) or
    (None, reason)."""
    segs = []
    with open(path) as f:
        for line in f:
            stamp, direction, port, _ = line.split()
            segs.append((int(stamp), direction, int(port)))
    if not segs:
        return None, 'no segments captured'
    inbound = {}
    for _, direction, port in segs:
        if direction == 'in':
            inbound[port] = inbound.get(port, 0) + 1
    port = max(inbound, key=inbound.get) if inbound else None
    segs = [s for s in segs if s[2] == port]
    groups = []
    for stamp, direction, _ in segs:
        if direction == 'in':
            groups.append([stamp, []])
        elif groups:
            groups[-1][1].append(stamp)
    if len(groups) != len(kinds):
        return None, (f'{len(groups)} request segments for {len(kinds)} '
                      'requests')
    out = {'r': [], 'r_first': [], 'p': []}
    for (t_in, outs), kind_ in zip(groups, kinds):
        if not outs:
            return None, 'a request without an answer segment'
        if kind_ == 'r':
            out['r'].append((outs[-1] - t_in) / 1e6)
            out['r_first'].append((outs[0] - t_in) / 1e6)
        else:
            out['p'].append((outs[0] - t_in) / 1e6)
    return out, None


def measure_readout(devices, count, timeout=10):
    bw = BenchWorld(devices, tls=True)
    rec = {'devices': devices, 'count': count}
    try:
        rec['online_ms'] = bw.wait_all_online()
        peer = bw.world.peer('bench')
        full = bw.kithd.full('sim-thermometer-1')
        befriend(peer, [bw.kithd.jid('sim-thermometer-1')])
        readouts, pings, failures, kinds = [], [], [], []
        seq = 0
        capturing = False

        def one_readout(record):
            nonlocal seq
            seq += 1
            seqnr = str(seq)
            iq_id = f'r{seq}'
            xml = (f"<iq type='get' id='{iq_id}' to='{full}'><req xmlns='"
                   f"{NS['sd']}' seqnr='{seqnr}' momentary='true'/></iq>")
            since = peer.mark()
            if capturing:
                kinds.append('r')
            t0 = time.perf_counter()
            peer.send_raw(xml)
            try:
                peer.inbox.wait(
                    lambda s: harness.kind(s) == 'message' and
                    s.get('from') == full and
                    (readout_part(s, seqnr) is not None and
                     readout_part(s, seqnr).get('done') == 'true'),
                    timeout, since, what=f'fields seqnr={seqnr}')
            except TimeoutError as exc:
                failures.append(f'readout {seqnr}: {exc}')
                return
            dt = (time.perf_counter() - t0) * 1000
            reply = peer.inbox.find_all(is_iq_reply(iq_id), since)
            if not reply or reply[0].get('type') != 'result':
                failures.append(f'readout {seqnr}: iq reply '
                                f'{harness.to_string(reply[0]) if reply else None}')
            elif peer.inbox.find_all(
                    lambda s: readout_part(s, seqnr) is not None and
                    s.find('sd:failure', NS) is not None, since):
                failures.append(f'readout {seqnr}: failure message')
            elif record:
                readouts.append(dt)

        def one_ping(record):
            nonlocal seq
            seq += 1
            iq_id = f'p{seq}'
            since = peer.mark()
            if capturing:
                kinds.append('p')
            t0 = time.perf_counter()
            peer.send_raw(f"<iq type='get' id='{iq_id}' to='{full}'>"
                          "<ping xmlns='urn:xmpp:ping'/></iq>")
            try:
                reply = peer.inbox.wait(is_iq_reply(iq_id), timeout, since,
                                        what=f'ping {iq_id}')
            except TimeoutError as exc:
                failures.append(f'ping {iq_id}: {exc}')
                return
            dt = (time.perf_counter() - t0) * 1000
            if reply.get('type') != 'result':
                failures.append(f'ping {iq_id}: {harness.to_string(reply)}')
            elif record:
                pings.append(dt)

        for _ in range(20):  # warm-up, not recorded
            one_readout(False)
            one_ping(False)
        rss_before = proc_status(bw.pid)['VmRSS']
        # alternate, so that machine noise hits both series alike
        for _ in range(count):
            one_readout(True)
            one_ping(True)
            if len(failures) > 20:
                break
        rss_after = proc_status(bw.pid)['VmRSS']
        # then a separate series with a packet capture on lo, which times
        # kithd alone (the capture process would disturb the series above)
        capture = os.path.join(bw.world.tmp, 'wire.txt')
        sniffer = start_sniffer(bw, capture)
        if sniffer is None:
            rec['wire'], rec['wire_error'] = None, 'no capture (needs root)'
        else:
            time.sleep(0.2)
            capturing = True
            for _ in range(min(count, 500)):
                one_readout(False)
                one_ping(False)
            capturing = False
            time.sleep(0.2)
            sniffer.terminate()
            sniffer.wait(10)
            rec['wire'], rec['wire_error'] = wire_times(capture, kinds)
        rec.update(readout=readouts, ping=pings, failures=failures,
                   rss_before=rss_before,
                   rss_after=rss_after, problems=log_problems(bw.kithd))
    finally:
        rec['exit'] = bw.close()
    return rec


# ----------------------------------------------------------------------------
# running and reporting


def run_step(label, fn, *args, **kwargs):
    sys.stderr.write(f'[{time.strftime("%H:%M:%S")}] {label} '
                     f'(load {loadavg()}) ... ')
    sys.stderr.flush()
    t0 = time.monotonic()
    try:
        rec = fn(*args, **kwargs)
    except Exception as exc:  # reported, not hidden
        sys.stderr.write(f'FAILED after {time.monotonic() - t0:.0f} s\n')
        traceback.print_exc()
        return {'error': f'{type(exc).__name__}: {exc}'}
    sys.stderr.write(f'done in {time.monotonic() - t0:.0f} s\n')
    return rec


def med(recs, key):
    values = [r[key] for r in recs if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt_kb(kb):
    if kb is None:
        return '–'
    return f'{kb / 1024:.1f} MB' if kb >= 10240 else f'{kb:.0f} KB'


def spread(recs, key):
    values = [r[key] for r in recs if r.get(key) is not None]
    if not values:
        return '–'
    return f'{min(values):.0f}–{max(values):.0f} ms'


def fmt_per(ms, n):
    return '–' if ms is None else f'{ms / n:.1f}'


def slow_logins(recs):
    parts = [f'{r["slow_logins"]}' for r in recs if 'slow_logins' in r]
    return ', '.join(parts) + ' (per run)' if parts else '–'


def fmt_ms(ms):
    return '' if ms is None else f'{ms:.0f}'


def errors_of(recs):
    return [r['error'] for r in recs if 'error' in r]


def main():
    if len(sys.argv) == 5 and sys.argv[1] == '--sniff':
        sniff(int(sys.argv[2]), {int(p) for p in sys.argv[3].split(',') if p},
              sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--quick', action='store_true',
                    help='1 repetition, 30 s idle window, 300 readouts')
    ap.add_argument('--reps', type=int,
                    help='fresh worlds per memory point (default 3; quick 1)')
    ap.add_argument('--idle-seconds', type=float,
                    help='idle window (default 60; quick 30)')
    ap.add_argument('--count', type=int,
                    help='readouts and pings each (default 1000; quick 300)')
    ap.add_argument('--sizes', default='10,100,500',
                    help='device counts for the memory runs')
    ap.add_argument('--only', default='memory,idle,readout',
                    help='comma-separated parts to run: memory, idle, readout')
    ap.add_argument('--out', default=os.path.join(HERE, 'results.md'))
    args = ap.parse_args()
    parts = set(args.only.split(','))
    if not parts <= {'memory', 'idle', 'readout'}:
        ap.error(f'--only: unknown part in {args.only!r}')
    reps = args.reps or (1 if args.quick else 3)
    idle_s = args.idle_seconds or (30 if args.quick else 60)
    count = args.count or (300 if args.quick else 1000)
    sizes = [int(s) for s in args.sizes.split(',') if s]

    dropped, kithd_source = prepare_environment()
    info = machine_info(kithd_source)
    info['load_start'] = loadavg()
    t_run = time.monotonic()

    # 1. memory, TLS on and off; 2. naive TLS at 100 devices
    mem = {}
    for tls in (True, False) if 'memory' in parts else ():
        for n in [0] + sizes:
            mem[(tls, n, 'cafile' if tls else None)] = [
                run_step(f'memory N={n} TLS={"on" if tls else "off"} '
                         f'rep {r + 1}/{reps}', measure_memory, n, tls,
                         restart=(r == 0))
                for r in range(reps)]
    naive_n = 100
    for trust in ('dir', 'bundle') if 'memory' in parts else ():
        mem[(True, naive_n, trust)] = [
            run_step(f'memory N={naive_n} TLS=on trust={trust} '
                     f'rep {r + 1}/{reps}', measure_memory, naive_n, True,
                     trust=trust)
            for r in range(reps)]

    # 3. idle
    idle = None
    if 'idle' in parts:
        idle = run_step(f'idle N=50 {idle_s:.0f} s', measure_idle, 50,
                        idle_s)

    # 4. readout round trip with 1 and 50 devices online
    rt = {n: run_step(f'readout N={n} x{count}', measure_readout, n, count)
          for n in ((1, 50) if 'readout' in parts else ())}

    info['load_end'] = loadavg()
    info['duration'] = f'{(time.monotonic() - t_run) / 60:.1f} min'
    text = report(info, mem, sizes, naive_n, idle, rt, reps, idle_s, count,
                  dropped)
    with open(args.out, 'w') as f:
        f.write(text)
    print(text)
    sys.stderr.write(f'wrote {args.out}\n')


def report(info, mem, sizes, naive_n, idle, rt, reps, idle_s, count,
           dropped):
    out = []
    w = out.append
    w('# kithd benchmark results\n')
    w(f'Generated by `bench/run.py` on {info["date"]}: commit '
      f'{info["commit"]}, {info["kithd"]}.  ')
    w(f'Machine: {info["cpu"]}, {info["cores"]} cores, {info["mem"]}, '
      f'Linux {info["kernel"]}; {info["packages"]}.  ')
    w(f'Load average at start {info["load_start"]}, at end '
      f'{info["load_end"]}; run took {info["duration"]}. Memory points: '
      f'median of {reps} fresh world(s); idle window {idle_s:.0f} s; '
      f'{count} readouts and {count} pings, alternating.\n')
    if dropped:
        w(f'(Removed from the environment before starting anything: '
          f'{", ".join(f"{k}={v}" for k, v in dropped.items())}.)\n')

    w('| measure | devices | TLS | result | detail |')
    w('|---|---|---|---|---|')
    problems = []

    def key(tls, n):
        return (tls, n, 'cafile' if tls else None)

    def base(tls):
        recs = mem.get(key(tls, 0), [])
        return med(recs, 'VmRSS'), med(recs, 'Pss'), med(recs, 'Anonymous')

    for tls in (True, False) if mem else ():
        t = 'on' if tls else 'off'
        rss0, pss0, anon0 = base(tls)
        prev = None
        recs = mem[key(tls, 0)]
        problems += errors_of(recs)
        w(f'| RSS, base (empty bus) | 0 | {t} | {fmt_kb(rss0)} | '
          f'Pss {fmt_kb(pss0)} |')
        for n in sizes:
            recs = mem[key(tls, n)]
            problems += errors_of(recs)
            rss, pss = med(recs, 'VmRSS'), med(recs, 'Pss')
            if rss is None or rss0 is None:
                w(f'| RSS per device | {n} | {t} | FAILED | '
                  f'{"; ".join(errors_of(recs))[:200]} |')
                continue
            on = med(recs, 'online_ms')
            re_on = med(recs, 'restart_online_ms')
            anon = med(recs, 'Anonymous')
            marginal = '' if prev is None else (
                f'; marginal {prev[0]}→{n}: '
                f'{fmt_kb((rss - prev[1]) / (n - prev[0]))}')
            prev = (n, rss)
            w(f'| RSS per device | {n} | {t} | **{fmt_kb((rss - rss0) / n)}** '
              f'| RSS {fmt_kb(rss)}{marginal}; per device: Pss '
              f'{fmt_kb((pss - pss0) / n)}, anonymous '
              f'{fmt_kb((anon - anon0) / n)}; '
              f'Prosody RSS {fmt_kb(med(recs, "prosody_rss"))} |')
            w(f'| time to all online | {n} | {t} | {on:.0f} ms | first start '
              f'(registers accounts; range {spread(recs, "online_ms")}); '
              f'restart: {"–" if re_on is None else f"{re_on:.0f} ms"}; '
              f'kithd CPU {med(recs, "cpu_ms") / n:.1f} ms/device '
              f'(restart {fmt_per(med(recs, "restart_cpu_ms"), n)}), '
              f'Prosody CPU {med(recs, "prosody_cpu_ms") / n:.1f} ms/device; '
              f'logins slower than 500 ms: {slow_logins(recs)} |')
    rss0 = base(True)[0] if mem else None
    good = mem.get(key(True, naive_n), [])
    per_good = None
    if med(good, 'VmRSS') is not None and rss0 is not None:
        per_good = (med(good, 'VmRSS') - rss0) / naive_n
    for trust in ('dir', 'bundle'):
        recs = mem.get((True, naive_n, trust))
        if recs is None:
            continue
        problems += errors_of(recs)
        label = {'dir': 'RSS per device, no TlsCaFile (system CA directory)',
                 'bundle': 'RSS per device, naive: SSL_CERT_FILE = system '
                           'bundle'}[trust]
        if med(recs, 'VmRSS') is None or rss0 is None:
            w(f'| {label} | {naive_n} | on | FAILED | '
              f'{"; ".join(errors_of(recs))[:200]} |')
            continue
        per = (med(recs, 'VmRSS') - rss0) / naive_n
        ratio = '' if not per_good else \
            f'; {per / per_good:.1f}× the TlsCaFile run\'s {fmt_kb(per_good)}'
        w(f'| {label} | {naive_n} | on | **{fmt_kb(per)}** | RSS '
          f'{fmt_kb(med(recs, "VmRSS"))}, peak {fmt_kb(med(recs, "VmHWM"))}'
          f'{ratio}; all online after {med(recs, "online_ms"):.0f} ms, '
          f'kithd CPU {med(recs, "cpu_ms") / naive_n:.1f} ms/device |')

    if idle is None:
        pass
    elif 'error' in idle:
        problems.append(idle['error'])
        w('| idle wake-ups per second | 50 | on | FAILED | |')
    else:
        w(f'| idle wake-ups per second | 50 | on | **{idle["per_second"]:.2f}**'
          f' | {idle["voluntary"]} voluntary + {idle["nonvoluntary"]} '
          f'involuntary context switches in {idle["elapsed"]:.0f} s, '
          f'{len(idle["threads"])} threads; RSS {fmt_kb(idle["rss_before"])}'
          f' → {fmt_kb(idle["rss_after"])} |')

    for n, rec in rt.items():
        if 'error' in rec:
            problems.append(rec['error'])
            w(f'| readout round trip | {n} | on | FAILED | |')
            continue
        problems += rec['failures'][:5]
        for name, key in (('readout round trip', 'readout'),
                          ('ping round trip (floor)', 'ping')):
            vals = rec[key]
            if not vals:
                w(f'| {name} | {n} | on | FAILED | |')
                continue
            w(f'| {name}, median / p99 | {n} | on | **{statistics.median(vals):.2f}'
              f' / {percentile(vals, 99):.2f} ms** | {len(vals)} samples, '
              f'min {min(vals):.2f}, max {max(vals):.2f} ms |')
        if rec['readout'] and rec['ping']:
            w(f'| readout minus ping, median | {n} | on | '
              f'{statistics.median(rec["readout"]) - statistics.median(rec["ping"]):.2f} ms'
              f' | what the readout adds over an IQ answered by kithd |')
        wire = rec.get('wire')
        if wire:
            for name, key in (('kithd\'s own time, readout (request in → '
                               '`fields` out)', 'r'),
                              ('kithd\'s own time, readout (request in → '
                               '`accepted` out)', 'r_first'),
                              ('kithd\'s own time, ping', 'p')):
                vals = wire[key]
                w(f'| {name}, median / p99 | {n} | on | '
                  f'{statistics.median(vals):.3f} / '
                  f'{percentile(vals, 99):.3f} ms | TCP segments on lo, '
                  f'kernel timestamps; {len(vals)} samples, max '
                  f'{max(vals):.3f} ms |')
        else:
            w(f'| kithd\'s own time | {n} | on | – | {rec.get("wire_error")} |')

    w('\n## Details\n')
    if mem:
        w('Memory runs (each a fresh Prosody + kithd; KB):\n')
        w('| devices | TLS | trust | VmRSS | Pss | anonymous | VmHWM | threads '
          '| online ms | login median / max ms | logins > 500 ms | kithd CPU ms '
          '| restart ms | Prosody RSS | Prosody CPU ms | exit codes | warnings |')
        w('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
        for (tls, n, trust), recs in mem.items():
            for r in recs:
                if 'error' in r:
                    w(f'| {n} | {"on" if tls else "off"} | | FAILED: '
                      f'{r["error"][:150]} | | | | | | | | | | | | | |')
                    continue
                w(f'| {n} | {"on" if tls else "off"} | '
                  f'{ {"cafile": "TlsCaFile", "dir": "CA directory", "bundle": "system bundle"}.get(trust, "–")}'
                  f' | {r["VmRSS"]} | {r["Pss"]} | {r["Anonymous"]} | {r["VmHWM"]} '
                  f'| {r["Threads"]} | {r["online_ms"]:.0f} | '
                  f'{fmt_ms(r.get("login_median_ms"))} / {fmt_ms(r.get("login_max_ms"))} | '
                  f'{r.get("slow_logins", "")} | {r["cpu_ms"]:.0f} | '
                  f'{fmt_ms(r.get("restart_online_ms"))} | '
                  f'{r["prosody_rss"]} | {r["prosody_cpu_ms"]:.0f} | '
                  f'{", ".join(str(c) for c in (r.get("restart_exit"), r["exit"]) if c is not None)}'
                  f' | {len(r["problems"])} |')
                problems += r['problems'][:3]
    if idle is not None and 'error' not in idle:
        w(f'\nIdle, per thread over {idle["elapsed"]:.1f} s '
          '(voluntary, involuntary):\n')
        for tid, (v, i, note) in idle['threads'].items():
            w(f'- `{tid}`: {v}, {i} {note}')
        w(f'\nkithd log lines during the idle window: '
          f'{len(idle["log_during"].splitlines())}')
        problems += idle['problems'][:3]
    for n, rec in rt.items():
        if 'error' not in rec:
            w(f'\nReadout world N={n}: kithd RSS {rec["rss_before"]} → '
              f'{rec["rss_after"]} KB over the timed requests; '
              f'{len(rec["failures"])} failed requests.')
            problems += rec['problems'][:3]
    if problems:
        w('\n## Problems seen\n')
        for p in problems:
            w(f'- `{p.strip()[:400]}`')
    return '\n'.join(out) + '\n'


if __name__ == '__main__':
    main()
