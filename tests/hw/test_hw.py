#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hardware tier: kith's GPIO and I2C drivers on the kernel's real interfaces.

One boot of the emulated machine (machine.py: Debian's kernel under QEMU with gpio-sim and
i2c-stub, no network in the guest), two parts:

1. kith-bus-monitor runs the drivers in the guest; what they report and actuate is checked
   against gpio-sim's lines and i2c-stub's registers.
2. kithd runs in the guest as the component devices.localhost of a Prosody on the host, its
   stream carried over a virtio-serial port (friend.py); a slixmpp friend on the host sees
   the lines and chips in its presence and readouts and actuates an output.

Environment: KITH_BUS_MONITOR, KITHD, KITH_HW_CACHE (the kernel cache; default
build/tests/hw/cache), KITH_HW_ACCEL, KITH_KEEP_TMP=1 keeps the work folders.
"""

import os
import shutil
import sys
import tempfile

from machine import (CONFIG, LINES, Checks, Failed, availability, boot, bme280_expected,
                     changed, close, expect, load_stub, log, setup_gpio_sim, unload_stub)
import friend


def main():
    bus_monitor = os.environ.get('KITH_BUS_MONITOR', 'build/tests/tools/kith-bus-monitor')
    kithd = os.environ.get('KITHD', os.path.join(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(bus_monitor)))), 'src', 'kithd'))
    if not os.access(kithd, os.X_OK):
        print(f'hw: no kithd at {kithd} (build it or set KITHD)')
        return 1
    work = tempfile.mkdtemp(prefix='kith-hw-')
    binaries = [bus_monitor, shutil.which('i2cset') or '/usr/sbin/i2cset',
                os.path.realpath(kithd)]
    # the server first: the guest's XMPP port connects to it as the machine starts
    server = friend.Server()
    checks = Checks()
    guest = None
    try:
        guest = boot(binaries, work, server.component_port)
        sysfs, chip = setup_gpio_sim(guest)
        load_stub(guest, [0x76, 0x18, 0x48, 0x23, 0x50])
        guest.write_file('/etc/hw.conf', CONFIG.replace('{chip}', chip))
        monitor_scenario(guest, checks, sysfs)
        friend.scenario(guest, checks, server, sysfs, chip)
    except Failed as error:
        checks.failed.append(f'setup: {error}')
        log(f'FAIL {error}')
    finally:
        if guest is not None:
            guest.close()
        server.close(keep=bool(checks.failed))
    total = checks.passed + len(checks.failed)
    log(f'hw checks: {checks.passed} of {total} passed ({guest.accel if guest else "no boot"})')
    if checks.failed:
        if guest is not None:
            print('--- console (last 60 lines)')
            print('\n'.join(guest.console_text().splitlines()[-60:]))
        print(f'(work folder {work})')
    elif os.environ.get('KITH_KEEP_TMP') != '1':
        shutil.rmtree(work)
    return 1 if checks.failed else 0


def monitor_scenario(guest, checks, sysfs):
    def line(name_or_offset, attribute='value'):
        offset = LINES.get(name_or_offset, name_or_offset)
        return f'{sysfs}/sim_gpio{offset}/{attribute}'

    def pull(name, level):
        guest.sh(f'echo pull-{level} > {line(name, "pull")}')

    def value(name):
        return guest.sh(f'cat {line(name)}').strip()

    def check_config():
        out = guest.sh('/usr/bin/kithd --check-config --config /etc/hw.conf')
        for text in ('pins-door', 'i2c0-48-tmp102', '0x76: BME280', '0x18: MCP9808',
                     '0x50: unknown chip'):
            expect(text in out, f'--check-config does not say {text!r}:\n{out}')
    checks.run('kithd --check-config lists the buses, the scan, the unknown chip',
               check_config)

    guest.sh('mkfifo /tmp/monitor.in')
    guest.sh('G_MESSAGES_DEBUG="kith-gpio kith-i2c" /usr/bin/kith-bus-monitor /etc/hw.conf '
             '</tmp/monitor.in >/dev/vport0p2 2>/dev/ttyS0 & echo $! >/tmp/monitor.pid')
    guest.sh('exec 3>/tmp/monitor.in')
    guest.wait_event(lambda e: e.get('event') == 'started', 'the monitor started', 30)

    def monitor(command):
        guest.sh(f'echo "{command}" >&3')

    def gpio_start():
        for device in ('pins-door', 'pins-button', 'pins-meter', 'pins-bouncy', 'pins-relay',
                       'pins-leds', 'any-sensor'):
            guest.wait_event(lambda e, d=device: e.get('event') == 'added' and e['id'] == d,
                             f'{device} added')
        guest.wait_event(changed('pins-door', State=False), 'door closed at start')
        expect(guest.sh(f'cat {line("DOOR", "pull")}').strip() == 'pull-up',
               'Bias=pull-up did not reach the line')
        expect(guest.sh(f'cat {line("BUTTON", "pull")}').strip() == 'pull-down',
               'Bias=pull-down did not reach the line')
        # offsets by path, a line name found on any chip
        guest.wait_event(changed('any-sensor', State=False), 'any-sensor read')
    checks.run('gpio: lines by label, path and name on any chip; bias applied', gpio_start)

    def door_events():
        since = guest.mark()
        pull('DOOR', 'down')  # active low: a closed contact to ground is active
        guest.wait_event(changed('pins-door', State=True), 'door open', since=since)
        since = guest.mark()
        pull('DOOR', 'up')
        guest.wait_event(changed('pins-door', State=False), 'door closed', since=since)
    checks.run('gpio: edges arrive as events (active-low applied)', door_events)

    def counter():
        since = guest.mark()
        guest.sh('; '.join(f'echo pull-up > {line("METER", "pull")}; sleep 0.05; '
                           f'echo pull-down > {line("METER", "pull")}; sleep 0.05'
                           for _ in range(10)))
        guest.wait_event(changed('pins-meter', Count=10), 'ten pulses counted', since=since)
        guest.wait_event(lambda e: changed('pins-meter')(e) and e['values']['Rate'] > 0,
                         'a rate', since=since)
        since = guest.mark()
        monitor('read pins-meter')
        event = guest.wait_event(lambda e: e.get('event') == 'read' and e['id'] == 'pins-meter',
                                 'readout', since=since)
        expect(event['ok'] and event['values']['Count'] == 10, f'readout: {event}')
        expect(not guest.events_since(since, changed('pins-meter', Count=11)), 'counted 11')
    checks.run('gpio: a pulse counter counts every pulse, with a rate', counter)

    def debounce():
        since = guest.mark()
        bounce = line('BOUNCY', 'pull')
        # contact bounce 10 ms apart, settling high, then bouncing back low
        guest.sh('; '.join(f'echo pull-{level} > {bounce}; sleep 0.01'
                           for level in ('up', 'down', 'up', 'down', 'up')))
        guest.sh('sleep 0.5')
        guest.sh('; '.join(f'echo pull-{level} > {bounce}; sleep 0.01'
                           for level in ('down', 'up', 'down')))
        guest.sh('sleep 0.5')
        guest.wait_event(changed('pins-bouncy', Count=1), 'one debounced pulse', since=since)
        expect(not guest.events_since(since, changed('pins-bouncy', Count=2)),
               'a bounce was counted')
        pull('BOUNCY', 'up')
        guest.sh('sleep 0.5')
        pull('BOUNCY', 'down')
        guest.wait_event(changed('pins-bouncy', Count=2), 'a clean pulse', since=since)
        # a debounced state input: one change for the burst
        since = guest.mark()
        button = line('BUTTON', 'pull')
        guest.sh('; '.join(f'echo pull-{level} > {button}; sleep 0.01'
                           for level in ('up', 'down', 'up', 'down', 'up')))
        guest.wait_event(changed('pins-button', State=True), 'button pressed', since=since)
        guest.sh('sleep 0.5')
        events = guest.events_since(since, lambda e: e.get('event') == 'changed' and
                                    e['id'] == 'pins-button')
        expect(len(events) == 1, f'{len(events)} changes for one debounced press: {events}')
    checks.run('gpio: software debounce (200 ms) of 10 ms contact bounce', debounce)

    def outputs():
        expect(value('RELAY') == '1', 'Initial=true did not reach the line')
        since = guest.mark()
        monitor('write pins-relay Output false')
        guest.wait_event(lambda e: e.get('event') == 'write' and e['id'] == 'pins-relay',
                         'write done', since=since)
        expect(value('RELAY') == '0', 'Output=false did not reach the line')
        since = guest.mark()
        monitor('write pins-relay Pulse 700')
        guest.wait_event(lambda e: e.get('event') == 'write' and e['id'] == 'pins-relay',
                         'pulse started', since=since)
        expect(value('RELAY') == '1', 'the pulse did not start')
        guest.wait_event(changed('pins-relay', Output=False, Pulse=0), 'pulse ended',
                         since=guest.mark())
        expect(value('RELAY') == '0', 'the pulse did not end')
        monitor('write pins-leds Green true')
        guest.wait_event(changed('pins-leds', Red=False, Green=True), 'green on')
        expect(value(5) == '0' and value(6) == '1', 'the group did not reach its lines')
    checks.run('gpio: outputs, initial value, writes, a timed pulse, a group', outputs)

    t, h, p = bme280_expected()

    def bme280_ok(e):
        v = e.get('values', {})
        return (changed('i2c0-76-bme280')(e) and close(v.get('Temperature'), t, 0.01) and
                close(v.get('Humidity'), h, 0.1) and close(v.get('Pressure'), p, 0.01))

    def i2c_identify():
        added = {e['id']: e for e in guest.events_since(0, lambda e: e.get('event') == 'added')}
        for device in ('i2c0-48-tmp102', 'i2c0-23-bh1750'):
            expect(device in added, f'{device} (named in Addresses=) is missing')
        for device, model in (('i2c0-76-bme280', 'BME280'), ('i2c0-18-mcp9808', 'MCP9808')):
            event = guest.wait_event(lambda e, d=device: e.get('event') == 'added' and
                                     e['id'] == d, f'{device} found by the scan')
            expect(event['model'] == model and event['key'].endswith(device[-7:].lstrip('-')),
                   f'{device}: {event}')
        ids = [e['id'] for e in guest.events_since(0, lambda e: e.get('event') == 'added')]
        expect(not any(i.startswith('i2c0-50') for i in ids), f'0x50 was guessed: {ids}')
        guest.read_until('0x50: unknown chip', 10)
    checks.run('i2c: the scan identifies chips by their id registers, lists the unknown one',
               i2c_identify)

    def i2c_values():
        guest.wait_event(bme280_ok, f'BME280 {t:.2f} °C {h:.2f} % {p:.2f} hPa')
        guest.wait_event(lambda e: changed('i2c0-18-mcp9808')(e) and
                         close(e['values'].get('Temperature'), 26.25, 1e-6), 'MCP9808 26.25')
        guest.wait_event(lambda e: changed('i2c0-48-tmp102')(e) and
                         close(e['values'].get('Temperature'), 26.5, 1e-6), 'TMP102 26.5')
        guest.wait_event(lambda e: changed('i2c0-23-bh1750')(e) and
                         close(e['values'].get('Illuminance'), 33680 / 1.2, 0.01),
                         'BH1750 28066.7 lx')
        since = guest.mark()
        monitor('read i2c0-76-bme280')
        event = guest.wait_event(lambda e: e.get('event') == 'read' and
                                 e['id'] == 'i2c0-76-bme280', 'readout', since=since)
        expect(event['ok'] and bme280_ok(event), f'readout: {event}')
    checks.run('i2c: compensated values (BME280, MCP9808, TMP102, BH1750)', i2c_values)

    def i2c_gone_and_back():
        since = guest.mark()
        unload_stub(guest)
        guest.wait_event(availability('i2c0-76-bme280', False), 'no adapter: not answering',
                         since=since)
        guest.wait_event(availability('i2c0-48-tmp102', False), 'tmp102 not answering',
                         since=since)
        # the adapter is back, the BME280 is not: it NACKs, the others answer
        since = guest.mark()
        load_stub(guest, [0x18, 0x48, 0x23, 0x50])
        guest.wait_event(availability('i2c0-48-tmp102', True), 'tmp102 back', since=since)
        guest.sh('sleep 2.5')
        events = guest.events_since(since, availability('i2c0-76-bme280', True))
        expect(not events, 'a BME280 that is not there answers')
        monitor('read i2c0-76-bme280')
        event = guest.wait_event(lambda e: e.get('event') == 'read' and
                                 e['id'] == 'i2c0-76-bme280', 'readout', since=since)
        expect(not event['ok'] and 'no answer' in event['error'], f'readout: {event}')
        # and it comes back by itself, configured again
        since = guest.mark()
        unload_stub(guest)
        load_stub(guest, [0x76, 0x18, 0x48, 0x23, 0x50])
        guest.wait_event(availability('i2c0-76-bme280', True), 'bme280 back', since=since)
        guest.wait_event(bme280_ok, 'bme280 values again', since=since)
    checks.run('i2c: a chip that NACKs does not answer, and comes back by itself',
               i2c_gone_and_back)

    def clean_exit():
        guest.sh('echo quit >&3')
        status = guest.sh('wait $(cat /tmp/monitor.pid); echo $?', timeout=60).strip()
        expect(status == '0', f'kith-bus-monitor exited with {status}')
        console = guest.console_text()
        for text in ('AddressSanitizer', 'LeakSanitizer', 'runtime error:', 'CRITICAL'):
            expect(text not in console, f'{text} on the console')
    checks.run('the monitor stops cleanly, nothing critical logged', clean_exit)


if __name__ == '__main__':
    sys.exit(main())
