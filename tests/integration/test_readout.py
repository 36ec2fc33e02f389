#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""XEP-0323 readout, through slixmpp's xep_0323 plugin and as raw XML
(contract.md: Readout XEP-0323)."""

import datetime
import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (KithTestCase, NS, befriend, collect_readout,  # noqa
                     error_of, fields_of, kind, main, parse_utc, ptype,
                     readout_part, readout_raw, req_xml)

THERMO = 'sim-thermometer-1'
FAILING = 'sim-thermometer-2'
RELAY = 'sim-relay-1'
_seqnr = itertools.count(100)


def seqnr():
    return str(next(_seqnr))


class ReadoutTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        world = cls.start_world(policy='open', fail_reads=(FAILING,))
        cls.kithd = world.kithd
        cls.alice = world.peer('alice')
        cls.bob = world.peer('bob')
        cls.kithd.wait_online(cls.alice)
        befriend(cls.alice, cls.kithd.bare_jids())
        befriend(cls.bob, cls.kithd.bare_jids())

    # -- helpers ------------------------------------------------------------------

    def assert_error(self, reply, type_, condition):
        self.assertEqual(reply.get('type'), 'error',
                         f'expected an IQ error, got {reply.get("type")}')
        self.assertEqual(error_of(reply)[:2], (type_, condition))

    def assert_accepted(self, reply, seq, device):
        self.assertEqual(reply.get('type'), 'result')
        self.assertEqual(reply.get('from'), self.kithd.full(device))
        accepted = reply.find('sd:accepted', NS)
        self.assertIsNotNone(accepted, 'result without <accepted>')
        self.assertEqual(accepted.get('seqnr'), seq)

    def assert_readout_messages(self, msgs, seq, device, peer):
        """No type, from the device full JID, to the requester, one done
        at the end."""
        self.assertTrue(msgs)
        for msg in msgs:
            self.assertEqual(ptype(msg), 'normal', 'message must have no type')
            self.assertEqual(msg.get('from'), self.kithd.full(device))
            self.assertEqual(msg.get('to'), peer.jid)
        dones = [m for m in msgs if readout_part(m, seq).get('done') == 'true']
        self.assertEqual(len(dones), 1)
        self.assertIs(dones[0], msgs[-1])

    def assert_recent_utc(self, value):
        stamp = parse_utc(value)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - stamp).total_seconds()), 600,
                        f'timestamp {value} is not close to now ({now})')

    def no_readout_messages(self, peer, device, seq, since):
        """After a round trip, nothing for `seq` arrived from `device`."""
        peer.barrier(self.kithd.full(device))
        stray = [m for m in peer.messages(since=since)
                 if readout_part(m, seq) is not None]
        self.assertEqual(stray, [], 'readout messages after an IQ error')

    # -- through slixmpp's plugin ----------------------------------------------

    def test_plugin_readout_thermometer(self):
        events, err = self.alice.request_data(self.kithd.full(THERMO))
        self.assertIsNone(err, 'device answered with an IQ error')
        results = [e['result'] for e in events]
        self.assertEqual(results[0], 'accepted')
        self.assertEqual(results[-1], 'done')
        fields = [f for e in events if e['result'] == 'fields'
                  for f in e['fields']]
        by_name = {f['name']: f for f in fields}
        for name, unit in (('Temperature', '°C'), ('Humidity', '%')):
            self.assertIn(name, by_name)
            self.assertEqual(by_name[name]['typename'], 'numeric')
            self.assertEqual(by_name[name]['unit'], unit)
            float(by_name[name]['value'])
            self.assertEqual(by_name[name].get('flags', {}).get('momentary'),
                             'true')
        for e in events:
            if e['result'] == 'fields':
                self.assertEqual(e['nodeId'], THERMO)
                self.assert_recent_utc(e['timestamp'])

    def test_plugin_readout_relay(self):
        events, err = self.alice.request_data(self.kithd.full(RELAY))
        self.assertIsNone(err)
        self.assertEqual([e['result'] for e in events][-1], 'done')
        fields = [f for e in events if e['result'] == 'fields'
                  for f in e['fields']]
        relay = [f for f in fields if f['name'] == 'Relay']
        self.assertEqual(len(relay), 1)
        self.assertEqual(relay[0]['typename'], 'boolean')
        self.assertIn(relay[0]['value'], ('true', 'false'))

    def test_plugin_readout_failure(self):
        events, err = self.alice.request_data(self.kithd.full(FAILING))
        self.assertIsNone(err)
        results = [e['result'] for e in events]
        self.assertEqual(results[0], 'accepted')
        self.assertEqual(results[-1], 'failure')
        self.assertEqual(events[-1]['nodeId'], FAILING)

    # -- raw XML ------------------------------------------------------------------

    def test_raw_readout_thermometer(self):
        seq = seqnr()
        reply, msgs = readout_raw(self.alice, self.kithd.full(THERMO), seq)
        self.assert_accepted(reply, seq, THERMO)
        self.assert_readout_messages(msgs, seq, THERMO, self.alice)
        fields = fields_of(msgs)
        units = {'Temperature': '°C', 'Humidity': '%'}
        for name, unit in units.items():
            matching = [f for f in fields if f['name'] == name]
            self.assertEqual(len(matching), 1, f'{name} fields: {matching}')
            field = matching[0]
            self.assertEqual(field['type'], 'numeric')
            self.assertEqual(field.get('unit'), unit)
            float(field['value'])
            self.assertEqual(field.get('momentary'), 'true')
            self.assertEqual(field.get('automaticReadout'), 'true')
            self.assertEqual(field['node'], THERMO)
            self.assert_recent_utc(field['timestamp'])

    def test_raw_readout_relay_is_writable_boolean(self):
        seq = seqnr()
        reply, msgs = readout_raw(self.alice, self.kithd.full(RELAY), seq)
        self.assert_accepted(reply, seq, RELAY)
        self.assert_readout_messages(msgs, seq, RELAY, self.alice)
        relay = [f for f in fields_of(msgs) if f['name'] == 'Relay']
        self.assertEqual(len(relay), 1)
        field = relay[0]
        self.assertEqual(field['type'], 'boolean')
        self.assertIn(field['value'], ('true', 'false'))
        self.assertEqual(field.get('writable'), 'true')
        self.assertEqual(field.get('momentary'), 'true')
        self.assertEqual(field.get('automaticReadout'), 'true')
        self.assertEqual(field['node'], RELAY)
        self.assert_recent_utc(field['timestamp'])

    def test_request_without_flags_means_all(self):
        seq = seqnr()
        reply, msgs = readout_raw(self.alice, self.kithd.full(THERMO), seq,
                                  attrs='')
        self.assert_accepted(reply, seq, THERMO)
        names = {f['name'] for f in fields_of(msgs)}
        self.assertLessEqual({'Temperature', 'Humidity'}, names)

    def test_field_filter(self):
        seq = seqnr()
        reply, msgs = readout_raw(self.alice, self.kithd.full(THERMO), seq,
                                  children="<field name='Humidity'/>")
        self.assert_accepted(reply, seq, THERMO)
        names = [f['name'] for f in fields_of(msgs)]
        self.assertEqual(names, ['Humidity'])

    def test_own_node_is_accepted(self):
        seq = seqnr()
        reply, msgs = readout_raw(self.alice, self.kithd.full(THERMO), seq,
                                  children=f"<node nodeId='{THERMO}'/>")
        self.assert_accepted(reply, seq, THERMO)
        self.assertTrue(fields_of(msgs))

    def test_unknown_node_is_item_not_found(self):
        seq = seqnr()
        since = self.alice.mark()
        reply, _ = readout_raw(self.alice, self.kithd.full(THERMO), seq,
                               children="<node nodeId='other'/>")
        self.assert_error(reply, 'cancel', 'item-not-found')
        self.no_readout_messages(self.alice, THERMO, seq, since)

    def test_missing_seqnr_is_bad_request(self):
        reply = self.alice.iq_raw(req_xml(self.kithd.full(THERMO), None))
        self.assert_error(reply, 'modify', 'bad-request')

    def test_non_integer_seqnr_is_bad_request(self):
        for bad in ('abc', '', '1.5'):
            since = self.alice.mark()
            reply = self.alice.iq_raw(req_xml(self.kithd.full(THERMO), bad))
            self.assert_error(reply, 'modify', 'bad-request')
            self.no_readout_messages(self.alice, THERMO, bad, since)

    def test_failing_device_sends_failure(self):
        seq = seqnr()
        reply, msgs = readout_raw(self.alice, self.kithd.full(FAILING), seq)
        self.assert_accepted(reply, seq, FAILING)
        self.assert_readout_messages(msgs, seq, FAILING, self.alice)
        failure = msgs[-1].find('sd:failure', NS)
        self.assertIsNotNone(failure, 'last message is not a <failure>')
        self.assertEqual(failure.get('done'), 'true')
        errors = failure.findall('sd:error', NS)
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0].get('nodeId'), FAILING)
        self.assert_recent_utc(errors[0].get('timestamp'))
        self.assertTrue((errors[0].text or '').strip(), 'empty reason')

    def test_cancel_unknown_seqnr_is_item_not_found(self):
        for type_ in ('get', 'set'):
            reply = self.alice.iq_raw(
                f"<iq type='{type_}' to='{self.kithd.full(THERMO)}'>"
                f"<cancel xmlns='{NS['sd']}' seqnr='424242'/></iq>")
            self.assert_error(reply, 'cancel', 'item-not-found')

    def test_cancel_right_after_request_is_answered(self):
        """A cancel pipelined behind its request gets `cancelled` (the
        readout was still running) or item-not-found (already finished)."""
        seq = seqnr()
        to = self.kithd.full(THERMO)
        since = self.alice.mark()
        self.alice.send_raw(
            req_xml(to, seq).replace("<iq ", "<iq id='r-req' ", 1) +
            f"<iq id='r-cancel' type='get' to='{to}'>"
            f"<cancel xmlns='{NS['sd']}' seqnr='{seq}'/></iq>")
        req_reply = self.alice.wait(lambda s: s.get('id') == 'r-req',
                                    since=since, what='reply to req')
        self.assert_accepted(req_reply, seq, THERMO)
        cancel_reply = self.alice.wait(lambda s: s.get('id') == 'r-cancel',
                                       since=since, what='reply to cancel')
        if cancel_reply.get('type') == 'result':
            cancelled = cancel_reply.find('sd:cancelled', NS)
            self.assertIsNotNone(cancelled)
            self.assertEqual(cancelled.get('seqnr'), seq)
        else:
            self.assert_error(cancel_reply, 'cancel', 'item-not-found')

    def test_two_requesters_same_seqnr(self):
        seq = '7'
        to = self.kithd.full(THERMO)
        peers = (self.alice, self.bob)
        marks = [p.mark() for p in peers]
        for p in peers:  # both requests leave before either is answered
            p.send_raw(req_xml(to, seq).replace("<iq ", "<iq id='same7' ", 1))
        for p, since in zip(peers, marks):
            reply = p.wait(lambda s: kind(s) == 'iq' and
                           s.get('id') == 'same7', since=since)
            self.assert_accepted(reply, seq, THERMO)
            msgs = collect_readout(p, to, seq, since)
            self.assert_readout_messages(msgs, seq, THERMO, p)
            self.assertEqual({f['name'] for f in fields_of(msgs)},
                             {'Temperature', 'Humidity'})
        for p, since in zip(peers, marks):
            p.barrier(to)
            dones = [m for m in p.messages(since=since)
                     if readout_part(m, seq) is not None and
                     readout_part(m, seq).get('done') == 'true']
            self.assertEqual(len(dones), 1, f'{p.bare} got {len(dones)} '
                             'completed readouts for one request')

    def test_readout_of_every_device_from_second_friend(self):
        for device in self.kithd.devices:
            seq = seqnr()
            reply, msgs = readout_raw(self.bob, self.kithd.full(device), seq)
            self.assert_accepted(reply, seq, device)
            self.assert_readout_messages(msgs, seq, device, self.bob)


if __name__ == '__main__':
    main()
