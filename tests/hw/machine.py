# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulated machine of the hardware tier, shared by tests/hw/test_hw.py and bench/gpio.py.

Debian's own amd64 kernel under qemu-system-x86_64 (KVM when /dev/kvm is usable, TCG
otherwise; KITH_HW_ACCEL=tcg forces it), booted from a small initramfs with gpio-sim (built out
of tree: prepare-kernel.sh) and i2c-stub. The guest has no network; the host reaches it through
virtio-serial ports:

  ttyS0  the console: kernel messages and the drivers' logs (kept as console.log)
  ctl    a shell in the guest, driven from here one line at a time
  mon    kith-bus-monitor's JSON lines
  xmpp   (when asked for) kithd's XMPP stream: in the guest a relay from 127.0.0.1:5347 to
         the port, here a TCP connection to the XMPP server's component port

Environment: KITH_HW_CACHE (the kernel cache; default build/tests/hw/cache), KITH_HW_ACCEL,
KITH_KEEP_TMP=1 keeps the work folder.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = '/sys/kernel/config/gpio-sim/kith'


def log(message):
    print(f'[{time.monotonic() - START:7.1f}s] {message}', flush=True)


START = time.monotonic()


class Failed(Exception):
    pass


# ---------------------------------------------------------------- the guest's initramfs

def shared_libraries(binary):
    out = subprocess.run(['ldd', binary], check=True, capture_output=True, text=True).stdout
    libraries = []
    for line in out.splitlines():
        parts = line.split()
        if '=>' in parts and len(parts) >= 3 and parts[2].startswith('/'):
            libraries.append(parts[2])
        elif parts and parts[0].startswith('/'):
            libraries.append(parts[0])  # the loader
    return libraries


def build_initramfs(kernel_dir, binaries, out):
    stage = tempfile.mkdtemp(prefix='kith-hw-initrd-')
    try:
        def put(source, target, mode=None):
            path = os.path.join(stage, target.lstrip('/'))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            shutil.copyfile(source, path)
            os.chmod(path, mode if mode is not None else os.stat(source).st_mode & 0o777)

        put('/bin/busybox', '/bin/busybox', 0o755)
        put(os.path.join(HERE, 'guest', 'init'), '/init', 0o755)
        for name in os.listdir(os.path.join(kernel_dir, 'modules')):
            put(os.path.join(kernel_dir, 'modules', name), '/modules/' + name, 0o644)
        libraries = set()
        for binary in binaries:
            put(binary, '/usr/bin/' + os.path.basename(binary), 0o755)
            libraries.update(shared_libraries(binary))
        for library in libraries:
            put(os.path.realpath(library), library, 0o755)
        for folder in ('proc', 'sys', 'dev', 'tmp', 'etc', 'sbin', 'usr/sbin'):
            os.makedirs(os.path.join(stage, folder), exist_ok=True)
        files = subprocess.run(['find', '.'], cwd=stage, check=True, capture_output=True)
        cpio = subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet'], cwd=stage,
                              input=files.stdout, check=True, capture_output=True)
        with open(out, 'wb') as f:
            f.write(subprocess.run(['gzip', '-1'], input=cpio.stdout, check=True,
                                   capture_output=True).stdout)
    finally:
        shutil.rmtree(stage)


# ---------------------------------------------------------------- the guest

def kvm_usable():
    """/dev/kvm alone is not enough: some sandboxes have one that cannot run a guest"""
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return False
    with open('/proc/cpuinfo') as f:
        flags = f.read().split()
    return 'vmx' in flags or 'svm' in flags


class Guest:
    def __init__(self, kernel_dir, initrd, work, accel, xmpp_port=None):
        self.work = work
        self.console = os.path.join(work, 'console.log')
        self.events = []
        self.cond = threading.Condition()
        self.counter = 0
        self.accel = accel
        for stale in ('console.log', 'ctl.sock', 'mon.sock'):
            if os.path.exists(os.path.join(work, stale)):
                os.unlink(os.path.join(work, stale))
        ctl, mon = os.path.join(work, 'ctl.sock'), os.path.join(work, 'mon.sock')
        command = [
            'qemu-system-x86_64', '-M', 'pc', '-accel', self.accel,
            '-cpu', 'host' if self.accel == 'kvm' else 'max',
            '-smp', '1', '-m', '512', '-nodefaults', '-display', 'none', '-no-reboot',
            '-monitor', 'none',
            '-chardev', f'file,id=con,path={self.console}', '-serial', 'chardev:con',
            '-device', 'virtio-serial-pci,id=vs',
            '-chardev', f'socket,id=ctl,path={ctl},server=on,wait=on',
            '-device', 'virtserialport,bus=vs.0,nr=1,chardev=ctl,name=ctl',
            '-chardev', f'socket,id=mon,path={mon},server=on,wait=on',
            '-device', 'virtserialport,bus=vs.0,nr=2,chardev=mon,name=mon',
        ]
        if xmpp_port is not None:
            # kithd's XMPP stream: the port is relayed to 127.0.0.1 in the guest, and here
            # it is a TCP connection to the server's component port (again after a close)
            command += [
                '-chardev', f'socket,id=xmpp,host=127.0.0.1,port={xmpp_port},nodelay=on,'
                'reconnect=1',
                '-device', 'virtserialport,bus=vs.0,nr=3,chardev=xmpp,name=xmpp',
            ]
        command += [
            '-kernel', os.path.join(kernel_dir, 'vmlinux'), '-initrd', initrd,
            '-append', 'console=ttyS0 panic=-1 quiet',
        ]
        self.qemu = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(work, 'qemu.log'), 'w'),
                                     stderr=subprocess.STDOUT)
        self.ctl = self._connect(ctl)
        self.mon = self._connect(mon)
        self.buffer = b''
        threading.Thread(target=self._read_monitor, daemon=True).start()
        try:
            self.read_until('guest: ready', 60 if accel == 'tcg' else 20)
        except Failed:
            self.qemu.kill()  # our own qemu, by its pid
            self.qemu.wait()
            raise

    def _connect(self, path):
        deadline = time.monotonic() + 30
        while True:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline or self.qemu.poll() is not None:
                    raise Failed(f'qemu did not open {path}')
                time.sleep(0.05)

    def close(self):
        if self.qemu.poll() is None:
            try:
                self.ctl.sendall(b'poweroff -f\n')
                self.qemu.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.qemu.kill()  # our own qemu, by its pid
                self.qemu.wait()
        self.ctl.close()
        self.mon.close()

    def console_text(self):
        with open(self.console, errors='replace') as f:
            return f.read()

    def read_until(self, text, timeout):
        deadline = time.monotonic() + timeout
        while text not in self.console_text():
            if time.monotonic() > deadline or self.qemu.poll() is not None:
                raise Failed(f'"{text}" did not appear on the console')
            time.sleep(0.05)

    def sh(self, command, timeout=30, check=True):
        """runs one command line in the guest; returns its output"""
        self.counter += 1
        marker = f'@@done{self.counter}'
        self.ctl.sendall(f'{command}\necho "{marker} $?"\n'.encode())
        deadline = time.monotonic() + timeout
        while marker.encode() not in self.buffer:
            self.ctl.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = self.ctl.recv(65536)
            except socket.timeout:
                chunk = None
            if not chunk:
                if time.monotonic() > deadline or chunk == b'':
                    raise Failed(f'guest command timed out: {command}')
                continue
            self.buffer += chunk
        before, _, rest = self.buffer.partition(marker.encode())
        line, _, self.buffer = rest.partition(b'\n')
        status = int(line.strip() or b'0')
        output = before.decode(errors='replace')
        if check and status != 0:
            raise Failed(f'guest command failed ({status}): {command}\n{output}')
        return output

    def write_file(self, path, text):
        data = base64.b64encode(text.encode()).decode()
        self.sh(f"echo '{data}' | base64 -d > {path}")

    def _read_monitor(self):
        pending = b''
        while True:
            try:
                chunk = self.mon.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                with self.cond:
                    self.events.append(event)
                    self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.events)

    def wait_event(self, predicate, what, timeout=15, since=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for event in self.events[since:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failed(f'no event: {what}')
                self.cond.wait(left)

    def events_since(self, since, predicate):
        with self.cond:
            return [e for e in self.events[since:] if predicate(e)]


def changed(device, **values):
    def predicate(event):
        if event.get('event') not in ('changed', 'read') or event.get('id') != device:
            return False
        got = event.get('values', {})
        return all(got.get(k) == v for k, v in values.items())
    return predicate


def availability(device, answering):
    return lambda e: (e.get('event') == 'availability' and e.get('id') == device and
                      e.get('answering') == answering)


# ---------------------------------------------------------------- the simulated hardware

CONFIG = """
[xmpp]
Domain=hw.test

[bus:pins]
Driver=gpio
Chip=kith-sim

[bus:pins:door]
Line=DOOR
Bias=pull-up
ActiveLow=true

[bus:pins:button]
Line=BUTTON
Bias=pull-down
Debounce=200

[bus:pins:meter]
Line=METER
Bias=pull-down
Mode=counter
RateInterval=1

[bus:pins:bouncy]
Line=BOUNCY
Bias=pull-down
Mode=counter
Debounce=200

[bus:pins:relay]
Line=RELAY
Direction=output
Initial=true

[bus:pins:leds]
Chip=/dev/{chip}
Lines=5;6
Fields=Red;Green
Direction=output

[bus:any]
Driver=gpio

[bus:any:sensor]
Line=SENSOR

[bus:i2c0]
Driver=i2c
Adapter=0
Interval=1
Addresses=0x48:tmp102;0x23:bh1750
"""

LINES = {'DOOR': 0, 'BUTTON': 1, 'METER': 2, 'BOUNCY': 3, 'RELAY': 4, 'SENSOR': 7}

# the BMP280 datasheet's calibration example and readings, with humidity trimming
BME280_CALIBRATION = [0x70, 0x6B, 0x43, 0x67, 0x18, 0xFC, 0x7D, 0x8E, 0x43, 0xD6, 0xD0, 0x0B,
                      0x27, 0x0B, 0x8C, 0x00, 0xF9, 0xFF, 0x8C, 0x3C, 0xF8, 0xC6, 0x70, 0x17,
                      0x00, 0x4B]
BME280_HUMIDITY = [0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1E]
BME280_DATA = [0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x6E, 0x5C]


def bme280_expected():
    """the datasheets' floating-point formulas (BME280 8.1), independent of the C code"""
    t1, t2, t3 = 27504, 26435, -1000
    p = [36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000]
    h1, h2, h3, h4, h5, h6 = 75, 362, 0, 313, 50, 30
    adc_p, adc_t, adc_h = 415148, 519888, 0x6E5C
    v1 = (adc_t / 16384.0 - t1 / 1024.0) * t2
    v2 = (adc_t / 131072.0 - t1 / 8192.0) ** 2 * t3
    t_fine = v1 + v2
    temperature = t_fine / 5120.0
    v1 = t_fine / 2.0 - 64000.0
    v2 = v1 * v1 * p[5] / 32768.0 + v1 * p[4] * 2.0
    v2 = v2 / 4.0 + p[3] * 65536.0
    v1 = (p[2] * v1 * v1 / 524288.0 + p[1] * v1) / 524288.0
    v1 = (1.0 + v1 / 32768.0) * p[0]
    pa = (1048576.0 - adc_p - v2 / 4096.0) * 6250.0 / v1
    pa += (p[8] * pa * pa / 2147483648.0 + pa * p[7] / 32768.0 + p[6]) / 16.0
    h = t_fine - 76800.0
    h = (adc_h - (h4 * 64.0 + h5 / 16384.0 * h)) * \
        (h2 / 65536.0 * (1.0 + h6 / 67108864.0 * h * (1.0 + h3 / 67108864.0 * h)))
    h = h * (1.0 - h1 * h / 524288.0)
    return temperature, min(max(h, 0.0), 100.0), pa / 100.0


def i2c_block(guest, address, register, data):
    values = ' '.join(f'0x{b:02x}' for b in data)
    guest.sh(f'i2cset -y 0 0x{address:02x} 0x{register:02x} {values} i')


def load_stub(guest, addresses):
    """i2c-stub with chips at these addresses, their registers preloaded"""
    chips = ','.join(f'0x{a:02x}' for a in addresses)
    guest.sh(f'insmod /modules/i2c-stub.ko chip_addr={chips}')
    guest.sh('for i in $(seq 50); do [ -e /dev/i2c-0 ] && break; sleep 0.1; done; '
             '[ -e /dev/i2c-0 ]')
    if 0x76 in addresses:  # BME280: chip id, calibration, one measurement
        guest.sh('i2cset -y 0 0x76 0xd0 0x60')
        i2c_block(guest, 0x76, 0x88, BME280_CALIBRATION)
        i2c_block(guest, 0x76, 0xE1, BME280_HUMIDITY)
        i2c_block(guest, 0x76, 0xF7, BME280_DATA)
    if 0x18 in addresses:  # MCP9808: ids, 26.25 °C with alert flags set (0xC1A4)
        guest.sh('i2cset -y 0 0x18 0x06 0x5400 w; i2cset -y 0 0x18 0x07 0x0004 w; '
                 'i2cset -y 0 0x18 0x05 0xa4c1 w')
    if 0x48 in addresses:  # TMP102: 26.5 °C (0x1A80; SMBus words are low byte first)
        guest.sh('i2cset -y 0 0x48 0x00 0x801a w')
    if 0x23 in addresses:  # BH1750: the datasheet's 0x8390 = 28067 lx
        guest.sh('i2cset -y 0 0x23 0x00 0x83; i2cset -y 0 0x23 0x01 0x90')


def unload_stub(guest):
    # a readout may have the adapter open this very moment: try again
    guest.sh('for i in $(seq 100); do rmmod i2c_stub 2>/dev/null && break; sleep 0.05; done; '
             '[ ! -e /dev/i2c-0 ]')


def setup_gpio_sim(guest):
    guest.sh(f'mkdir {SIM} {SIM}/bank0 && echo 8 > {SIM}/bank0/num_lines && '
             f'echo kith-sim > {SIM}/bank0/label')
    for name, offset in LINES.items():
        guest.sh(f'mkdir {SIM}/bank0/line{offset} && echo {name} > {SIM}/bank0/line{offset}/name')
    guest.sh(f'echo 1 > {SIM}/live')
    device = guest.sh(f'cat {SIM}/dev_name').strip()
    chip = guest.sh(f'cat {SIM}/bank0/chip_name').strip()
    return f'/sys/devices/platform/{device}/{chip}', chip


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def run(self, name, function):
        started = time.monotonic()
        try:
            function()
            self.passed += 1
            log(f'PASS {name} ({time.monotonic() - started:.1f}s)')
            return True
        except (Failed, AssertionError, TimeoutError) as error:
            self.failed.append(name)
            log(f'FAIL {name}: {error}')
            return False


def expect(condition, message):
    if not condition:
        raise Failed(message)


def close(a, b, epsilon):
    return a is not None and abs(a - b) <= epsilon


# ---------------------------------------------------------------- preparing and booting

def boot(binaries, work, xmpp_port=None):
    """prepares the kernel, packs these binaries with their libraries into an initramfs and
    boots it (KVM if it works, else TCG); returns the Guest"""
    cache = os.environ.get('KITH_HW_CACHE', 'build/tests/hw/cache')
    prepare = subprocess.run(['bash', os.path.join(HERE, 'prepare-kernel.sh'), cache],
                             capture_output=True, text=True)
    if prepare.returncode != 0:
        print(prepare.stderr)
        raise Failed('the kernel could not be prepared')
    kernel_dir = prepare.stdout.strip().splitlines()[-1]
    log(f'kernel ready: {kernel_dir}')
    initrd = os.path.join(work, 'initrd.gz')
    build_initramfs(kernel_dir, binaries, initrd)
    log(f'initramfs: {os.path.getsize(initrd) / 1e6:.1f} MB')
    accel = os.environ.get('KITH_HW_ACCEL', 'kvm' if kvm_usable() else 'tcg')
    try:
        guest = Guest(kernel_dir, initrd, work, accel, xmpp_port)
    except Failed as error:
        if accel != 'kvm':
            raise Failed(f'the guest did not boot: {error}')
        log(f'no boot with KVM ({error}): TCG')
        guest = Guest(kernel_dir, initrd, work, 'tcg', xmpp_port)
    log(f'guest booted ({guest.accel})')
    return guest
