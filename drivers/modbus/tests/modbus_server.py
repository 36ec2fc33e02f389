#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Modbus server for the driver's tests and benchmark: Debian's pymodbus (3.0) over TCP on
127.0.0.1 or over RTU on a serial port (one end of a socat pty pair), with units described by a
JSON file, a log of every request it answered, and units that can be made to stop answering.

    modbus_server.py CONFIG.json tcp PORT          (0: any free port)
    modbus_server.py CONFIG.json rtu DEVICE BAUD

It prints "ready PORT" (tcp) or "ready" (rtu) once it listens, then takes commands on stdin,
one per line, and answers each with one line:

    kill N | revive N          unit N stops / starts answering (requests are still logged)
    set N TABLE ADDRESS V...   set registers or bits (TABLE: coil discrete input holding)
    get N TABLE ADDRESS COUNT  -> JSON list
    log                        -> JSON list of [unit, function, address, count, time] since the
                                  last log (time: the server's time.monotonic())
    quit

CONFIG: {"units": {"1": {"input": {"0": [1, 2]}, "holding": {...}, "coil": {...},
"discrete": {...}, "holes": {"input": [[100, 109]]}, "identity": {"vendor": "ACME",
"product": "TH-42", "revision": "1.2"}, "server_id": "ACME TH-42"}}}: a unit refuses (illegal
data address) any request that touches one of its holes; without "identity" it refuses Read
Device Identification, without "server_id" Report Server ID (illegal function); with
"dead": true it does not answer from the start.
"""
import asyncio
import collections
import json
import logging
import sys
import threading
import time

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.device import DeviceInformationFactory
from pymodbus.mei_message import ReadDeviceInformationRequest, ReadDeviceInformationResponse
from pymodbus.other_message import ReportSlaveIdRequest, ReportSlaveIdResponse
from pymodbus.pdu import ModbusExceptions
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer

TABLES = {"coil": "c", "discrete": "d", "input": "i", "holding": "h"}
# function code -> table letter, as pymodbus decodes it
FUNCTION_TABLE = {1: "c", 5: "c", 15: "c", 2: "d", 4: "i", 3: "h", 6: "h", 16: "h", 23: "h"}

LOG = []
DEAD = set()


class Unit(ModbusSlaveContext):
    """A unit: four tables of 65536 entries, its holes, its identity."""

    def __init__(self, number, spec):
        blocks = {t: ModbusSequentialDataBlock(0, [0] * 65536) for t in "cdih"}
        super().__init__(di=blocks["d"], co=blocks["c"], ir=blocks["i"], hr=blocks["h"],
                         zero_mode=True)
        self.number = number
        self.holes = {}
        for table, letter in TABLES.items():
            for start, values in spec.get(table, {}).items():
                self.store[letter].setValues(int(start, 0), values)
            self.holes[letter] = [tuple(r) for r in spec.get("holes", {}).get(table, [])]
        identity = spec.get("identity")
        self.kith_identity = None
        if identity is not None:
            # not ModbusDeviceIdentification: its objects are a class attribute that all its
            # instances share
            objects = collections.defaultdict(str, {
                0: identity.get("vendor", ""),
                1: identity.get("product", ""),
                2: identity.get("revision", ""),
            })
            self.kith_identity = type("Control", (), {"Identity": objects})()
        if spec.get("dead"):
            DEAD.add(number)
        server_id = spec.get("server_id")
        self.reportSlaveIdData = server_id.encode() if server_id else None

    def validate(self, fc_as_hex, address, count=1):
        LOG.append([self.number, fc_as_hex, address, count, time.monotonic()])
        letter = FUNCTION_TABLE.get(fc_as_hex)
        for start, end in self.holes.get(letter, []):
            if address <= end and address + count - 1 >= start:
                return False
        return super().validate(fc_as_hex, address, count)


def read_device_information(self, context):
    LOG.append([context.number, 0x2B, self.object_id, 0, time.monotonic()])
    if context.kith_identity is None:
        return self.doException(ModbusExceptions.IllegalFunction)
    information = DeviceInformationFactory.get(context.kith_identity, self.read_code,
                                               self.object_id)
    return ReadDeviceInformationResponse(self.read_code, information)


def report_server_id(self, context=None):
    LOG.append([context.number, 0x11, 0, 0, time.monotonic()])
    if context.reportSlaveIdData is None:
        return self.doException(ModbusExceptions.IllegalFunction)
    return ReportSlaveIdResponse(context.reportSlaveIdData)


ReadDeviceInformationRequest.execute = read_device_information
ReportSlaveIdRequest.execute = report_server_id


def manipulate(response):
    """A dead unit: the request was executed (and logged), the answer is dropped."""
    if response.unit_id in DEAD:
        return b"", True
    return response, False


def command(context, line):
    words = line.split()
    if not words:
        return None
    if words[0] == "log":
        entries = list(LOG)
        LOG.clear()
        return json.dumps(entries)
    if words[0] == "kill":
        DEAD.add(int(words[1]))
        return "ok"
    if words[0] == "revive":
        DEAD.discard(int(words[1]))
        return "ok"
    if words[0] == "set":
        unit = context[int(words[1])]
        unit.store[TABLES[words[2]]].setValues(int(words[3], 0), [int(v, 0) for v in words[4:]])
        return "ok"
    if words[0] == "get":
        unit = context[int(words[1])]
        return json.dumps(unit.store[TABLES[words[2]]].getValues(int(words[3], 0),
                                                                  int(words[4])))
    return "error unknown command"


def stdin_thread(loop, context, done):
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        future = asyncio.run_coroutine_threadsafe(reply(context, line), loop)
        print(future.result(), flush=True)
    loop.call_soon_threadsafe(done.set)


async def reply(context, line):
    return command(context, line)


async def main():
    logging.basicConfig(level=logging.CRITICAL)
    with open(sys.argv[1], encoding="utf-8") as f:
        config = json.load(f)
    units = {int(n): Unit(int(n), spec) for n, spec in config["units"].items()}
    context = ModbusServerContext(slaves=units, single=False)
    loop = asyncio.get_running_loop()
    if sys.argv[2] == "tcp":
        from pymodbus.server.async_io import ModbusTcpServer
        server = ModbusTcpServer(context, ModbusSocketFramer, None,
                                 ("127.0.0.1", int(sys.argv[3])), allow_reuse_address=True,
                                 response_manipulator=manipulate)
        task = asyncio.create_task(server.serve_forever())
        await server.serving
        print("ready", server.server.sockets[0].getsockname()[1], flush=True)
    else:
        from pymodbus.server.async_io import ModbusSerialServer
        server = ModbusSerialServer(context, ModbusRtuFramer, port=sys.argv[3],
                                    baudrate=int(sys.argv[4]), response_manipulator=manipulate)
        await server.start()
        task = None
        print("ready", flush=True)
    done = asyncio.Event()
    threading.Thread(target=stdin_thread, args=(loop, context, done), daemon=True).start()
    await done.wait()
    if task is not None:
        task.cancel()
    await server.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
