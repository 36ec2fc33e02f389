# SPDX-License-Identifier: GPL-3.0-or-later
"""kithd in the emulated machine, a friend over XMPP on the host.

The guest has no network interface but its loopback. kithd runs there in component mode (one
XEP-0114 stream for every device, the mode meant for many devices) and connects to
127.0.0.1:5347, where busybox nc relays the one connection to the virtio-serial port "xmpp";
on the host QEMU connects that port to the component port of a Prosody started by the
integration harness (tests/integration/harness.py). A slixmpp friend on that Prosody befriends
a GPIO input, a GPIO output and a BME280, sees a toggled line in its presence and readouts,
switches the output through XEP-0325 (read back from gpio-sim), reads the BME280's datasheet
values, and sees the chip not answering while i2c-stub has no chip at its address.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
# pylint: disable=wrong-import-position
from harness import (NS, DEVICES_COMPONENT, World, befriend, error_of,  # noqa: E402
                     fields_of, match, readout_raw, tail)
from machine import (CONFIG, LINES, Failed, bme280_expected, close, expect,  # noqa: E402
                     load_stub, log, unload_stub)

PORT = 5347  # kithd's server in the guest: the relay on the guest's loopback
RESOURCE = 'kith'
DOOR, RELAY, BME280, TMP102 = 'pins-door', 'pins-relay', 'i2c0-76-bme280', 'i2c0-48-tmp102'
TIMEOUT = 60  # generous: the guest is emulated (TCG) on a machine that may be busy

KITHD_CONFIG = """[kith]
StateDirectory=/tmp/kith

[xmpp]
Mode=component
Server=127.0.0.1
Port={port}
Domain=localhost
ComponentDomain={domain}
ComponentSecret={secret}
Resource={resource}

[friendship]
Policy=open
"""


class Server:
    """a Prosody on 127.0.0.1 with the component devices.localhost (no TLS: the component
    protocol has none, and the friend logs in on loopback)"""

    def __init__(self):
        self.world = World(mode='component', tls=False, start_kithd=False)
        self.prosody = self.world.prosody
        self.component_port = self.prosody.component_port
        self.domain = self.prosody.component_jid(DEVICES_COMPONENT)

    def kithd_config(self, buses):
        """kithd's configuration: this server, and the [bus:…] groups of buses"""
        xmpp = KITHD_CONFIG.format(port=PORT, domain=self.domain, resource=RESOURCE,
                                   secret=self.prosody.component_secret)
        return xmpp + buses[buses.index('[bus:'):]

    def close(self, keep=False):
        if keep:
            print(f'--- prosody log (last 30 lines)\n{tail(self.prosody.log, 30)}')
            os.environ['KITH_KEEP_TMP'] = '1'
            print(f'(prosody folder {self.world.tmp})')
        self.world.close()


def start_kithd(guest, config):
    """the relay, then kithd with this configuration; returns kithd's pid in the guest"""
    guest.write_file('/etc/kithd.conf', config)
    guest.sh('ip link set lo up')
    interfaces = guest.sh('ls /sys/class/net').split()
    expect(interfaces == ['lo'], f'the guest has network interfaces: {interfaces}')
    guest.sh('for i in $(seq 100); do [ -e /dev/vport0p3 ] && break; sleep 0.05; done; '
             '[ -e /dev/vport0p3 ]')
    # one connection at a time, again after it closed (a port opens only once: nc reads and
    # writes it through one descriptor)
    guest.sh(f'(while :; do nc -l -p {PORT} <>/dev/vport0p3 >&0 2>/dev/null; sleep 0.2; '
             'done) </dev/null >/dev/null 2>&1 &')
    listening = f':{PORT:04X} 0*:0000 0A'
    # (nc may listen on IPv6's any address, which takes 127.0.0.1 too)
    found = f'cat /proc/net/tcp /proc/net/tcp6 | grep -q "{listening}"'
    guest.sh(f'for i in $(seq 200); do {found} && break; sleep 0.05; done; {found}')
    guest.sh('mkdir -p /tmp/kith && /usr/bin/kithd --config /etc/kithd.conf '
             '</dev/null >/dev/ttyS0 2>&1 & echo $! >/tmp/kithd.pid')
    return guest.sh('cat /tmp/kithd.pid').strip()


def number(values, name):
    return float(values[name]) if name in values else None


def wait_online(friend, full_jid, timeout=TIMEOUT):
    """the device answers (even "forbidden": it is not a friend yet) once kithd's stream is up
    and the device exists; until then the server or kithd says service-unavailable"""
    def answered():
        error = error_of(friend.ping(full_jid, timeout=10))
        return error is None or error[1] not in ('service-unavailable', 'remote-server-timeout')
    friend.inbox.wait_until(answered, timeout, f'{full_jid} online')


def scenario(guest, checks, server, sysfs, chip):
    def jid(device):
        return f'{device}@{server.domain}'

    def full(device):
        return f'{jid(device)}/{RESOURCE}'

    def line(name, attribute='value'):
        return f'{sysfs}/sim_gpio{LINES[name]}/{attribute}'

    def presence(device, since, show=None, status=None):
        """the first presence from device after since with this show and status (a regex)"""
        def predicate(stanza):
            return (match('presence', jid(device))(stanza) and
                    stanza.get('type') in (None, 'available') and
                    stanza.findtext('c:show', None, NS) == show and
                    re.search(status, stanza.findtext('c:status', '', NS)) is not None)
        return friend.wait(predicate, TIMEOUT, since,
                           f'presence {show or "available"} {status!r} from {device}')

    seqnrs = iter(range(100, 1000))

    def readout(device, failures=None):
        """the fields' values; the failures' texts go to the list failures"""
        seqnr = str(next(seqnrs))
        reply, messages = readout_raw(friend, full(device), seqnr, timeout=TIMEOUT)
        expect(reply.get('type') == 'result', f'readout of {device}: {error_of(reply)}')
        if failures is not None:
            failures += [error.text for m in messages
                         for error in m.findall('sd:failure/sd:error', NS)]
        return {f['name']: f['value'] for f in fields_of(messages)}

    def wait_value(name, want):
        for _ in range(100):
            got = guest.sh(f'cat {line(name)}').strip()
            if got == want:
                return
            guest.sh('sleep 0.1')
        raise Failed(f'{name} is {got}, not {want}')

    friend = server.world.peer('alice')
    devices = (DOOR, RELAY, BME280, TMP102)

    def online():
        start_kithd(guest, server.kithd_config(CONFIG.replace('{chip}', chip)))
        for device in devices:
            wait_online(friend, full(device))
        befriend(friend, [jid(d) for d in devices], timeout=TIMEOUT)
    if not checks.run('kithd in the guest: its devices online over the virtio-serial stream, '
                      'befriended', online):
        return

    def gpio_input():
        since = friend.mark()
        guest.sh(f'echo pull-down > {line("DOOR", "pull")}')  # active low: active
        presence(DOOR, since, status='^on$')
        expect(readout(DOOR).get('State') == 'true', 'the readout does not say State true')
        since = friend.mark()
        guest.sh(f'echo pull-up > {line("DOOR", "pull")}')
        presence(DOOR, since, status='^off$')
        expect(readout(DOOR).get('State') == 'false', 'the readout does not say State false')
    checks.run('xmpp: a toggled GPIO input in the friend\'s presence and readout', gpio_input)

    def gpio_output():
        wait_value('RELAY', '1')  # Initial=true
        for value, level in (('false', '0'), ('true', '1')):
            reply = friend.iq_raw(
                f"<iq type='set' to='{full(RELAY)}'><set xmlns='{NS['ctl']}'>"
                f"<boolean name='Output' value='{value}'/></set></iq>", TIMEOUT)
            expect(reply.get('type') == 'result', f'control: {error_of(reply)}')
            wait_value('RELAY', level)
        expect(readout(RELAY).get('Output') == 'true', 'the readout does not say Output true')
    checks.run('xmpp: an XEP-0325 set switches a GPIO output (read back in gpio-sim)',
               gpio_output)

    def latest(device):
        return [p for p in friend.inbox.items() if match('presence', jid(device))(p)][-1]

    def i2c_readout():
        expect(close(number(readout(TMP102), 'Temperature'), 26.5, 1e-6), 'TMP102: not 26.5 °C')
        values = readout(BME280)
        for name, want, decimals in zip(('Temperature', 'Humidity', 'Pressure'),
                                        bme280_expected(), (2, 1, 2)):
            got = number(values, name)
            expect(close(got, want, 1.5 * 10 ** -decimals),
                   f'{name} {got}, the datasheet says {want:.3f}: {values}')
    checks.run('xmpp: TMP102 and BME280 readouts give the datasheet values', i2c_readout)

    def i2c_not_answering():
        since = friend.mark()
        unload_stub(guest)
        load_stub(guest, [0x18, 0x48, 0x23, 0x50])  # the adapter is back, the BME280 is not
        presence(BME280, since, 'xa',
                 r'^not answering since \d{4}-\d\d-\d\d \d\d:\d\d UTC$')
        # the adapter is back (the TMP102 reads), the chip at 0x76 is not
        expect(close(number(readout(TMP102), 'Temperature'), 26.5, 1e-6), 'the TMP102 does not read')
        failures = []
        values = readout(BME280, failures)
        expect(not values and any('not answering since' in f for f in failures),
               f'readout of a missing chip: {values} {failures}')
        expect(latest(BME280).findtext('c:show', None, NS) == 'xa', 'the BME280 is back')
        since = friend.mark()
        unload_stub(guest)
        load_stub(guest, [0x76, 0x18, 0x48, 0x23, 0x50])
        presence(BME280, since, status='°C')
    checks.run('xmpp: a BME280 gone from the bus is "not answering since", then back',
               i2c_not_answering)

    def clean_stop():
        since = friend.mark()
        status = guest.sh('kill -TERM $(cat /tmp/kithd.pid); wait $(cat /tmp/kithd.pid); '
                          'echo $?', timeout=TIMEOUT).strip()
        expect(status == '0', f'kithd exited with {status}')
        for device in devices:
            friend.wait(match('presence', jid(device), 'unavailable'), TIMEOUT, since,
                        f'unavailable from {device}')
        console = guest.console_text()
        for text in ('AddressSanitizer', 'runtime error:', 'CRITICAL'):
            expect(text not in console, f'{text} on the console')
    checks.run('xmpp: kithd stops on SIGTERM, its devices go unavailable', clean_stop)
    log(f'friend: {len(friend.inbox.items())} stanzas received')
