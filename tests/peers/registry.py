# SPDX-License-Identifier: GPL-3.0-or-later
"""A XEP-0347 thing registry as a component (protocol brief §8, §14.2),
with an in-memory table: one record per bare JID of a thing.

Thing -> registry:  register (record replaced; answered with an empty
                    result, or <claimed jid='owner'/> if claimed), update
                    (given tags replaced, empty strings deleted; removed or
                    unknown: item-not-found), unregister (recorded, empty
                    result).
Owner -> registry:  mine (exact tag match incl. KEY: the thing gets the
                    claimed push at the full JID it registered from, then
                    the owner gets <claimed jid='thing'/>; no match:
                    item-not-found), disown (push <disowned/>, wait for the
                    thing's result: error/timeout -> not-allowed; record
                    reset to unclaimed, no tags but a random KEY; empty
                    result to the owner), remove (push <removed/>, empty
                    result).
Tests:              push(to, 'claimed'|'disowned'|'removed', **attrs),
                    registers (every register received, in order),
                    pushes (every push sent with the thing's reply).

A thing that is offline when it is claimed stays claimed here; it learns
its owner from the result of its next register.
"""

import secrets
import threading
import urllib.parse

from component import Component, IqReply, attrs
from peer import bare, error_of, to_string

D = 'urn:xmpp:iot:discovery'


def tags_of(el):
    """{NAME: ('str'|'num', value)} of the <str>/<num> children of el."""
    out = {}
    for child in el:
        name = child.tag.split('}')[-1]
        if name in ('str', 'num') and child.get('name') is not None:
            out[child.get('name').upper()] = (name, child.get('value'))
    return out


def same_tags(a, b):
    """Exact match of two tag sets (names case-insensitive; numbers
    compared as numbers)."""
    if set(a) != set(b):
        return False
    for name, (type_, value) in a.items():
        other_type, other = b[name]
        if type_ != other_type:
            return False
        if type_ == 'num':
            try:
                if float(value) != float(other):
                    return False
            except (TypeError, ValueError):
                return False
        elif value != other:
            return False
    return True


def tags_xml(tags):
    return ''.join(f'<{type_}{attrs(name=name, value=value)}/>'
                   for name, (type_, value) in tags.items())


def parse_iotdisco(uri):
    """iotdisco:SN=..;MAN=..;#V=0.1;KEY=..;R=reg -> (tags, registry JID).

    tags: {NAME: ('str'|'num', value)} without R; values percent-decoded."""
    if not uri.startswith('iotdisco:'):
        raise ValueError(f'not an iotdisco: URI: {uri!r}')
    tags = {}
    registry = None
    for part in uri[len('iotdisco:'):].split(';'):
        if not part:
            continue
        name, sep, value = part.partition('=')
        if not sep:
            raise ValueError(f'{uri!r}: tag {part!r} without =')
        type_ = 'str'
        if name.startswith('#'):
            type_, name = 'num', name[1:]
        value = urllib.parse.unquote(value)
        if name.upper() == 'R':
            registry = value
        else:
            tags[name.upper()] = (type_, value)
    return tags, registry


def mine_xml(tags, public=None):
    """The owner's claim: <mine> with exactly these tags."""
    return (f"<mine xmlns='{D}'{attrs(public=public)}>{tags_xml(tags)}"
            f"</mine>")


class Record:
    def __init__(self, jid):
        self.jid = jid          # bare JID of the thing
        self.full = None        # the full JID it registered from
        self.tags = {}
        self.owner = None
        self.state = 'unclaimed'   # unclaimed | claimed | removed
        self.public = True

    def __repr__(self):
        return (f'<Record {self.jid} {self.state} owner={self.owner} '
                f'tags={self.tags}>')


class Register:
    """A register IQ received: `tags` parsed, `el`/`xml` as received,
    `answer` what the registry replied ('' or the claimed XML)."""

    def __init__(self, el):
        self.el = el
        self.xml = to_string(el)
        self.frm = el.get('from')
        self.payload = el.find(f'{{{D}}}register')
        self.tags = tags_of(self.payload)
        self.answer = None

    @property
    def key(self):
        return self.tags.get('KEY', (None, None))[1]

    def __repr__(self):
        return f'<Register from {self.frm}: {self.tags}>'


class Push:
    def __init__(self, to, name, payload):
        self.to = to
        self.name = name
        self.payload = payload
        self.reply = None       # the thing's reply element, None = none

    @property
    def ok(self):
        return self.reply is not None and self.reply.get('type') == 'result'

    def __repr__(self):
        reply = None if self.reply is None else to_string(self.reply)
        return f'<Push {self.name} to {self.to}: reply {reply}>'


class ThingRegistry(Component):
    features = (D,)
    identity = ('component', 'generic', 'kith test thing registry')
    push_timeout = 10

    def setup(self):
        self.records = {}
        self._registers = []
        self._pushes = []
        self._lock = threading.Lock()
        self.on_iq(D, 'register', self._on_register)
        self.on_iq(D, 'mine', self._on_mine)
        self.on_iq(D, 'disown', self._on_disown)
        self.on_iq(D, 'remove', self._on_remove)
        self.on_iq(D, 'update', self._on_update)
        self.on_iq(D, 'unregister', self._on_other)
        self.others = []        # update/unregister IQs received

    # -- thing -> registry -----------------------------------------------------------

    def _on_register(self, el):
        reg = Register(el)
        thing = bare(reg.frm)
        with self._lock:
            self._registers.append(reg)
            record = self.records.get(thing)
            if record is not None and record.owner is not None:
                record.full = reg.frm
                reg.answer = f"<claimed xmlns='{D}'{attrs(jid=record.owner)}/>"
                return reg.answer
            record = record or Record(thing)
            record.full = reg.frm
            record.tags = reg.tags
            record.state = 'unclaimed'
            self.records[thing] = record
        reg.answer = ''
        return ''

    def _on_update(self, el):
        """A thing updates its own record: only the given tags change, an
        empty string deletes a tag; a removed (or unknown) record:
        item-not-found.  (An owner's update names the thing with jid=.)"""
        with self._lock:
            self.others.append(el)
            payload = el.find(f'{{{D}}}update')
            thing = bare(payload.get('jid') or el.get('from'))
            record = self.records.get(thing)
            if record is None or record.state == 'removed':
                raise IqReply('item-not-found')
            if payload.get('jid') and record.owner != bare(el.get('from')):
                raise IqReply('item-not-found')
            for name, (type_, value) in tags_of(payload).items():
                if type_ == 'str' and value == '':
                    record.tags.pop(name, None)
                else:
                    record.tags[name] = (type_, value)
        return ''

    def updates(self, thing=None):
        with self._lock:
            found = [el for el in self.others
                     if el.find(f'{{{D}}}update') is not None]
        return [el for el in found
                if thing is None or bare(el.get('from')) == bare(thing)]

    def _on_other(self, el):
        with self._lock:
            self.others.append(el)
        return ''

    # -- owner -> registry ------------------------------------------------------------

    def _on_mine(self, el):
        owner = bare(el.get('from'))
        wanted = tags_of(el.find(f'{{{D}}}mine'))
        public = el.find(f'{{{D}}}mine').get('public')
        with self._lock:
            found = None
            for record in self.records.values():
                if same_tags(record.tags, wanted) and \
                        record.owner in (None, owner):
                    found = record
                    break
            if found is None:
                raise IqReply('item-not-found')
            again = found.owner == owner
            found.owner = owner
            found.state = 'claimed'
            found.public = public not in ('false', '0')
        answer = f"<claimed xmlns='{D}'{attrs(jid=found.jid)}/>"
        if again:
            return answer

        async def _claim():
            await self._push_async(found.full, 'claimed',
                                   jid=owner, public=public)
            return answer
        return _claim()

    def _owned(self, el, name):
        owner = bare(el.get('from'))
        thing = bare(el.find(f'{{{D}}}{name}').get('jid'))
        with self._lock:
            record = self.records.get(thing)
            if record is None or record.owner != owner:
                raise IqReply('item-not-found')
        return record

    def _on_disown(self, el):
        record = self._owned(el, 'disown')

        def reset(reply):
            # at once: the thing registers again right after its answer
            if reply.get('type') == 'result':
                with self._lock:
                    record.owner = None
                    record.state = 'unclaimed'
                    record.tags = {'KEY': ('str', secrets.token_hex(16))}

        async def _disown():
            push = await self._push_async(record.full, 'disowned',
                                          on_reply=reset)
            if not push.ok:
                raise IqReply('not-allowed')
            return ''
        return _disown()

    def _on_remove(self, el):
        record = self._owned(el, 'remove')

        async def _remove():
            with self._lock:
                record.state = 'removed'
            await self._push_async(record.full, 'removed')
            return ''
        return _remove()

    # -- registry -> thing --------------------------------------------------------------

    async def _push_async(self, to, name, on_reply=None, **values):
        payload = f"<{name} xmlns='{D}'{attrs(**values)}/>"
        push = Push(to, name, payload)
        with self._lock:
            self._pushes.append(push)
        if to is not None:
            push.reply = await self.request(to, 'set', payload,
                                            self.push_timeout, on_reply)
        return push

    def push(self, to, name, timeout=10, **values):
        """Push <name xmlns=D .../> (claimed, disowned, removed) to `to`;
        returns the reply element."""
        payload = f"<{name} xmlns='{D}'{attrs(**values)}/>"
        reply = self.iq(to, 'set', payload, timeout)
        with self._lock:
            push = Push(to, name, payload)
            push.reply = reply
            self._pushes.append(push)
        return reply

    # -- looking at the table ------------------------------------------------------------

    def rmark(self):
        with self._lock:
            return len(self._registers)

    def registers(self, thing=None, since=0):
        with self._lock:
            found = list(self._registers[since:])
        return [r for r in found if thing is None or bare(r.frm) == thing]

    def wait_register(self, thing, since=0, timeout=15):
        """The first register from bare JID `thing` at or after `since`."""
        found = self.inbox.wait_until(
            lambda: self.registers(thing, since),
            timeout, what=f'register from {thing} at {self.jid}')
        return found[0]

    def pushes(self, name=None):
        with self._lock:
            return [p for p in self._pushes if name is None or p.name == name]

    def wait_push(self, name, to=None, timeout=15):
        """A finished push (the thing answered or it timed out)."""
        def done():
            return [p for p in self.pushes(name)
                    if (to is None or bare(p.to) == bare(to)) and
                    p.reply is not None]
        return self.inbox.wait_until(done, timeout,
                                     what=f'{name} push to {to} answered')[0]

    def record(self, thing):
        with self._lock:
            return self.records.get(bare(thing))


__all__ = ['D', 'ThingRegistry', 'Record', 'Register', 'Push', 'tags_of',
           'same_tags', 'tags_xml', 'parse_iotdisco', 'mine_xml',
           'error_of']
