#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Modbus benchmark: what the driver puts on the line for the shipped profiles, and what one
dead unit costs the others.

1. Requests and bytes per poll cycle for each shipped profile, as a real pymodbus server logs
   them (kith-bus-monitor against it over TCP), coalesced and with OneRequestPerField=true;
   the RTU line time of those requests (the model of ../shared/docs/anchors.md §3.1: frames at
   19200 8N1, 3.5 characters of silence after each, no unit turnaround), and its efficiency
   against the cheapest plan the unit's limits allow (found by dynamic programming).
2. One run over RTU (a socat pty pair: no baud timing) with three healthy units polled every
   second: first healthy, then with a fourth unit that stops answering; the healthy units'
   poll periods, the probes the dead unit got and the line time they took.

    meson compile -C build && /usr/bin/python3 bench/modbus.py [--out bench/results-modbus.md]
"""
import argparse
import configparser
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "drivers", "modbus", "tests"))
# pylint: disable=wrong-import-position
import modbus_harness as harness  # noqa: E402

PROFILES = ["eastron-sdm120", "eastron-sdm630", "xy-md02", "waveshare-relay-8ch"]
BITS = {"coil": True, "discrete": True, "input": False, "holding": False}
FUNCTION_BITS = {1: True, 2: True, 3: False, 4: False}
# a unit's typical answer delay on a real line (anchors.md §3.1: a few ms to tens of ms)
TURNAROUND = 0.010
COUNTS = {"bit": 1, "u16": 1, "s16": 1, "u32": 2, "s32": 2, "f32": 2, "u64": 4, "s64": 4,
          "f64": 4}


def frames(bits, count):
    """RTU request and response bytes of a read (anchors.md §3.1)"""
    return 8, 5 + ((count + 7) // 8 if bits else 2 * count)


def line_time(requests, baud=19200, bits_per_char=10, turnaround=0.0):
    """seconds on an RTU line for (bits, count) reads"""
    char = bits_per_char / baud
    silence = 0.00175 if baud > 19200 else 3.5 * char
    total = 0.0
    for bits, count in requests:
        request, response = frames(bits, count)
        total += (request + response) * char + 2 * silence + turnaround
    return total


def profile_fields(name):
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str
    parser.read(os.path.join(ROOT, "drivers", "modbus", "profiles", name + ".conf"))
    header = parser["profile"]
    max_registers = int(header.get("MaxRegisters", "125"))
    fields = []
    for section in parser.sections():
        if not section.startswith("field:"):
            continue
        field = parser[section]
        kind = field.get("Type", "bit" if BITS[field["Table"]] else "u16")
        count = int(kind.split(":")[1]) if kind.startswith("string:") else COUNTS[kind]
        fields.append((field["Table"], int(field["Address"], 0), count,
                       float(field.get("Interval", "0"))))
    return fields, max_registers


def optimal(fields, max_registers, turnaround=0.0):
    """the cheapest set of reads covering the fields (one table and period at a time)"""
    groups = {}
    for table, address, count, interval in fields:
        groups.setdefault((table, interval), []).append((address, count))
    plan = []
    for (table, _), items in groups.items():
        items.sort()
        bits = BITS[table]
        limit = 2000 if bits else max_registers
        best = [0.0] + [float("inf")] * len(items)
        choice = [0] * (len(items) + 1)
        for end in range(1, len(items) + 1):
            for start in range(end):
                span = max(a + c for a, c in items[start:end]) - items[start][0]
                if span > limit:
                    continue
                cost = best[start] + line_time([(bits, span)], turnaround=turnaround)
                if cost < best[end]:
                    best[end], choice[end] = cost, start
        end = len(items)
        while end > 0:
            start = choice[end]
            plan.append((bits, max(a + c for a, c in items[start:end]) - items[start][0]))
            end = start
    return plan


def first_cycle(log, unit):
    """the requests of the unit's first poll (every field is due at start)"""
    seen, out = set(), []
    for entry in log:
        key = (entry[1], entry[2], entry[3])
        if entry[0] == unit and key not in seen:
            seen.add(key)
            out.append((FUNCTION_BITS[entry[1]], entry[3]))
    return out


def coalescing(workdir):
    suite = harness.Suite()
    units = {}
    for i, name in enumerate(PROFILES):
        units[1 + i] = {}
        units[11 + i] = {}
    modbus = harness.server(suite, workdir, units)
    coalesced = ";".join("%d:%s" % (1 + i, name) for i, name in enumerate(PROFILES))
    single = ";".join("%d:%s" % (11 + i, name) for i, name in enumerate(PROFILES))
    bus = {"Transport": "tcp", "Host": "127.0.0.1", "Port": modbus.port, "Interval": 10}
    mon = harness.monitor(suite, workdir, {"a": dict(bus, Units=coalesced),
                                           "b": dict(bus, Units=single,
                                                     OneRequestPerField="true")})
    for i in range(len(PROFILES)):
        mon.seen(harness.is_event("changed", "a-%d" % (1 + i)), 10, "a poll")
        mon.seen(harness.is_event("changed", "b-%d" % (11 + i)), 10, "a poll")
    time.sleep(0.5)
    log = modbus.log()
    rows = []
    for i, name in enumerate(PROFILES):
        fields, max_registers = profile_fields(name)
        ours = first_cycle(log, 1 + i)
        one = first_cycle(log, 11 + i)
        best = optimal(fields, max_registers)
        best_slow = optimal(fields, max_registers, TURNAROUND)
        rtu_bytes = sum(sum(frames(b, c)) for b, c in ours)
        one_bytes = sum(sum(frames(b, c)) for b, c in one)
        rows.append({
            "profile": name, "fields": len(fields), "requests": len(ours),
            "requests_single": len(one), "bytes": rtu_bytes, "bytes_single": one_bytes,
            "tcp_bytes": rtu_bytes + 4 * len(ours), "tcp_bytes_single": one_bytes + 4 * len(one),
            "time": line_time(ours), "time_single": line_time(one),
            "time_8e1": line_time(ours, 9600, 11), "time_single_8e1": line_time(one, 9600, 11),
            "optimal": line_time(best), "optimal_requests": len(best),
            "time_slow": line_time(ours, turnaround=TURNAROUND),
            "optimal_slow": line_time(best_slow, turnaround=TURNAROUND),
            "optimal_slow_requests": len(best_slow),
        })
    for cleanup in reversed(suite.cleanups):
        cleanup()
    return rows


def dead_unit(workdir, healthy_seconds, dead_seconds):
    suite = harness.Suite()
    pair = harness.PtyPair(workdir)
    suite.add_cleanup(pair.stop)
    sdm = {"input": {"0": harness.f32(230.0)}}
    modbus = harness.server(suite, workdir, {1: sdm, 2: {}, 3: {}, 4: {}}, transport="rtu",
                            device=pair.b)
    mon = harness.monitor(suite, workdir, {"rtu": {
        "Transport": "rtu", "Device": pair.a, "Baud": 19200, "Interval": 1, "Timeout": 0.5,
        "Units": "1:eastron-sdm120;2:xy-md02;3:waveshare-relay-8ch;4:xy-md02"}})
    mon.wait(harness.is_event("changed", "rtu-4"), 10, "the first poll")
    modbus.log()
    time.sleep(healthy_seconds)
    healthy = modbus.log()
    modbus.command("kill 4")
    time.sleep(dead_seconds)
    dead = modbus.log()
    for cleanup in reversed(suite.cleanups):
        cleanup()

    def periods(log):
        out = []
        for unit, address in ((1, 0), (2, 1), (3, 0)):
            times = [e[4] for e in log if e[0] == unit and e[2] == address]
            out += [b - a for a, b in zip(times, times[1:])]
        return out

    def cycle_spans(log):
        """from the first to the last request of each poll cycle of the healthy units"""
        spans, start, last = [], None, None
        for entry in log:
            if entry[0] not in (1, 2, 3):
                continue
            if start is None or entry[4] - last > 0.3:
                if start is not None:
                    spans.append(last - start)
                start = entry[4]
            last = entry[4]
        return spans

    probes = [e for e in dead if e[0] == 4]
    return {
        "healthy": periods(healthy), "dead": periods(dead),
        "healthy_span": cycle_spans(healthy), "dead_span": cycle_spans(dead),
        "probes": len(probes), "dead_seconds": dead_seconds,
        "polls_before": len([e for e in healthy if e[0] == 4 and e[2] == 1]),
    }


def describe_build():
    kithd = harness.bus_monitor_path()
    stamp = datetime.datetime.fromtimestamp(os.path.getmtime(kithd)).isoformat(timespec="seconds")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    return "commit %s, kith-bus-monitor built %s, %s" % (commit, stamp, os.uname().machine)


def report(rows, dead):
    out = []
    out.append("## Requests per poll cycle, shipped profiles\n")
    out.append("Counted by the server (pymodbus over TCP) in the first poll, which reads every "
               "field; line time from the RTU model (anchors.md §3.1), no unit turnaround.\n")
    out.append("| profile | fields | requests (one per field) | RTU bytes (one per field) | "
               "TCP bytes (one per field) | line time 19200 8N1 (one per field) | "
               "9600 8E1 (one per field) | cheapest plan, efficiency | "
               "with 10 ms turnaround: ours, cheapest, efficiency |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        out.append("| %s | %d | **%d** (%d) | %d (%d) | %d (%d) | **%.1f ms** (%.1f ms) | "
                   "%.1f ms (%.1f ms) | %d requests, %.1f ms: %.0f %% | "
                   "%.1f ms, %d requests %.1f ms: %.0f %% |" % (
                       r["profile"], r["fields"], r["requests"], r["requests_single"],
                       r["bytes"], r["bytes_single"], r["tcp_bytes"], r["tcp_bytes_single"],
                       r["time"] * 1e3, r["time_single"] * 1e3, r["time_8e1"] * 1e3,
                       r["time_single_8e1"] * 1e3, r["optimal_requests"], r["optimal"] * 1e3,
                       100 * r["optimal"] / r["time"], r["time_slow"] * 1e3,
                       r["optimal_slow_requests"], r["optimal_slow"] * 1e3,
                       100 * r["optimal_slow"] / r["time_slow"]))
    out.append("")
    out.append("## One dead unit, in one run (RTU over a pty, Interval=1, Timeout=0.5)\n")
    h, d = dead["healthy"], dead["dead"]
    out.append("| | healthy bus | one unit dead |")
    out.append("|---|---|---|")
    out.append("| poll period of the healthy units, mean | %.3f s | %.3f s |" % (
        statistics.mean(h), statistics.mean(d)))
    out.append("| poll period, max | %.3f s | %.3f s |" % (max(h), max(d)))
    out.append("| poll cycle of the healthy units (first to last request), mean | %.1f ms | "
               "%.1f ms |" % (1e3 * statistics.mean(dead["healthy_span"]),
                              1e3 * statistics.mean(dead["dead_span"])))
    out.append("| poll cycle, max | %.1f ms | %.1f ms |" % (1e3 * max(dead["healthy_span"]),
                                                         1e3 * max(dead["dead_span"])))
    per_cycle = dead["probes"] * 0.5 / dead["dead_seconds"]
    out.append("| requests to the dead unit | - | %d in %d s (backoff 0.5 s → 10 s) |" % (
        dead["probes"], dead["dead_seconds"]))
    out.append("| line time lost to it per 1 s poll cycle | 0 | %.0f ms on average, one "
               "timeout (500 ms) per backoff window at most; a poller without isolation "
               "loses 500 ms every cycle |" % (1e3 * per_cycle))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(HERE, "results-modbus.md"))
    parser.add_argument("--healthy-seconds", type=float, default=15)
    parser.add_argument("--dead-seconds", type=float, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kith-bench-modbus-") as workdir:
        rows = coalescing(workdir)
        dead = dead_unit(workdir, args.healthy_seconds, args.dead_seconds)
    text = "# Modbus benchmark\n\n%s, %s\n\n%s" % (
        datetime.date.today().isoformat(), describe_build(), report(rows, dead))
    print(text)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
