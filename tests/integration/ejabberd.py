# SPDX-License-Identifier: GPL-3.0-or-later
"""A private ejabberd for kith's integration tests: the second real XMPP
server next to harness.Prosody (Debian 12's `ejabberd` 23.01 on
Erlang/OTP 25), so that XEP-0114 component mode runs against both.

    server = Ejabberd(tmpdir, components=('devices',))   # started
    alice = server.peer('alice')          # registered (IBR), logged in
    comp = server.component('devices')    # devices.localhost connected
    server.stop()                         # nothing of it left running

How it runs: not through `ejabberdctl` (which switches to the `ejabberd`
system user, uses /var/lib/ejabberd and /var/log/ejabberd and names a
distributed node, which starts the global `epmd` daemon), but as

    erl -noinput -start_epmd false -mnesia dir '"<dir>/db"' -s ejabberd

with cwd=<dir> and the environment
    EJABBERD_CONFIG_PATH=<dir>/ejabberd.yml
    EJABBERD_LOG_PATH=<dir>/ejabberd.log     (error.log lands beside it)
    ERL_LIBS=<where Debian puts ejabberd-23.01/, read from ejabberdctl>
    HOME=<dir>                                (no ~/.erlang read or written)
    ERL_CRASH_DUMP=<dir>/erl_crash.dump, ERL_CRASH_DUMP_BYTES=0
and ERL_FLAGS/ERL_AFLAGS/ERL_ZFLAGS, NOTIFY_SOCKET and the like removed.
Without -name/-sname the node is `nonode@nohost`: Erlang distribution is
never started, so no epmd, no cookie, no distribution port, and any
number of these servers can run at once.  Mnesia (accounts, rosters)
still keeps disc tables in <dir>/db, so restart() keeps accounts and
rosters.  The price: `ejabberdctl` cannot talk to this node, so accounts
are made by in-band registration (allowed from 127.0.0.0/8 only, with no
registration rate limit).

Ready means: both the c2s and the component port answer an XMPP stream
header.  A TCP connect is not enough: ejabberd binds its listening
sockets early and only accepts on them once it is fully started (a
SIGTERM in between can hang Mnesia's shutdown).

The Popen'd `erl` script execs beam.smp, so our pid is the VM's.  Its
helpers (erl_child_setup, two `eimp` image workers, inet_gethost, memsup)
are its descendants; stop() sends SIGTERM to the VM (OTP turns it into
init:stop(), a clean shutdown), SIGKILL after the timeout, and then kills
by pid any descendant still alive (normally none: they exit with the VM;
their zombies are reparented to pid 1 until it reaps them).

c2s: 127.0.0.1:<free port>, no TLS by default (SCRAM or PLAIN without
encryption, which ejabberd allows when `starttls_required` is off);
tls=True requires STARTTLS with a throw-away CA (`ca_file`) like
harness.Prosody.  XEP-0114 components `<name>.localhost` all share one
ejabberd_service listener on a free port with one secret.  Modules:
mod_roster, mod_disco, mod_ping, mod_register; presence subscriptions and
probes are ejabberd's core c2s/roster handling.

Times (2 CPUs): ready 1.2-1.8 s after the start (a restart, with the
translation cache already built, is 0.1-0.2 s faster); a clean stop
takes 1.1 s, 1 s of it OTP tearing down its standard I/O server.  After
a SIGKILL, writes of the last second or two may be missing on the next
start (Mnesia had not synced them yet).

What ejabberd does with presence to a component's JIDs (as seen with this
configuration):
  - `subscribe`/`subscribed`/`unsubscribe`... from a user arrive from the
    user's bare JID; available/unavailable presence and probes from the
    full JID;
  - when the component approves a subscription (`subscribed`), ejabberd
    sends it no probe (Prosody 0.12 does, from the bare JID): the
    component has to send its available presence itself;
  - when a user with subscription to/both comes online, the component
    gets a `probe` from the full JID (so does Prosody) and, if the
    contact has a `from` subscription, the user's available presence;
    ejabberd keeps no presence for component JIDs, so only the
    component's answer makes them appear online;
  - the user's available presence may arrive twice around a
    subscription change.
A slixmpp ComponentXMPP (tests/peers/component.py) answers such a probe
by itself, with `unsubscribed` for any JID it has not authorized through
its own roster, which ends the user's subscription; the self-test below
uses `_ManualPresence` to keep presence in the test's hands.

ejabberd's own log is written through a buffered file handler: a line
can show up a second or two after the event (see wait_log).

Run this file to check the server works with slixmpp:
    /usr/bin/python3 tests/integration/ejabberd.py [--tls] [--keep]
"""

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from harness import (Component, Peer, _processes,  # noqa: E402
                     XmppServer, _stop_process, free_port, make_tls,
                     port_accepts, tail, wait_log_lines)

__all__ = ['Ejabberd', 'ejabberd_erl_libs']

DOMAIN = 'localhost'
EJABBERDCTL = '/usr/sbin/ejabberdctl'

# environment variables that would change how `erl` starts (extra flags,
# a node name, distribution) or make ejabberd talk to systemd
_SCRUBBED_ENV = ('ERL_FLAGS', 'ERL_AFLAGS', 'ERL_ZFLAGS', 'ERL_LIBS',
                 'ERL_EPMD_ADDRESS', 'ERL_EPMD_PORT', 'ERL_DIST_PORT',
                 'ERL_INETRC', 'ERL_CRASH_DUMP', 'ERL_CRASH_DUMP_BYTES',
                 'ERL_CRASH_DUMP_SECONDS', 'EJABBERD_CONFIG_PATH',
                 'EJABBERD_LOG_PATH', 'EJABBERD_PID_PATH',
                 'CONTRIB_MODULES_PATH', 'CONTRIB_MODULES_CONF_DIR',
                 'NOTIFY_SOCKET', 'WATCHDOG_PID', 'WATCHDOG_USEC')

EJABBERD_CONFIG = '''# generated by kith's integration harness
hosts:
  - {domain}
loglevel: {loglevel}
hide_sensitive_log_data: false
log_rotate_count: 0
default_db: mnesia
auth_method: internal
auth_password_format: plain
registration_timeout: infinity
{certfiles}
listen:
  -
    port: {port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 1048576
{c2s_tls}
{component_listener}
acl:
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  c2s:
    allow: all
  register:
    allow: all
  trusted_network:
    allow: loopback
modules:
  mod_disco: {{}}
  mod_ping: {{}}
  mod_roster: {{}}
  mod_register:
    access: register
    ip_access: trusted_network
'''

C2S_TLS_ON = '''    starttls: true
    starttls_required: true'''
C2S_TLS_OFF = '''    starttls: false
    starttls_required: false'''


def _yaml_str(value):
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(str(value))


def _erl_str(value):
    """An Erlang string literal, for -mnesia dir."""
    return '"' + value.replace('\\', '\\\\').replace('"', '\\"') + '"'


def ejabberd_erl_libs():
    """The directory that holds Debian's ejabberd-<version>/ application
    (multiarch, e.g. /usr/lib/x86_64-linux-gnu), as ejabberdctl sets
    ERL_LIBS."""
    try:
        with open(EJABBERDCTL) as f:
            found = re.search(r"^ERL_LIBS='([^']+)'", f.read(), re.M)
        if found and glob.glob(os.path.join(found.group(1), 'ejabberd-*',
                                            'ebin', 'ejabberd.app')):
            return found.group(1)
    except OSError:
        pass
    apps = sorted(glob.glob('/usr/lib/*/ejabberd-*/ebin/ejabberd.app') +
                  glob.glob('/usr/lib/erlang/lib/ejabberd-*/ebin/'
                            'ejabberd.app'))
    if not apps:
        raise FileNotFoundError('ejabberd is not installed (apt-get install '
                                'ejabberd)')
    return os.path.dirname(os.path.dirname(os.path.dirname(apps[-1])))


def _erl():
    path = shutil.which('erl') or '/usr/bin/erl'
    if not os.access(path, os.X_OK):
        raise FileNotFoundError('erl not found (apt-get install ejabberd)')
    return path


# -- processes, from /proc ---------------------------------------------------

def _stat(pid):
    """(ppid, start time) of a process, or None if it is gone (a zombie
    is gone: it only waits for its new parent to reap it)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(')') + 2:].split()
    if fields[0] in ('Z', 'X'):
        return None
    return int(fields[1]), int(fields[19])


def _descendants(pid):
    """{pid: start time} of every live descendant of `pid`."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None:
                children.setdefault(info[0], []).append((int(entry),
                                                         info[1]))
    out = {}
    todo = [pid]
    while todo:
        for child, start in children.get(todo.pop(), ()):
            out[child] = start
            todo.append(child)
    return out


def _alive(processes):
    """The (pid, start time) pairs that still name the same process."""
    alive = {}
    for pid, start in processes.items():
        info = _stat(pid)
        if info is not None and info[1] == start:
            alive[pid] = start
    return alive


# ----------------------------------------------------------------------------

class Ejabberd(XmppServer):
    """An ejabberd on 127.0.0.1:<free port> serving 'localhost'.

    Same interface as harness.Prosody where it makes sense: `port`,
    `component_port`, `component_secret`, `component_jid(name)`, `tls`,
    `ca_file`, `log`, `dir`, start/stop/restart, peer/register.  The
    Mnesia directory lives in <tmpdir>/ejabberd/db, so accounts and
    rosters survive restart()."""

    domain = DOMAIN
    host = '127.0.0.1'

    def __init__(self, tmpdir, components=('devices',), tls=False,
                 loglevel='info', start=True):
        self.dir = os.path.join(tmpdir, 'ejabberd')
        self.db = os.path.join(self.dir, 'db')
        os.makedirs(self.db, exist_ok=True)
        self.port = free_port()
        self.components = tuple(components)
        self.component_port = free_port() if self.components else None
        self.component_secret = 'kith-component-secret'
        self.tls = tls
        self.ca_file = None
        self.log = os.path.join(self.dir, 'ejabberd.log')
        self.error_log = os.path.join(self.dir, 'error.log')
        self.out = os.path.join(self.dir, 'ejabberd.out')
        self.config = os.path.join(self.dir, 'ejabberd.yml')
        certfiles = ''
        if tls:
            self.ca_file, cert, key = make_tls(self.dir)
            # ca_file: what ejabberd checks its own certificate against
            certfiles = (f'ca_file: {_yaml_str(self.ca_file)}\n'
                         f'certfiles:\n  - {_yaml_str(cert)}\n'
                         f'  - {_yaml_str(key)}')
        component_listener = ''
        if self.components:
            hosts = ''.join(
                f'      {_yaml_str(self.component_jid(name))}:\n'
                f'        password: {_yaml_str(self.component_secret)}\n'
                for name in self.components)
            component_listener = (
                '  -\n'
                f'    port: {self.component_port}\n'
                '    ip: "127.0.0.1"\n'
                '    module: ejabberd_service\n'
                '    hosts:\n' + hosts.rstrip('\n'))
        with open(self.config, 'w') as f:
            f.write(EJABBERD_CONFIG.format(
                domain=self.domain, loglevel=loglevel, port=self.port,
                certfiles=certfiles,
                c2s_tls=C2S_TLS_ON if tls else C2S_TLS_OFF,
                component_listener=component_listener))
        self.proc = None
        self.start_seconds = None   # how long the last start() took
        self._helpers = {}
        if start:
            self.start()

    # -- process --------------------------------------------------------------

    def command(self):
        return [_erl(), '-noinput', '-start_epmd', 'false',
                '-mnesia', 'dir', _erl_str(self.db), '-s', 'ejabberd']

    def environment(self):
        env = {k: v for k, v in os.environ.items()
               if k not in _SCRUBBED_ENV}
        env.update({
            'HOME': self.dir,
            'EJABBERD_CONFIG_PATH': self.config,
            'EJABBERD_LOG_PATH': self.log,
            'ERL_LIBS': ejabberd_erl_libs(),
            'ERL_CRASH_DUMP': os.path.join(self.dir, 'erl_crash.dump'),
            'ERL_CRASH_DUMP_BYTES': '0',
        })
        return env

    def start(self, timeout=30):
        if self.running():
            return
        began = time.monotonic()
        with open(self.out, 'ab') as out:
            out.write(f'=== harness: starting ejabberd {time.ctime()} ===\n'
                      .encode())
            out.flush()
            self.proc = subprocess.Popen(
                self.command(), cwd=self.dir, env=self.environment(),
                stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        _processes.append(self.proc)
        deadline = began + timeout
        # ejabberd binds its listening sockets early in its start-up but
        # accepts on them only once it is fully started: a TCP connect
        # succeeds long before that (the kernel queues it), an XMPP stream
        # header is answered only then
        while not (self._answers(self.port, 'jabber:client', self.domain)
                   and (self.component_port is None or self._answers(
                       self.component_port, 'jabber:component:accept',
                       self.component_jid(self.components[0])))):
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise RuntimeError(f'ejabberd exited ({code}):\n'
                                   f'{self._failure_text()}')
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f'ejabberd not listening on {self.port}'
                                   f' after {timeout} s:\n'
                                   f'{self._failure_text()}')
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - began
        self._helpers = _descendants(self.proc.pid)

    @staticmethod
    def _answers(port, xmlns, to, timeout=0.5):
        """Does 127.0.0.1:port answer an XMPP stream header?"""
        if not port_accepts(port):
            return False
        header = ("<?xml version='1.0'?><stream:stream xmlns='" + xmlns +
                  "' xmlns:stream='http://etherx.jabber.org/streams' "
                  f"to='{to}' version='1.0'>")
        try:
            with socket.create_connection(('127.0.0.1', port),
                                          timeout=timeout) as sock:
                sock.sendall(header.encode())
                data = b''
                while b'<stream:stream' not in data:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return False
                    data += chunk
                sock.sendall(b'</stream:stream>')
                return True
        except OSError:
            return False

    def _failure_text(self):
        return (f'--- {self.log} ---\n{tail(self.log, 30)}'
                f'--- {self.out} ---\n{tail(self.out, 30)}')

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def pids(self):
        """Pids of the VM and its helper processes that are still alive."""
        found = dict(self._helpers)
        if self.running():
            found.update(_descendants(self.proc.pid))
            return [self.proc.pid, *sorted(_alive(found))]
        return sorted(_alive(found))

    def stop(self, timeout=10):
        """SIGTERM to the VM (a clean init:stop()), SIGKILL after `timeout`;
        then any helper process still alive is killed by its pid.
        Returns the VM's exit code."""
        if self.proc is None:
            return None
        helpers = dict(self._helpers)
        if self.proc.poll() is None:
            helpers.update(_descendants(self.proc.pid))
        code, _ = _stop_process(self.proc, timeout)
        self.proc = None
        # they exit as soon as the VM is gone (their pipes close)
        deadline = time.monotonic() + 1
        left = _alive(helpers)
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = _alive(left)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._helpers = {}
        return code

    # -- XMPP -----------------------------------------------------------------

    def component(self, name, cls=Component, **kwargs):
        """Connect a Component (tests/peers/component.py) as
        <name>.localhost, which must be one of `components`."""
        if name not in self.components:
            raise ValueError(f'{name} is not a component of this ejabberd')
        return cls(self.host, self.component_port, self.component_jid(name),
                   self.component_secret, **kwargs)

    def peer(self, user, password=None, **kwargs):
        """A logged-in Peer; by default it registers the account first
        (in-band, an existing account is fine)."""
        return Peer(self.host, self.port, self.domain, user,
                    password or f'{user}-secret', ca_file=self.ca_file,
                    tls=self.tls, **kwargs)

    def register(self, user, password):
        """Create an account (in-band registration, then log out)."""
        self.peer(user, password, register=True).close()

    # -- its log --------------------------------------------------------------

    def log_lines(self):
        try:
            with open(self.log, errors='replace') as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_log(self, regex, count=1, timeout=10):
        """Wait until `regex` matches `count` lines of ejabberd's log
        (buffered: allow a few seconds)."""
        return wait_log_lines(self.log_lines, regex, count, timeout,
                              'ejabberd')


# ----------------------------------------------------------------------------

class _ManualPresence(Component):
    """A Component that leaves all presence to the test: slixmpp's
    component roster would otherwise answer probes for JIDs it has not
    authorized itself with `unsubscribed`."""

    def _make(self):
        xmpp = super()._make()
        xmpp.auto_authorize = None
        xmpp.auto_subscribe = False
        xmpp.del_event_handler('presence_probe', xmpp._handle_probe)
        return xmpp


def _self_test(tls=False, keep=False):
    """Start ejabberd, connect devices.localhost and a client, check that
    IQs and presence reach the component, restart, stop, and check that no
    process is left."""
    import tempfile
    from harness import match, ptype

    def say(text):
        print(text, flush=True)

    def check(condition, what):
        if not condition:
            raise AssertionError(what)

    tmp = tempfile.mkdtemp(prefix='kith-ejabberd-')
    server = comp = alice = None
    seen = {}   # pid: start time of every process of the server

    def remember():
        for pid in server.pids():
            info = _stat(pid)
            if info is not None:
                seen[pid] = info[1]
    try:
        server = Ejabberd(tmp, components=('devices',), tls=tls)
        say(f'started in {server.start_seconds:.2f} s: c2s {server.port}, '
            f'component {server.component_port}, tls={tls}')
        remember()
        comp = server.component('devices', _ManualPresence)
        say(f'component {comp.jid} connected')
        alice = server.peer('alice')
        say(f'{alice.jid} registered and logged in')
        device = 'x@devices.localhost'

        # an IQ ping to a JID at the component reaches the component
        since = comp.mark()
        reply = alice.ping(device)
        check(reply.get('type') == 'result', f'ping reply {reply.attrib}')
        ping = comp.inbox.wait(match('iq', type_='get', child='ping:ping'),
                               5, since, what='ping at the component')
        check(ping.get('to') == device, f'ping {ping.attrib}')
        say(f'ping: to={ping.get("to")} from={ping.get("from")}')

        # a presence subscription reaches it as well
        since = comp.mark()
        alice.subscribe(device)
        sub = comp.inbox.wait(match('presence', type_='subscribe'), 5, since,
                              what='subscribe at the component')
        say(f'subscribe: to={sub.get("to")} from={sub.get("from")} '
            f'({"bare" if "/" not in sub.get("from") else "full"} from)')

        # the device accepts, asks back, and says it is available
        comp.send_raw(f"<presence from='{device}' to='{alice.bare}' "
                      "type='subscribed'/>")
        comp.send_raw(f"<presence from='{device}' to='{alice.bare}' "
                      "type='subscribe'/>")
        comp.send_raw(f"<presence from='{device}/kith' to='{alice.bare}'/>")
        alice.wait_roster(device, ('both',), 10)
        alice.wait_presence(device, 'available', 0, 10)
        subscribed = comp.inbox.wait(match('presence', type_='subscribed'),
                                     5, since, what='subscribed from alice')
        alice.barrier(device)  # all alice's slixmpp sent is at comp now
        say(f'roster: alice <-> {device} both; alice sent subscribed '
            f'from={subscribed.get("from")}')
        for el in comp.inbox.items(since):
            if el.tag.endswith('presence'):
                say(f'  component got presence type={ptype(el)} '
                    f'from={el.get("from")} to={el.get("to")}')

        # alice goes away and comes back: probe and available presence
        since = comp.mark()
        alice.close()
        comp.inbox.wait(match('presence', type_='unavailable'), 5, since,
                        what='unavailable from alice')
        alice = server.peer('alice')
        probe = comp.inbox.wait(match('presence', type_='probe'), 5, since,
                                what='probe at the component')
        avail = comp.inbox.wait(match('presence', type_='available'), 5,
                                since, what='available at the component')
        # the server keeps no presence for component JIDs: the device
        # answers the probe itself
        comp.send_raw(f"<presence from='{device}/kith' "
                      f"to='{probe.get('from')}'/>")
        alice.wait_presence(device, 'available', 0, 10)
        say(f'after re-login: probe to={probe.get("to")} '
            f'from={probe.get("from")}; available from={avail.get("from")}')
        for el in comp.inbox.items(since):
            if el.tag.endswith('presence'):
                say(f'  component got presence type={ptype(el)} '
                    f'from={el.get("from")} to={el.get("to")}')

        # accounts and rosters survive a restart
        alice.close()
        comp.stop()
        began = time.monotonic()
        server.stop()
        say(f'stopped in {time.monotonic() - began:.2f} s')
        server.start()
        say(f'restarted in {server.start_seconds:.2f} s')
        remember()
        comp = server.component('devices', _ManualPresence)
        alice = server.peer('alice', register=False)
        state = alice.roster_subscription(device)
        check(state == 'both', f'roster after restart: {state}')
        say('after restart: alice logs in without registering, roster '
            'still both')
        alice.close()
        alice = None
        comp.stop()
        comp = None
        began = time.monotonic()
        server.stop()
        say(f'stopped in {time.monotonic() - began:.2f} s')
        left = _alive(seen)
        # (zombies of the helpers, reparented to pid 1 until it reaps
        # them, are not processes that run: `ps` shows them as <defunct>)
        ps = subprocess.run(['ps', '-eo', 'pid,ppid,stat,comm,args'],
                            capture_output=True, text=True).stdout
        related = [line for line in ps.splitlines()[1:]
                   if re.match(r'\s*\d+\s+\d+\s+[^Z\s]\S*\s+(beam|epmd|'
                               r'erl_child|eimp|inet_gethost|memsup|cpu_sup)',
                               line) or tmp in line]
        say(f'processes we started still alive: {sorted(left) or "none"}; '
            f'beam/epmd/ejabberd processes: {related or "none"}')
        check(not left and not related, 'processes left behind')
        say('ok')
    finally:
        for thing in (alice, comp):
            if thing is not None:
                try:
                    thing.close()
                except Exception:
                    pass
        if server is not None:
            server.stop()
        if keep:
            print(f'kept {tmp}')
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    _self_test(tls='--tls' in sys.argv[1:], keep='--keep' in sys.argv[1:])
