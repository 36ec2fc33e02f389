#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Modbus units end to end: a pymodbus server on 127.0.0.1, kithd with a Modbus bus, a real
Prosody and a slixmpp friend (tests/integration/harness.py). The friend sees a meter's values
in its presence (moving only past the field's deadband), reads it (XEP-0323), switches a relay
coil (XEP-0325), gets an immediate failure from a unit that stopped answering, and keeps a
unit the sweep found across a kithd restart (the store gives it back before it answers).
KITH_MODE=component runs it over the component stream.

    KITHD=build/src/kithd /usr/bin/python3 drivers/modbus/tests/test_modbus_xmpp.py
"""
import itertools
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "integration"))
# pylint: disable=wrong-import-position
from harness import (NS, KithTestCase, befriend, error_of, fields_of, main,  # noqa: E402
                     match, readout_part, readout_raw)
from modbus_harness import PROFILES, Server, f32  # noqa: E402

METER = "mb-1"
RELAY = "mb-5"
FOUND = "mb-20"  # found by the sweep
_seqnr = itertools.count(700)


class ModbusXmppTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        os.environ["KITH_MODBUS_PROFILE_DIR"] = PROFILES
        cls.tmp = tempfile.TemporaryDirectory(prefix="kith-modbus-xmpp-")
        cls.modbus = Server(cls.tmp.name, {
            1: {"input": {"0": f32(230.5), "12": f32(1500.0)}},
            5: {"coil": {"0": [1, 0]}},
            20: {"input": {"0": f32(240.0)},
                 "identity": {"vendor": "Eastron", "product": "SDM120-Modbus"}},
        })
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.addClassCleanup(cls.modbus.stop)
        world = cls.start_world(policy="open", thermometers=0, relays=0, extra_groups={
            "bus:mb": {"Driver": "modbus", "Transport": "tcp", "Host": "127.0.0.1",
                       "Port": str(cls.modbus.port), "Interval": "1", "Timeout": "1",
                       "BackoffMax": "1",
                       "Units": "1:eastron-sdm120;5:waveshare-relay-8ch",
                       "Discover": "20-21", "DiscoverBudget": "100"},
        })
        cls.kithd = world.kithd
        cls.alice = world.peer("alice")
        cls.kithd.devices = [METER, RELAY, FOUND]
        cls.kithd.wait_online(cls.alice)
        cls.presence = befriend(cls.alice, [cls.kithd.jid(d) for d in cls.kithd.devices])

    def status_of(self, since, timeout=10):
        presence = self.alice.wait_presence(self.kithd.jid(METER), "available", since, timeout)
        return presence.findtext("c:status", None, NS)

    def readout(self, device):
        seq = str(next(_seqnr))
        reply, messages = readout_raw(self.alice, self.kithd.full(device), seq)
        self.assertEqual(reply.get("type"), "result", error_of(reply))
        return seq, messages

    def test_1_presence_follows_the_deadband(self):
        since = 0
        status = self.status_of(since)
        deadline = time.monotonic() + 10
        while "230.5 V" not in (status or "") and time.monotonic() < deadline:
            since = self.alice.mark()
            status = self.status_of(since)
        self.assertIn("230.5 V", status)
        self.assertIn("1500.0 W", status)
        # 0.5 V: under the Voltage deadband (2 V), three polls, no presence (once the
        # subscription's own presences are through)
        time.sleep(1)
        since = self.alice.mark()
        self.modbus.command("set 1 input 0 %d %d" % tuple(f32(231.0)))
        time.sleep(3)
        self.assertEqual([p for p in self.alice.inbox.items(since)
                          if p.get("from", "").startswith(self.kithd.jid(METER))], [],
                         "presence moved under the deadband: %s" % [(p.get("type"), p.findtext("c:status", None, NS)) for p in self.alice.inbox.items(since)])
        self.modbus.command("set 1 input 0 %d %d" % tuple(f32(236.0)))
        self.assertIn("236.0 V", self.status_of(since))

    def test_2_readout(self):
        _, messages = self.readout(METER)
        fields = {f["name"]: f for f in fields_of(messages)}
        self.assertEqual(fields["ActivePower"]["value"], "1500.0")
        self.assertEqual(fields["ActivePower"].get("unit"), "W")
        self.assertIn("TotalActiveEnergy", fields)

    def test_3_control_writes_the_coil(self):
        reply = self.alice.iq_raw(
            f"<iq type='set' to='{self.kithd.full(RELAY)}'>"
            f"<set xmlns='{NS['ctl']}'><boolean name='Relay2' value='true'/></set></iq>")
        self.assertEqual(reply.get("type"), "result", error_of(reply))
        self.assertEqual(self.modbus.get(5, "coil", 0, 2), [1, 1])
        _, messages = self.readout(RELAY)
        relay2 = [f for f in fields_of(messages) if f["name"] == "Relay2"][0]
        self.assertEqual((relay2["value"], relay2.get("writable")), ("true", "true"))

    def failing_readout(self, device):
        """(seconds the readout took, whether it failed)"""
        seq = str(next(_seqnr))
        started = time.monotonic()
        reply, messages = readout_raw(self.alice, self.kithd.full(device), seq)
        self.assertEqual(reply.get("type"), "result", error_of(reply))
        failed = any(readout_part(m, seq).tag.endswith("failure") for m in messages)
        return time.monotonic() - started, failed

    def test_4_a_silent_unit_fails_at_once(self):
        self.modbus.command("kill 5")
        # readouts wait for the line (a timeout of 1 s) until the unit is known not to
        # answer; from then on they fail at once
        deadline = time.monotonic() + 10
        took, failed = self.failing_readout(RELAY)
        while not (failed and took < 0.9) and time.monotonic() < deadline:
            took, failed = self.failing_readout(RELAY)
        self.assertTrue(failed and took < 0.9, "readouts still wait for the line")
        self.modbus.command("revive 5")
        deadline = time.monotonic() + 5
        while True:
            seq, messages = self.readout(RELAY)
            if fields_of(messages) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        self.assertTrue(fields_of(messages), "the unit did not come back")


    def latest(self, device):
        """(show or 'available' / type, status) of the newest presence from device"""
        found = [p for p in self.alice.inbox.items()
                 if match("presence", self.kithd.jid(device))(p)]
        if not found:
            return None
        return (found[-1].get("type") or found[-1].findtext("c:show", "available", NS),
                found[-1].findtext("c:status", None, NS))

    def wait_latest(self, device, kind, text, timeout=15):
        self.alice.inbox.wait_until(
            lambda: (lambda got: got is not None and got[0] == kind and
                     text in (got[1] or ""))(self.latest(device)),
            timeout, f"{kind} {text!r} from {device} (now {self.latest(device)})")

    def test_5_a_found_unit_survives_a_restart(self):
        """the sweep's unit: shown not answering when it stops, given back by the store
        after a restart before anything answers, confirmed when it answers again"""
        self.wait_latest(FOUND, "available", "240.0 V")
        self.modbus.command("kill 20")
        self.wait_latest(FOUND, "xa", "not answering since ")
        self.kithd.stop()
        since = self.alice.mark()
        self.kithd.start()
        self.alice.wait(lambda s: match("presence", self.kithd.jid(FOUND))(s) and
                        s.findtext("c:show", None, NS) == "xa", timeout=30, since=since,
                        what="the found unit back, not answering")
        self.modbus.command("revive 20")
        self.wait_latest(FOUND, "available", "240.0 V")


if __name__ == "__main__":
    main()
