#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Modbus driver over RTU: a pymodbus RTU server on one end of a socat pty pair, kith on the
other. Values and coalescing, a write, a dead unit beside healthy ones, and the serial adapter
unplugged and plugged back (the pty pair removed and made again): the line reopens by itself.

    KITH_BUS_MONITOR=build/tests/tools/kith-bus-monitor \\
        /usr/bin/python3 drivers/modbus/tests/test_modbus_rtu.py [test name...]
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from modbus_harness import (SLOW, PtyPair, Server, check, f32, is_event, main,  # noqa: E402
                            monitor, requests_of, s16, server)

SDM120 = {"input": {"0": f32(229.75), "6": f32(2.5), "70": f32(49.98), "342": f32(17.5)}}
XYMD02 = {"input": {"1": [s16(234), 611]}, "holding": {"0x101": [1, 0, 0, 0]}}
RELAY = {"coil": {"0": [0, 1]}, "holding": {"0x8000": [100]}}


def line(suite, workdir):
    pair = PtyPair(workdir)
    suite.add_cleanup(pair.stop)
    return pair


def rtu_bus(pair, **keys):
    bus = {"Transport": "rtu", "Device": pair.a, "Baud": 19200, "Parity": "N",
           "Interval": 1, "Timeout": 0.3}
    bus.update(keys)
    return bus


def test_values(suite, workdir):
    """values, coalesced requests, a write, over RTU"""
    pair = line(suite, workdir)
    modbus = server(suite, workdir, {1: XYMD02, 2: SDM120, 3: RELAY}, transport="rtu",
                    device=pair.b)
    mon = monitor(suite, workdir, {"rtu": rtu_bus(
        pair, Units="1:xy-md02;2:eastron-sdm120;3:waveshare-relay-8ch")})
    sensor = mon.wait(is_event("changed", "rtu-1"), 5, "the sensor's values")["values"]
    check(abs(sensor["Temperature"] - 23.4) < 1e-9 and abs(sensor["Humidity"] - 61.1) < 1e-9,
          sensor)
    meter = mon.wait(is_event("changed", "rtu-2"), 5, "the meter's values")["values"]
    check(meter["Voltage"] == 229.75 and meter["Frequency"] == 49.98 and
          meter["TotalActiveEnergy"] == 17.5, meter)
    mon.wait(is_event("changed", "rtu-3"), 5, "the relay's values")
    modbus.log()
    time.sleep(3.1 * SLOW)
    log = modbus.log()
    # whole polls of the meter: from its first request at 0 to its last
    meter = requests_of(log, 2)
    starts = [i for i, entry in enumerate(meter) if entry[2] == 0]
    polls = len(starts) - 1
    check(polls >= 1 and starts[-1] - starts[0] == 3 * polls, meter)
    mon.send("write rtu-3 Relay1 true")
    done = mon.wait(is_event("write", "rtu-3"), 5, "the write")
    check(done["ok"], done)
    check(modbus.get(3, "coil", 0, 2) == [1, 1], modbus.get(3, "coil", 0, 2))


def test_dead_unit(suite, workdir):
    """a unit that never answers on the line: the others keep their period"""
    pair = line(suite, workdir)
    modbus = server(suite, workdir, {1: XYMD02, 2: SDM120, 3: RELAY, 9: {"dead": True}},
                    transport="rtu", device=pair.b)
    mon = monitor(suite, workdir, {"rtu": rtu_bus(
        pair, Units="1:xy-md02;2:eastron-sdm120;3:waveshare-relay-8ch;9:xy-md02")})
    mon.wait(is_event("availability", "rtu-9", answering=False), 5, "the dead unit")
    modbus.log()
    window = 10.0
    time.sleep(window)
    log = modbus.log()
    summary = []
    for unit, address in ((1, 1), (2, 0), (3, 0)):
        times = [e[4] for e in requests_of(log, unit) if e[2] == address]
        gaps = [b - a for a, b in zip(times, times[1:])]
        mean = statistics.mean(gaps)
        summary.append("unit %d: period %.3f s (max %.3f s)" % (unit, mean, max(gaps)))
        check(abs(mean - 1.0) <= 0.1, summary[-1])
    probes = requests_of(log, 9)
    summary.append("dead unit: %d probes in %.0f s" % (len(probes), window))
    print("# " + "; ".join(summary))
    check(len(probes) <= 5, summary[-1])


def test_reopen(suite, workdir):
    """the adapter unplugged: every unit not answering; plugged back: reopened by itself"""
    pair = line(suite, workdir)
    modbus = server(suite, workdir, {1: XYMD02, 2: SDM120}, transport="rtu", device=pair.b)
    mon = monitor(suite, workdir, {"rtu": rtu_bus(pair, Units="1:xy-md02;2:eastron-sdm120",
                                                  BackoffMax=1)})
    mon.wait(is_event("changed", "rtu-2"), 5, "the first poll")
    modbus.stop()
    pair.stop()
    unplugged = time.monotonic()
    down = mon.wait(is_event("availability", "rtu-1", answering=False), 5, "the line going")
    check("the bus is down" in down["reason"], down)
    mon.seen(is_event("availability", "rtu-2", answering=False), 5, "the other unit")
    print("# unplugging seen after %.2f s: %s" % (time.monotonic() - unplugged, down["reason"]))
    time.sleep(1.5)
    pair.start()
    replugged = time.monotonic()
    modbus = Server(workdir, {1: {"input": {"1": [s16(250), 500]}}, 2: SDM120},
                    transport="rtu", device=pair.b)
    suite.add_cleanup(modbus.stop)
    mon.wait(is_event("availability", "rtu-1", answering=True), 5, "the line reopened")
    print("# reopened %.2f s after the adapter came back" % (time.monotonic() - replugged))
    changed = mon.wait(is_event("changed", "rtu-1"), 5, "fresh values")
    check(abs(changed["values"]["Temperature"] - 25.0) < 1e-9, changed)
    check("the line is open again" in mon.log_tail(), mon.log_tail())


TESTS = [test_values, test_dead_unit, test_reopen]

if __name__ == "__main__":
    chosen = [t for t in TESTS if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]]
    main(chosen)
