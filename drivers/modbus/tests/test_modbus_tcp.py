#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Modbus driver over TCP against a real pymodbus server on 127.0.0.1: profile values,
coalesced requests (counted by the server), writes, a dead unit beside healthy ones, a unit that
comes back, a merged read refused that splits itself, the discovery sweep, bad profiles.

    KITH_BUS_MONITOR=build/tests/tools/kith-bus-monitor KITHD=build/src/kithd \\
        /usr/bin/python3 drivers/modbus/tests/test_modbus_tcp.py [test name...]
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from modbus_harness import (SLOW, check, f32, is_event, kithd_path, main, monitor,  # noqa: E402
                            requests_of, s16, server)

SDM120 = {
    "input": {"0": f32(230.5), "6": f32(1.25), "12": f32(288.1), "30": f32(0.98),
              "70": f32(50.0), "72": f32(1234.5), "342": f32(1300.25)},
    "identity": {"vendor": "Eastron", "product": "SDM120-M", "revision": "2.1"},
}
XYMD02 = {"input": {"1": [s16(-55), 456]}, "holding": {"0x101": [2, 0, 0, 0]}}
RELAY = {"coil": {"0": [1, 0, 1]}, "holding": {"0x8000": [102]}}


def tcp_bus(modbus, **keys):
    bus = {"Transport": "tcp", "Host": "127.0.0.1", "Port": modbus.port, "Interval": 1,
           "Timeout": 0.5}
    bus.update(keys)
    return bus


def test_values(suite, workdir):
    """a profile's registers become the device's values, decoded and scaled"""
    modbus = server(suite, workdir, {1: SDM120, 2: XYMD02, 5: RELAY})
    mon = monitor(suite, workdir, {"mb": tcp_bus(
        modbus, Units="1:eastron-sdm120;2:xy-md02;5:waveshare-relay-8ch")})
    meter = mon.wait(is_event("changed", "mb-1"), 5, "the meter's values")["values"]
    check(meter["Voltage"] == 230.5 and meter["Current"] == 1.25, meter)
    check(meter["ActivePower"] == 288.1 and meter["PowerFactor"] == 0.98, meter)
    check(meter["Frequency"] == 50 and meter["TotalActiveEnergy"] == 1300.25, meter)
    sensor = mon.wait(is_event("changed", "mb-2"), 5, "the sensor's values")["values"]
    check(abs(sensor["Temperature"] + 5.5) < 1e-9 and abs(sensor["Humidity"] - 45.6) < 1e-9,
          sensor)
    check(sensor["DeviceAddress"] == 2, sensor)
    relay = mon.wait(is_event("changed", "mb-5"), 5, "the relay's values")["values"]
    check(relay["Relay1"] is True and relay["Relay2"] is False and relay["Relay3"] is True,
          relay)
    check(abs(relay["FirmwareVersion"] - 1.02) < 1e-9, relay)
    # a readout reads the unit now
    modbus.command("set 2 input 1 %d" % s16(231))
    mon.send("read mb-2")
    read = mon.wait(is_event("read", "mb-2"), 5, "the readout")
    check(read["ok"] and abs(read["values"]["Temperature"] - 23.1) < 1e-9, read)


def cycles(log, unit, first_address):
    return [entry for entry in requests_of(log, unit) if entry[2] == first_address]


def whole_polls(log, unit):
    """the unit's requests from the start of its first whole poll in the log to the start of
    its last one"""
    requests = requests_of(log, unit)
    starts = [i for i, entry in enumerate(requests) if entry[2] == 0]
    return requests[starts[0]:starts[-1]] if len(starts) > 1 else []


def test_coalescing(suite, workdir):
    """the meter's 14 fields in 3 requests per poll; one request per field when told so"""
    modbus = server(suite, workdir, {1: SDM120, 11: SDM120})
    mon = monitor(suite, workdir, {
        "mb": tcp_bus(modbus, Units="1:eastron-sdm120"),
        "single": tcp_bus(modbus, Units="11:eastron-sdm120", OneRequestPerField="true"),
    })
    mon.wait(is_event("changed", "single-11"), 5, "the first poll")
    modbus.log()
    time.sleep(4.2 * SLOW)
    log = modbus.log()
    coalesced, single = whole_polls(log, 1), whole_polls(log, 11)
    n1, n11 = len(cycles(coalesced, 1, 0)), len(cycles(single, 11, 0))
    check(n1 >= 2 and n11 >= 2, "polls: %d and %d" % (n1, n11))
    per_poll, per_poll_single = len(coalesced) / n1, len(single) / n11
    print("# requests per poll: %.1f coalesced, %.1f one per field" % (per_poll,
                                                                      per_poll_single))
    check(abs(per_poll - 3) < 0.5, "coalesced: %s" % coalesced)
    check(abs(per_poll_single - 14) < 1, "one per field: %d in %d polls" % (len(single), n11))
    # what the coalesced requests were: 0..37, 70..79, 342..345
    check(sorted({(e[2], e[3]) for e in coalesced}) == [(0, 38), (70, 10), (342, 4)],
          coalesced)


def test_write(suite, workdir):
    """coils and holding registers written through the worker, acknowledged by the unit"""
    modbus = server(suite, workdir, {2: XYMD02, 5: RELAY})
    mon = monitor(suite, workdir, {"mb": tcp_bus(
        modbus, Units="2:xy-md02;5:waveshare-relay-8ch", Interval=5)})
    mon.wait(is_event("changed", "mb-5"), 5, "the first poll")
    mon.send("write mb-5 Relay2 true")
    done = mon.wait(is_event("write", "mb-5"), 5, "the relay's write")
    check(done["ok"], done)
    check(modbus.get(5, "coil", 0, 3) == [1, 1, 1], "coils: %s" % modbus.get(5, "coil", 0, 3))
    # the new value is the device's before the write is acknowledged
    changed = [e for e in mon.events if is_event("changed", "mb-5")(e)][-1]
    check(changed["values"]["Relay2"] is True, changed)
    mon.send("write mb-2 TemperatureCorrection -1.5")
    done = mon.wait(is_event("write", "mb-2"), 5, "the sensor's write")
    check(done["ok"], done)
    check(modbus.get(2, "holding", 0x103, 1) == [s16(-15)], modbus.get(2, "holding", 0x103, 1))
    log = modbus.log()
    check([5, 5, 1, 1] in [e[:4] for e in log] and [2, 6, 0x103, 1] in [e[:4] for e in log],
          "write functions: %s" % log)
    # validated against the profile before anything goes on the line
    mon.send("write mb-2 TemperatureCorrection 20")
    error = mon.wait(is_event("error"), 5, "the refused write")
    check("out of range" in error["message"], error)
    mon.send("write mb-2 Temperature 20")
    mon.wait(is_event("error"), 5, "the read-only field's write")
    # a unit that does not acknowledge: the write fails
    modbus.command("kill 5")
    mon.send("write mb-5 Relay3 false")
    done = mon.wait(is_event("write", "mb-5"), 5, "the unacknowledged write")
    check(not done["ok"] and "no answer" in done["error"], done)
    check(modbus.get(5, "coil", 0, 3) == [1, 1, 0], "the unit executed it but did not answer")


def periods(log, unit, address):
    times = [entry[4] for entry in cycles(log, unit, address)]
    return [b - a for a, b in zip(times, times[1:])]


def test_dead_unit(suite, workdir):
    """a unit that never answers costs the others at most one timeout per backoff window"""
    modbus = server(suite, workdir, {1: SDM120, 2: XYMD02, 5: RELAY, 7: {"dead": True}})
    mon = monitor(suite, workdir, {"mb": tcp_bus(
        modbus, Units="1:eastron-sdm120;2:xy-md02;5:waveshare-relay-8ch;7:xy-md02")})
    gone = mon.wait(is_event("availability", "mb-7", answering=False), 5, "the dead unit")
    check("no answer" in gone["reason"], gone)
    modbus.log()
    window = 12.0
    time.sleep(window)
    log = modbus.log()
    summary = []
    for unit, address in ((1, 0), (2, 1), (5, 0)):
        gaps = periods(log, unit, address)
        mean = statistics.mean(gaps)
        summary.append("unit %d: %d polls, period %.3f s (max %.3f s)" %
                       (unit, len(gaps) + 1, mean, max(gaps)))
        check(abs(mean - 1.0) <= 0.1, summary[-1])
    probes = requests_of(log, 7)
    summary.append("dead unit: %d probes in %.0f s" % (len(probes), window))
    print("# " + "; ".join(summary))
    # backoff 1, 2, 4, 8 s, then every 10 s
    check(len(probes) <= 5, summary[-1])
    check(not any(e["event"] == "availability" and e["id"] != "mb-7" for e in mon.events),
          "a healthy unit was shown not answering")


def test_unit_returns(suite, workdir):
    """a unit that stops answering is shown so, and comes back by itself"""
    modbus = server(suite, workdir, {1: SDM120, 2: XYMD02})
    mon = monitor(suite, workdir, {"mb": tcp_bus(modbus, Units="1:eastron-sdm120;2:xy-md02",
                                                 BackoffMax=2)})
    mon.wait(is_event("changed", "mb-2"), 5, "the first poll")
    modbus.command("kill 2")
    killed = time.monotonic()
    mon.wait(is_event("availability", "mb-2", answering=False), 5, "the unit going silent")
    print("# shown not answering %.2f s after it stopped" % (time.monotonic() - killed))
    time.sleep(3)
    modbus.command("set 2 input 1 %d" % s16(199))
    modbus.command("revive 2")
    revived = time.monotonic()
    mon.wait(is_event("availability", "mb-2", answering=True), 5, "the unit coming back")
    print("# back %.2f s after it answered again" % (time.monotonic() - revived))
    changed = mon.wait(is_event("changed", "mb-2"), 5, "fresh values")
    check(abs(changed["values"]["Temperature"] - 19.9) < 1e-9, changed)
    check(not any(e["event"] == "availability" and e["id"] == "mb-1" for e in mon.events),
          "the healthy unit was shown not answering")


SPLIT_PROFILE = """[profile]
Manufacturer=Test
Model=Split
[field:A]
Table=input
Address=0
[field:B]
Table=input
Address=1
[field:E]
Table=input
Address=3
[field:C]
Table=input
Address=5
[field:D]
Table=input
Address=6
"""


def test_split(suite, workdir):
    """a merged read refused (illegal data address) splits itself, once, and stays split"""
    profiles = os.path.join(workdir, "profiles")
    os.mkdir(profiles)
    with open(os.path.join(profiles, "split.conf"), "w", encoding="utf-8") as f:
        f.write(SPLIT_PROFILE)
    modbus = server(suite, workdir, {3: {"input": {"0": [10, 11, 0, 0, 0, 15, 16]},
                                         "holes": {"input": [[2, 4]]}}})
    mon = monitor(suite, workdir, {"mb": tcp_bus(modbus, Units="3:split", Profiles=profiles)})
    changed = mon.wait(is_event("changed", "mb-3"), 5, "values")["values"]
    check(changed["A"] == 10 and changed["B"] == 11 and changed["C"] == 15 and
          changed["D"] == 16 and changed["E"] is None, changed)
    time.sleep(2.2 * SLOW)
    log = [tuple(e[2:4]) for e in modbus.log()]
    print("# requests: %s" % log)
    # 0..6 refused once, then 0..1, 3 (refused: E is dropped), 5..6; then 0..1 and 5..6 only
    check(log[:4] == [(0, 7), (0, 2), (3, 1), (5, 2)], log)
    check(log.count((0, 7)) == 1 and log.count((3, 1)) == 1, log)
    check(log[4:] and set(log[4:]) == {(0, 2), (5, 2)}, log)
    check("field E (input 3) refused" in mon.log_tail(), mon.log_tail())


ACME_PROFILE = """[profile]
Manufacturer=ACME
Model=TH-42
Class=Thermometer
MatchVendor=acme*
MatchProduct=TH-42
[field:Temperature]
Table=input
Address=0
Type=s16
Scale=0.1
Unit=°C
"""


def test_discovery(suite, workdir):
    """the sweep finds the units, names their profiles from what they say, lists the rest"""
    profiles = os.path.join(workdir, "profiles")
    os.mkdir(profiles)
    with open(os.path.join(profiles, "acme-th42.conf"), "w", encoding="utf-8") as f:
        f.write(ACME_PROFILE)
    modbus = server(suite, workdir, {
        20: {"input": {"0": [215]},
             "identity": {"vendor": "ACME Sensors", "product": "TH-42", "revision": "1.2"}},
        21: SDM120,
        22: {"server_id": "mystery box"},
        23: {},
        24: XYMD02,
        # a gateway's absent units: the requests reach them, no answer comes back
        18: {"dead": True}, 19: {"dead": True}, 25: {"dead": True}, 26: {"dead": True},
    })
    started = time.monotonic()
    mon = monitor(suite, workdir, {"disc": tcp_bus(
        modbus, Units="24:xy-md02", Discover="18-26", DiscoverBudget=100, DiscoverTimeout=0.1,
        Profiles=profiles)})
    found = {}
    while len(found) < 4:
        event = mon.wait(is_event("added"), 10, "the units the sweep finds")
        found[event["id"]] = event
    print("# four units found in %.2f s" % (time.monotonic() - started))
    check(sorted(found) == ["disc-20", "disc-21", "disc-22", "disc-23"], sorted(found))
    check(found["disc-20"]["model"] == "TH-42" and found["disc-20"]["key"] == "20:acme-th42",
          found["disc-20"])
    check(found["disc-21"]["model"] == "SDM120" and
          found["disc-21"]["key"] == "21:eastron-sdm120", found["disc-21"])
    # no profile names them: listed, never guessed
    for unit in ("disc-22", "disc-23"):
        check(found[unit]["key"].endswith(":") and "no profile" in found[unit]["label"],
              found[unit])
    check(found["disc-22"]["values"].get("ServerId") == "mystery box", found["disc-22"])
    changed = mon.seen(is_event("changed", "disc-20"), 5, "the found unit's values")
    check(abs(changed["values"]["Temperature"] - 21.5) < 1e-9, changed)
    time.sleep(0.5)
    log = modbus.log()
    # the configured unit is not probed; the absent ones once each way
    check(not requests_of(log, 24, 0x2B), "unit 24 is configured: %s" % requests_of(log, 24))
    for unit in (18, 19, 25, 26):
        check(len(requests_of(log, unit, 0x2B)) == 1 and len(requests_of(log, unit, 0x11)) == 1,
              "unit %d: %s" % (unit, requests_of(log, unit)))
    check("sweep of 9 unit ids done" in mon.log_tail(), mon.log_tail())


BROKEN_PROFILE = """[profile]
Model=Broken
[field:Power]
Table=input
Address=0
Type=f33
"""


def test_bad_profile(suite, workdir):
    """a bad profile is named with its file, group and key; --check-config lists profiles"""
    profiles = os.path.join(workdir, "profiles")
    os.mkdir(profiles)
    path = os.path.join(profiles, "broken.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(BROKEN_PROFILE)
    config = os.path.join(workdir, "kith.conf")
    with open(config, "w", encoding="utf-8") as f:
        f.write("[xmpp]\nDomain=example.net\n[bus:mb]\nDriver=modbus\nTransport=tcp\n"
                "Host=127.0.0.1\nUnits=1:broken\nProfiles=%s\n" % profiles)
    env = dict(os.environ, KITH_MODBUS_PROFILE_DIR=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "profiles"))
    result = subprocess.run([kithd_path(), "--check-config", "--config", config],
                            capture_output=True, text=True, env=env, timeout=30, check=False)
    check(result.returncode != 0, result)
    expected = "%s: [field:Power] Type: unknown type 'f33'" % path
    check(expected in result.stderr, result.stderr)
    check("[bus:mb] Units: unit 1" in result.stderr, result.stderr)
    # a good one, with a broken profile beside it
    with open(config, "w", encoding="utf-8") as f:
        f.write("[xmpp]\nDomain=example.net\n[bus:mb]\nDriver=modbus\nTransport=tcp\n"
                "Host=127.0.0.1\nUnits=1:eastron-sdm120;2:xy-md02\nProfiles=%s\n" % profiles)
    result = subprocess.run([kithd_path(), "--check-config", "--config", config],
                            capture_output=True, text=True, env=env, timeout=30, check=False)
    check(result.returncode == 0, result)
    for line in ("mb-1: profile eastron-sdm120, 14 fields in 3 requests", "eastron-sdm630",
                 "waveshare-relay-8ch", "not usable: %s" % path):
        check(line in result.stdout, "'%s' not in:\n%s" % (line, result.stdout))


TESTS = [test_values, test_coalescing, test_write, test_dead_unit, test_unit_returns, test_split,
         test_discovery, test_bad_profile]

if __name__ == "__main__":
    chosen = [t for t in TESTS if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]]
    main(chosen)
