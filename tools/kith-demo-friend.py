#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""kith demo: a visible friend of kithd's devices.

Logs in (registering the account if needed), asks every device for
friendship, prints each device's presence as it changes, prints a table of
live XEP-0323 readings every few seconds and toggles every relay with
XEP-0325 every ~10 s.  Stops on Ctrl-C or after --duration seconds.

  /usr/bin/python3 tools/kith-demo-friend.py --server 127.0.0.1 --port 5222 \\
      --domain localhost --ca ca.pem --user demo --password secret \\
      --devices sim-thermometer-1,sim-thermometer-2,sim-relay-1

Needs Debian's python3-slixmpp and python3-lxml; the XMPP peer code is
tests/integration/harness.py's (shared with the integration tests).
"""

import argparse
import importlib.util
import os
import signal
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    'harness', os.path.join(REPO, 'tests', 'integration', 'harness.py'))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

CONTROL = 'urn:xmpp:iot:control'


def now():
    return time.strftime('%H:%M:%S')


def say(text):
    print(f'{now()}  {text}', flush=True)


class DemoFriend:
    def __init__(self, args):
        self.args = args
        self.devices = [d.strip() for d in args.devices.split(',') if d.strip()]
        self.peer = harness.Peer(args.server, args.port, args.domain,
                                 args.user, args.password, ca_file=args.ca,
                                 tls=not args.no_tls, resource='demo')
        self.pos = 0              # next inbox stanza to look at
        self.state = {}           # device -> (online, status)
        self.actuator = {}        # device -> True if it advertises control
        self.relay_on = {}        # device -> last known value of its boolean

    def jid(self, device):
        return f'{device}@{self.args.device_domain or self.args.domain}'

    def full(self, device):
        return f'{self.jid(device)}/{self.args.resource}'

    # -- presence ---------------------------------------------------------------

    def befriend(self):
        say(f'logged in as {self.peer.jid}; asking {len(self.devices)} '
            'devices for friendship')
        for device in self.devices:
            self.peer.subscribe(self.jid(device))

    def handle_stanzas(self):
        items = self.peer.inbox.items(self.pos)
        self.pos += len(items)
        for el in items:
            if harness.kind(el) == 'presence':
                self.handle_presence(el)

    def handle_presence(self, el):
        device = harness.bare(el.get('from')).split('@')[0]
        if device not in self.devices:
            return
        type_ = harness.ptype(el)
        if type_ == 'subscribed':
            say(f'{device}: accepted our friend request')
        elif type_ == 'unsubscribed':
            say(f'{device}: refused (or ended) the friendship')
        elif type_ in ('available', 'unavailable'):
            status = el.findtext('c:status', '', harness.NS)
            new = (type_ == 'available', status)
            if device not in self.state and not new[0]:
                self.state[device] = new  # Prosody's bare-JID 'unavailable'
                return                    # while the request is processed
            if self.state.get(device) != new:
                self.state[device] = new
                word = 'online ' if new[0] else 'offline'
                say(f'{device:<24} {word}  {status}')

    def online(self):
        return [d for d in self.devices if self.state.get(d, (False,))[0]]

    # -- readings ---------------------------------------------------------------

    def classify(self, device):
        if device not in self.actuator:
            reply = self.peer.disco_info(self.full(device))
            features = {f.get('var') for f in
                        reply.iterfind('.//disco:feature', harness.NS)}
            self.actuator[device] = CONTROL in features
        return self.actuator[device]

    def read(self, device):
        """{field name: 'value unit'} or an error string."""
        events, err = self.peer.request_data(self.full(device))
        if err is not None:
            return harness.error_of(err)[1] or 'error'
        cells = {}
        for event in events:
            if event['result'] == 'failure':
                return f"read failed: {event.get('error_msg')}"
            for field in event.get('fields', ()):
                value = field['value']
                if field['typename'] == 'boolean':
                    self.relay_on[device] = (field['name'], value == 'true')
                    value = 'on' if value == 'true' else 'off'
                cells[field['name']] = f"{value} {field.get('unit', '')}".strip()
        return cells

    def print_table(self):
        rows = {d: self.read(d) for d in self.online()}
        if not rows:
            say('no device online yet')
            return
        names = []
        for cells in rows.values():
            if isinstance(cells, dict):
                names += [n for n in cells if n not in names]
        width = [max([len(n)] + [len(c.get(n, '')) for c in rows.values()
                                 if isinstance(c, dict)]) for n in names]
        header = '  '.join(f'{n:<{w}}' for n, w in zip(names, width))
        say(f"{'device':<24}  {header}")
        for device, cells in rows.items():
            if isinstance(cells, str):
                line = cells
            else:
                line = '  '.join(f"{cells.get(n, '-'):<{w}}"
                                 for n, w in zip(names, width))
            print(f"{'':10}{device:<24}  {line}", flush=True)

    # -- control ----------------------------------------------------------------

    def toggle_relays(self):
        for device in self.online():
            if not self.classify(device):
                continue
            if device not in self.relay_on:
                self.read(device)
            name, on = self.relay_on.get(device, ('Relay', False))
            value = 'false' if on else 'true'
            result, err = self.peer.set_request(
                self.full(device), [(name, 'boolean', value)])
            if err is not None:
                say(f'{device}: set {name}={value} refused: '
                    f'{harness.error_of(err)[1]}')
            elif result is None:
                say(f'{device}: set {name}={value}: no answer')
            else:
                self.relay_on[device] = (name, not on)
                say(f"{device}: switched {name} {'on' if not on else 'off'}")

    # -- main loop --------------------------------------------------------------

    def run(self):
        self.befriend()
        start = time.monotonic()
        next_read = start + 1
        next_toggle = start + self.args.toggle
        while True:
            clock = time.monotonic()
            if self.args.duration and clock - start >= self.args.duration:
                return
            if clock >= next_read:
                self.print_table()
                next_read = time.monotonic() + self.args.interval
            if clock >= next_toggle:
                self.toggle_relays()
                next_toggle = time.monotonic() + self.args.toggle
            deadline = min(next_read, next_toggle)
            if self.args.duration:
                deadline = min(deadline, start + self.args.duration)
            try:
                self.peer.inbox.wait(lambda _: True,
                                     max(0.0, deadline - time.monotonic()),
                                     since=self.pos)
            except TimeoutError:
                pass
            self.handle_stanzas()


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--server', default='127.0.0.1')
    p.add_argument('--port', type=int, default=5222)
    p.add_argument('--domain', default='localhost')
    p.add_argument('--device-domain', default='',
                   help='domain of the devices when it is not --domain '
                   '(kithd in component mode)')
    p.add_argument('--ca', help='CA file that signed the server certificate')
    p.add_argument('--no-tls', action='store_true',
                   help='do not use STARTTLS (server must allow it)')
    p.add_argument('--user', default='demo')
    p.add_argument('--password', required=True)
    p.add_argument('--devices', required=True,
                   help='comma separated device ids (JID local parts)')
    p.add_argument('--resource', default='kith',
                   help="the devices' resource (kithd's Resource=)")
    p.add_argument('--interval', type=float, default=3,
                   help='seconds between reading tables')
    p.add_argument('--toggle', type=float, default=10,
                   help='seconds between relay toggles')
    p.add_argument('--duration', type=float, default=0,
                   help='stop after this many seconds (0 = until Ctrl-C)')
    return p.parse_args(argv)


def _stop_on_sigterm(_signum, _frame):
    """A SIGTERM (e.g. from scripts/demo.sh) ends the demo like ctrl-c."""
    raise KeyboardInterrupt


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        demo = DemoFriend(args)
    except harness.PeerError as exc:
        print(f'cannot log in: {exc}', file=sys.stderr)
        return 1
    try:
        demo.run()
    except KeyboardInterrupt:
        print()
    finally:
        demo.peer.close()
    say('bye')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
