#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""XEP-0325 control of the simulated relay: IQ and message carried sets,
<boolean>/<bool>, errors with paramError, all-or-nothing, and the new value
in the next readout and presence (contract.md: Control XEP-0325)."""

import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (KithTestCase, NS, befriend, error_of, fields_of,  # noqa
                     kind, main, match, readout_raw)

RELAY = 'sim-relay-1'
THERMO = 'sim-thermometer-1'
_seqnr = itertools.count(200)


class ControlTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        world = cls.start_world(policy='open')
        cls.kithd = world.kithd
        cls.alice = world.peer('alice')
        cls.kithd.wait_online(cls.alice)
        befriend(cls.alice, cls.kithd.bare_jids())
        cls.relay = cls.kithd.full(RELAY)

    # -- helpers ------------------------------------------------------------------

    def set_iq(self, params, to=None):
        return self.alice.iq_raw(
            f"<iq type='set' to='{to or self.relay}'>"
            f"<set xmlns='{NS['ctl']}'>{params}</set></iq>")

    def assert_set_ok(self, reply):
        self.assertEqual(reply.get('type'), 'result',
                         f'set failed: {error_of(reply)}')
        self.assertIsNotNone(reply.find('ctl:setResponse', NS),
                             'result without <setResponse>')

    def set_relay(self, value):
        self.assert_set_ok(self.set_iq(
            f"<boolean name='Relay' value='{value}'/>"))

    def relay_value(self):
        """Relay as read by a fresh readout; checks it is writable."""
        seq = str(next(_seqnr))
        reply, msgs = readout_raw(self.alice, self.relay, seq)
        self.assertEqual(reply.get('type'), 'result')
        relay = [f for f in fields_of(msgs) if f['name'] == 'Relay']
        self.assertEqual(len(relay), 1)
        self.assertEqual(relay[0]['type'], 'boolean')
        self.assertEqual(relay[0].get('writable'), 'true')
        return relay[0]['value']

    def assert_param_error(self, reply, condition, var='Relay'):
        self.assertEqual(reply.get('type'), 'error')
        err_type, cond, _ = error_of(reply)
        self.assertEqual(cond, condition)
        if condition == 'bad-request':
            self.assertEqual(err_type, 'modify')
            param = reply.find('c:error/ctl:paramError', NS)
            self.assertIsNotNone(param, 'bad-request without <paramError>')
            self.assertEqual(param.get('var'), var)
        else:
            self.assertEqual(err_type, 'cancel')

    def assert_silent(self, since):
        """Nothing but presence came back from the relay since `since`
        (the barrier ping's own reply excepted)."""
        barrier = self.alice.barrier(self.relay)
        replies = [s for s in self.alice.inbox.items(since)
                   if kind(s) != 'presence' and
                   s.get('from', '').startswith(self.kithd.jid(RELAY)) and
                   s.get('id') != barrier.get('id')]
        self.assertEqual(replies, [], 'a message-carried set was answered')

    # -- IQ set -------------------------------------------------------------------

    def test_set_boolean_changes_readout_and_presence(self):
        self.set_relay('false')
        self.assertEqual(self.relay_value(), 'false')
        since = self.alice.mark()
        self.set_relay('true')
        self.assertEqual(self.relay_value(), 'true')
        pres = self.alice.wait(
            lambda s: match('presence', self.relay, 'available')(s) and
            s.findtext('c:status', None, NS) == 'on', since=since,
            what="presence with status 'on'")
        self.assertIsNotNone(pres)
        since = self.alice.mark()
        self.set_relay('false')
        self.alice.wait(
            lambda s: match('presence', self.relay, 'available')(s) and
            s.findtext('c:status', None, NS) == 'off', since=since,
            what="presence with status 'off'")

    def test_bool_alias_and_lexical_forms(self):
        for element, value, expected in (
                ('bool', 'true', 'true'), ('bool', 'FALSE', 'false'),
                ('boolean', '1', 'true'), ('boolean', '0', 'false'),
                ('boolean', 'True', 'true'), ('bool', 'False', 'false')):
            with self.subTest(element=element, value=value):
                self.assert_set_ok(self.set_iq(
                    f"<{element} name='Relay' value='{value}'/>"))
                self.assertEqual(self.relay_value(), expected)

    def test_bad_value_is_bad_request_with_param_error(self):
        self.set_relay('false')
        for bad in ('maybe', '', 'on', '2'):
            with self.subTest(value=bad):
                reply = self.set_iq(f"<boolean name='Relay' value='{bad}'/>")
                self.assert_param_error(reply, 'bad-request')
        self.assertEqual(self.relay_value(), 'false')

    def test_wrong_type_is_bad_request_with_param_error(self):
        self.set_relay('false')
        reply = self.set_iq("<int name='Relay' value='1'/>")
        self.assert_param_error(reply, 'bad-request')
        self.assertEqual(self.relay_value(), 'false')

    def test_unknown_parameter_is_item_not_found(self):
        self.set_relay('false')
        reply = self.set_iq("<boolean name='Dimmer' value='true'/>")
        self.assert_param_error(reply, 'item-not-found')
        self.assertEqual(self.relay_value(), 'false')

    def test_thermometer_has_no_relay_parameter(self):
        reply = self.set_iq("<boolean name='Relay' value='true'/>",
                            to=self.kithd.full(THERMO))
        self.assert_param_error(reply, 'item-not-found')

    def test_all_or_nothing_with_unknown_parameter(self):
        self.set_relay('false')
        reply = self.set_iq("<boolean name='Relay' value='true'/>"
                            "<boolean name='Dimmer' value='true'/>")
        self.assert_param_error(reply, 'item-not-found')
        self.assertEqual(self.relay_value(), 'false')

    def test_all_or_nothing_with_bad_value(self):
        self.set_relay('false')
        reply = self.set_iq("<boolean name='Relay' value='true'/>"
                            "<boolean name='Relay' value='maybe'/>")
        self.assert_param_error(reply, 'bad-request')
        self.assertEqual(self.relay_value(), 'false')

    # -- message carried set -------------------------------------------------------

    def send_set_message(self, params):
        self.alice.send_raw(f"<message to='{self.relay}'><set xmlns="
                            f"'{NS['ctl']}'>{params}</set></message>")

    def test_message_set_is_applied_silently(self):
        self.set_relay('false')
        since = self.alice.mark()
        self.send_set_message("<boolean name='Relay' value='true'/>")
        self.assert_silent(since)
        self.assertEqual(self.relay_value(), 'true')

    def test_invalid_message_set_is_ignored_silently(self):
        self.set_relay('false')
        since = self.alice.mark()
        self.send_set_message("<boolean name='Relay' value='true'/>"
                              "<boolean name='Relay' value='maybe'/>")
        self.assert_silent(since)
        self.assertEqual(self.relay_value(), 'false')

    # -- through slixmpp's xep_0325 plugin ----------------------------------------

    def test_plugin_set_request(self):
        self.set_relay('false')
        result, err = self.alice.set_request(self.relay,
                                             [('Relay', 'boolean', 'true')])
        self.assertIsNone(err, f'IQ error: {err is not None and error_of(err)}')
        self.assertIsNotNone(result, 'plugin callback never fired')
        self.assertIn(result['result'], ('', 'OK'))
        self.assertEqual(self.relay_value(), 'true')

    def test_plugin_set_command(self):
        self.set_relay('true')
        since = self.alice.mark()
        self.alice.set_command(self.relay, [('Relay', 'boolean', 'false')])
        self.assert_silent(since)
        self.assertEqual(self.relay_value(), 'false')


DIMMER = 'sim-dimmer-1'


class DimmerTest(KithTestCase):
    """A device with two writable parameters, a number with a range and a
    boolean: sets of several parameters, ranges, and numbers for doubles."""

    @classmethod
    def setUpClass(cls):
        world = cls.start_world(policy='open', thermometers=0, relays=0,
                                extra_groups={'bus:sim': {'Dimmers': '1'}})
        cls.kithd = world.kithd
        cls.kithd.devices = [DIMMER]
        cls.alice = world.peer('alice')
        cls.kithd.wait_online(cls.alice)
        befriend(cls.alice, [cls.kithd.jid(DIMMER)])
        cls.dimmer = cls.kithd.full(DIMMER)

    def set_iq(self, params):
        return self.alice.iq_raw(
            f"<iq type='set' to='{self.dimmer}'>"
            f"<set xmlns='{NS['ctl']}'>{params}</set></iq>")

    def values(self):
        reply, msgs = readout_raw(self.alice, self.dimmer, str(next(_seqnr)))
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        return {f['name']: f for f in fields_of(msgs)}

    def test_two_parameters_in_one_set(self):
        reply = self.set_iq("<boolean name='On' value='true'/>"
                            "<double name='Level' value='40'/>")
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        values = self.values()
        self.assertEqual(values['On']['value'], 'true')
        self.assertEqual(float(values['Level']['value']), 40)
        self.assertEqual(values['Level']['type'], 'numeric')
        self.assertEqual(values['Level'].get('unit'), '%')
        self.assertEqual(values['Level'].get('writable'), 'true')

    def test_int_is_accepted_for_a_number(self):
        reply = self.set_iq("<int name='Level' value='55'/>")
        self.assertEqual(reply.get('type'), 'result', error_of(reply))
        self.assertEqual(float(self.values()['Level']['value']), 55)

    def test_out_of_range_changes_nothing(self):
        self.assertEqual(self.set_iq("<double name='Level' value='30'/>"
                                     "<boolean name='On' value='false'/>")
                         .get('type'), 'result')
        reply = self.set_iq("<boolean name='On' value='true'/>"
                            "<double name='Level' value='150'/>")
        self.assertEqual(reply.get('type'), 'error')
        self.assertEqual(error_of(reply)[:2], ('modify', 'bad-request'))
        param = reply.find('.//ctl:paramError', NS)
        self.assertIsNotNone(param)
        self.assertEqual(param.get('var'), 'Level')
        values = self.values()
        self.assertEqual(values['On']['value'], 'false')
        self.assertEqual(float(values['Level']['value']), 30)


if __name__ == '__main__':
    main()
