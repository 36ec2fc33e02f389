# SPDX-License-Identifier: GPL-3.0-or-later
"""A synchronous XMPP peer for kith's integration tests and tools.

`Peer` wraps a slixmpp 1.8.3 ClientXMPP whose asyncio loop runs in a
background thread, so tests can be written as plain blocking code.
Every stanza the peer receives is recorded (as an lxml element) in its
`Inbox`; tests wait on the inbox with predicates instead of sleeping.

Run with Debian's /usr/bin/python3 (python3-slixmpp, python3-lxml).
Known slixmpp 1.8.3 problems worked around here (protocol brief section 11):
  - pre-auth in-band registration is never sent unless
    `_always_send_everything` is set;
  - the xep_0323/xep_0325 client handlers raise KeyError (and then send an
    error stanza back to the device!) for replies they did not request, so
    they are re-registered behind a guard;
  - standard IQ errors never reach the plugin callbacks, so plugin based
    helpers also watch the inbox for an IQ error with the request's id.
"""

import asyncio
import itertools
import logging
import threading
import time
import xml.etree.ElementTree as ET

from lxml import etree
import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = {
    'c': 'jabber:client',
    'sd': 'urn:xmpp:iot:sensordata',
    'ctl': 'urn:xmpp:iot:control',
    'st': 'urn:ietf:params:xml:ns:xmpp-stanzas',
    'disco': 'http://jabber.org/protocol/disco#info',
    'ver': 'jabber:iq:version',
    'ping': 'urn:xmpp:ping',
    'roster': 'jabber:iq:roster',
    'prov': 'urn:xmpp:iot:provisioning',
    'iotdisco': 'urn:xmpp:iot:discovery',
}
STANZA_KINDS = ('iq', 'message', 'presence')
_ids = itertools.count(1)

log = logging.getLogger('kith.peer')


class PeerError(Exception):
    pass


# ----------------------------------------------------------------------------
# small XML helpers (all work on lxml elements of the 'jabber:client' stream)

def bare(jid):
    return (jid or '').split('/', 1)[0]


def kind(el):
    """'iq', 'message' or 'presence' (local name of the stanza)."""
    return etree.QName(el).localname


def ptype(el):
    """Presence/message type with the RFC 6120 defaults made explicit."""
    default = {'presence': 'available', 'message': 'normal'}.get(kind(el))
    return el.get('type') or default


def error_of(el):
    """(error type, condition, text) of an error stanza, or None."""
    err = el.find('c:error', NS)
    if err is None:
        return None
    condition = None
    text = None
    for child in err:
        qname = etree.QName(child)
        if qname.namespace != NS['st']:
            continue
        if qname.localname == 'text':
            text = child.text
        else:
            condition = qname.localname
    return (err.get('type'), condition, text)


def to_string(el):
    return etree.tostring(el, encoding='unicode')


def jid_matches(jid, want):
    """`want` without a resource matches any resource of that bare JID."""
    if want is None:
        return True
    if '/' in want:
        return jid == want
    return bare(jid) == want


def match(kind_=None, frm=None, type_=None, id_=None, child=None):
    """Build a stanza predicate; `child` is an lxml path like 'sd:fields'."""
    def pred(el):
        if kind_ is not None and kind(el) != kind_:
            return False
        if not jid_matches(el.get('from', ''), frm):
            return False
        if type_ is not None and ptype(el) != type_:
            return False
        if id_ is not None and el.get('id') != id_:
            return False
        if child is not None and el.find(child, NS) is None:
            return False
        return True
    return pred


# ----------------------------------------------------------------------------

class Inbox:
    """Thread-safe, append-only record of received stanzas."""

    def __init__(self):
        self._items = []
        self._cond = threading.Condition()

    def add(self, el):
        with self._cond:
            self._items.append(el)
            self._cond.notify_all()

    def mark(self):
        """Position to pass as `since` to only look at later stanzas."""
        with self._cond:
            return len(self._items)

    def items(self, since=0):
        with self._cond:
            return list(self._items[since:])

    def find_all(self, pred, since=0):
        return [el for el in self.items(since) if pred(el)]

    def wait(self, pred, timeout=10, since=0, what='stanza'):
        """First stanza at or after `since` matching `pred`, waiting for it."""
        deadline = time.monotonic() + timeout
        pos = since
        with self._cond:
            while True:
                for el in self._items[pos:]:
                    if pred(el):
                        return el
                pos = max(pos, len(self._items))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f'no {what} within {timeout} s')
                self._cond.wait(left)

    def wait_until(self, check, timeout=10, what='condition'):
        """Re-evaluate `check()` whenever a stanza arrives (or every 0.2 s)."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f'{what} not reached within {timeout} s')
            with self._cond:
                self._cond.wait(min(left, 0.2))


# ----------------------------------------------------------------------------

class Peer:
    """A logged-in XMPP client usable from synchronous test code.

    host/port/domain: where to connect; ca_file: CA to trust for STARTTLS
    (tls=False disables STARTTLS and allows plain auth).  register=True
    creates the account by in-band registration first ('conflict', i.e. the
    account exists, is fine).  auto_authorize/auto_subscribe are slixmpp's
    roster defaults (True = accept and reciprocate every subscription).
    """

    def __init__(self, host, port, domain, user, password, ca_file=None,
                 resource='peer', register=True, tls=True,
                 auto_authorize=True, auto_subscribe=True, timeout=15):
        self.user = user
        self.password = password
        self.bare = f'{user}@{domain}'
        self.jid = f'{self.bare}/{resource}'
        self.inbox = Inbox()
        self._address = (host, port)
        self._ca_file = ca_file
        self._register = register
        self._tls = tls
        self._auto = (auto_authorize, auto_subscribe)
        self._ready = threading.Event()
        self._failure = None
        self.connected = False
        self.loop = None
        self.xmpp = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f'peer-{user}')
        self._thread.start()
        if not self._ready.wait(timeout):
            self._failure = self._failure or f'no session within {timeout} s'
        if self._failure:
            failure = self._failure
            self.close()
            raise PeerError(f'{self.jid}: {failure}')

    # -- life cycle (runs in the peer thread) --------------------------------

    def _run(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.set_exception_handler(_quiet_exception_handler)
        try:
            self.xmpp = self._make_client()
            self.xmpp.connect(self._address, disable_starttls=not self._tls)
            self.loop.run_forever()
        except Exception as exc:  # reported through _failure
            self._fail(f'peer thread: {exc!r}')
        finally:
            self._shutdown_loop()

    def _make_client(self):
        xmpp = slixmpp.ClientXMPP(self.jid, self.password)
        xmpp.loop = self.loop
        xmpp.auto_authorize, xmpp.auto_subscribe = self._auto
        if self._tls:
            xmpp.ca_certs = self._ca_file
        else:
            xmpp['feature_mechanisms'].unencrypted_plain = True
        for plugin in ('xep_0030', 'xep_0077', 'xep_0092', 'xep_0199',
                       'xep_0323', 'xep_0325'):
            xmpp.register_plugin(plugin)
        _guard_iot_handlers(xmpp)
        if self._register:
            xmpp['xep_0077'].force_registration = True
            xmpp._always_send_everything = True  # slixmpp 1.8.3 IBR bug
            xmpp.add_event_handler('register', self._on_register)
        xmpp.add_filter('in', self._record)
        xmpp.add_event_handler('session_start', self._on_session_start)
        xmpp.add_event_handler('failed_auth',
                               lambda _: self._fail('authentication failed'))
        xmpp.add_event_handler('connection_failed',
                               lambda e: self._fail(f'connection failed: {e}'))
        xmpp.add_event_handler('disconnected', self._on_disconnected)
        return xmpp

    def _fail(self, reason):
        if self._failure is None and not self._ready.is_set():
            self._failure = reason
            self._ready.set()

    def _on_disconnected(self, reason):
        self.connected = False
        self._fail(f'disconnected before session start: {reason}')

    async def _on_register(self, _form):
        iq = self.xmpp.Iq()
        iq['type'] = 'set'
        iq['register']['username'] = self.user
        iq['register']['password'] = self.password
        try:
            await iq.send(timeout=10)
        except IqError as exc:
            if exc.condition != 'conflict':
                self._fail(f'registration refused: {exc.condition}')
                self.xmpp.abort()
        except IqTimeout:
            self._fail('registration timed out')
            self.xmpp.abort()

    async def _on_session_start(self, _event):
        try:
            await self.xmpp.get_roster(timeout=10)
            self.xmpp.send_presence()
        except (IqError, IqTimeout) as exc:
            self._fail(f'roster request failed: {exc!r}')
            return
        self.connected = True
        self._ready.set()

    def _record(self, stanza):
        try:
            if stanza.xml.tag.startswith('{jabber:client}') and \
                    stanza.xml.tag.split('}')[1] in STANZA_KINDS:
                self.inbox.add(etree.fromstring(ET.tostring(stanza.xml)))
        except Exception:  # never break the stream because of the recorder
            log.exception('cannot record stanza')
        return stanza

    def _shutdown_loop(self):
        loop = self.loop
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(
                    asyncio.gather(*pending, return_exceptions=True))
        finally:
            loop.close()

    def close(self):
        """Disconnect (closing the stream cleanly if possible) and stop."""
        loop = self.loop
        if loop is None or loop.is_closed() or not self._thread.is_alive():
            self._thread.join(5)
            return
        async def _disconnect():
            try:
                await asyncio.wait_for(self.xmpp.disconnect(wait=1), 3)
            except Exception:
                self.xmpp.abort()
        try:
            asyncio.run_coroutine_threadsafe(_disconnect(), loop).result(5)
        except Exception:
            pass
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # loop already closed
            pass
        self._thread.join(5)

    # -- calling into the peer thread -----------------------------------------

    def call(self, fn, *args, timeout=10, **kwargs):
        """Run fn(*args) in the peer's loop thread and return its result."""
        async def _wrapper():
            return fn(*args, **kwargs)
        return asyncio.run_coroutine_threadsafe(_wrapper(), self.loop) \
            .result(timeout)

    def mark(self):
        return self.inbox.mark()

    # -- raw stanzas ------------------------------------------------------------

    def send_raw(self, xml):
        """Write serialized XML as-is on the stream (default ns jabber:client)."""
        self.call(self.xmpp.send_raw, xml)

    def new_id(self):
        return f'kt{next(_ids)}'

    def iq_raw(self, xml, timeout=10):
        """Send an <iq> given as XML text; return the reply element.

        An id is added when missing.  Error replies are returned, not raised.
        """
        el = etree.fromstring(xml)
        if el.get('id') is None:
            el.set('id', self.new_id())
        iq_id = el.get('id')
        since = self.mark()
        self.send_raw(to_string(el))
        return self.inbox.wait(
            lambda s: kind(s) == 'iq' and s.get('id') == iq_id and
            s.get('type') in ('result', 'error'),
            timeout, since, what=f'reply to iq {iq_id}')

    def wait(self, pred, timeout=10, since=0, what='stanza'):
        return self.inbox.wait(pred, timeout, since, what)

    def wait_presence(self, frm, type_='available', since=0, timeout=10):
        """Presence of `type_` ('available', 'subscribe', ...) from `frm`."""
        return self.inbox.wait(match('presence', frm, type_), timeout, since,
                               what=f'{type_} presence from {frm}')

    def wait_message(self, pred=None, frm=None, type_=None, since=0,
                     timeout=10, what='message'):
        base = match('message', frm, type_)
        return self.inbox.wait(lambda s: base(s) and (pred is None or pred(s)),
                               timeout, since, what)

    def messages(self, pred=None, since=0):
        """Messages received so far (after `since`) matching `pred`."""
        base = match('message')
        return [m for m in self.inbox.items(since)
                if base(m) and (pred is None or pred(m))]

    def barrier(self, to, timeout=10):
        """Round-trip a ping to `to`: everything `to` sent before is in."""
        return self.iq_raw(f"<iq type='get' to='{to}'>"
                           "<ping xmlns='urn:xmpp:ping'/></iq>", timeout)

    # -- presence / roster ---------------------------------------------------------

    def subscribe(self, jid):
        self.send_presence(jid, 'subscribe')

    def unsubscribe(self, jid):
        self.send_presence(jid, 'unsubscribe')

    def send_presence(self, jid, type_):
        self.call(self.xmpp.send_presence, pto=bare(jid), ptype=type_)

    def chat(self, to, body, type_='chat'):
        self.call(self.xmpp.send_message, mto=to, mbody=body, mtype=type_)

    def roster_subscription(self, jid):
        """'none'/'to'/'from'/'both' of our roster item for jid, or None."""
        def _get():
            roster = self.xmpp.client_roster
            if bare(jid) not in roster:
                return None
            return roster[bare(jid)]['subscription']
        return self.call(_get)

    def wait_roster(self, jid, states, timeout=10):
        """Wait until roster_subscription(jid) is in `states`."""
        return self.inbox.wait_until(
            lambda: self.roster_subscription(jid) in states and True,
            timeout, what=f'roster state of {jid} in {states}')

    # -- answering IQs ------------------------------------------------------------

    def handle_iq(self, namespace, name, responder):
        """Answer IQ get/set with a {namespace}name payload ourselves:
        responder(iq element) -> payload text of the result ('' = empty
        result) or None (no answer).  Runs in the peer thread; the IQ is
        in the inbox too.  Without this, slixmpp answers such IQs with
        feature-not-implemented."""
        def run(stanza):
            if stanza['type'] not in ('get', 'set'):
                return
            el = etree.fromstring(ET.tostring(stanza.xml))
            payload = responder(el)
            if payload is None:
                return
            reply = etree.Element('iq', type='result')
            for attr, value in (('id', el.get('id')), ('to', el.get('from'))):
                if value is not None:
                    reply.set(attr, value)
            text = to_string(reply)
            if payload:
                text = text[:-2] + '>' + payload + '</iq>'
            self.xmpp.send_raw(text)

        def _register():
            self.xmpp.register_handler(Callback(
                f'kith answer {name}',
                MatchXPath(f'{{jabber:client}}iq/{{{namespace}}}{name}'),
                run))
        self.call(_register)

    # -- simple IQs ---------------------------------------------------------------

    def ping(self, to, timeout=10):
        return self.barrier(to, timeout)

    def disco_info(self, to, timeout=10):
        return self.iq_raw(f"<iq type='get' to='{to}'><query xmlns="
                           f"'{NS['disco']}'/></iq>", timeout)

    def version(self, to, timeout=10):
        return self.iq_raw(f"<iq type='get' to='{to}'><query xmlns="
                           f"'{NS['ver']}'/></iq>", timeout)

    # -- IoT through slixmpp's own plugins ----------------------------------------

    def request_data(self, to, fields=None, nodes=None, flags=None,
                     timeout=10):
        """XEP-0323 readout through slixmpp's xep_0323 plugin.

        Returns (events, error): events are the plugin callback keyword
        dicts in order (result='accepted', 'fields', 'done', ...); error is
        the IQ error element if the device answered with a standard error
        (which the 1.8.3 plugin never reports).
        """
        events = []
        finished = threading.Event()

        def callback(**kw):
            events.append(kw)
            if kw.get('result') in ('done', 'failure', 'rejected',
                                    'cancelled'):
                finished.set()

        since = self.mark()
        seqnr = self.call(self.xmpp['xep_0323'].request_data, self.jid, to,
                          callback, nodeIds=nodes, fields=fields,
                          flags=flags or {'momentary': 'true'})
        err = self._wait_plugin(finished, seqnr, since, timeout, 'readout')
        return events, err

    def set_request(self, to, fields, timeout=10):
        """XEP-0325 control through slixmpp's xep_0325 plugin.

        fields: [(name, typename, value)].  Returns (callback kwargs or None,
        IQ error element or None).
        """
        results = []
        finished = threading.Event()

        def callback(**kw):
            results.append(kw)
            finished.set()

        since = self.mark()
        plugin = self.xmpp['xep_0325']
        def _send():
            plugin.set_request(self.jid, to, callback, fields)
            return str(plugin.last_seqnr)
        iq_id = self.call(_send)
        err = self._wait_plugin(finished, iq_id, since, timeout, 'control')
        return (results[0] if results else None), err

    def set_command(self, to, fields):
        """XEP-0325 message-carried set through the plugin (no reply)."""
        self.call(self.xmpp['xep_0325'].set_command, self.jid, to, fields)

    def _wait_plugin(self, finished, iq_id, since, timeout, what):
        def check():
            if finished.is_set():
                return 'done'
            errors = self.inbox.find_all(
                match('iq', type_='error', id_=iq_id), since)
            return errors[0] if errors else None
        got = self.inbox.wait_until(check, timeout, what=f'{what} {iq_id}')
        return None if isinstance(got, str) else got


# ----------------------------------------------------------------------------

def _guard_iot_handlers(xmpp):
    """Re-register the xep_0323/0325 client handlers so that replies the
    plugins did not ask for (raw requests of the tests) are ignored instead
    of raising KeyError, which makes slixmpp send an error stanza back.
    The device-side handlers (we are never a device) are removed."""
    sd = xmpp['xep_0323']
    ctl = xmpp['xep_0325']
    guards = {
        'Sensordata Event:Accepted': (
            sd, lambda s: s['accepted']['seqnr'], sd._handle_event_accepted),
        'Sensordata Event:Rejected': (
            sd, lambda s: s['rejected']['seqnr'], sd._handle_event_rejected),
        'Sensordata Event:Cancelled': (
            sd, lambda s: s['cancelled']['seqnr'],
            sd._handle_event_cancelled),
        'Sensordata Event:Fields': (
            sd, lambda s: s['fields']['seqnr'], sd._handle_event_fields),
        'Sensordata Event:Failure': (
            sd, lambda s: s['failure']['seqnr'], sd._handle_event_failure),
        'Sensordata Event:Started': (
            sd, lambda s: s['started']['seqnr'], sd._handle_event_started),
        'Control Event:SetResponse': (
            ctl, lambda s: s['id'], ctl._handle_set_response),
        'Control Event:SetResponseError': (
            ctl, lambda s: s['id'], ctl._handle_set_response),
    }
    matchers = {}
    for handler in list(xmpp._XMLStream__handlers):
        matchers[handler.name] = handler._matcher
    for name in ('Sensordata Event:Req', 'Sensordata Event:Cancel',
                 'Control Event:DirectSet', 'Control Event:SetReq'):
        xmpp.remove_handler(name)
    for name, (plugin, key, fn) in guards.items():
        xmpp.remove_handler(name)
        xmpp.register_handler(Callback(
            name, matchers[name], _guarded(plugin, key, fn)))


def _guarded(plugin, key, fn):
    def run(stanza):
        if key(stanza) in plugin.sessions:
            fn(stanza)
    return run


def _quiet_exception_handler(loop, context):
    exc = context.get('exception')
    if isinstance(exc, (IqError, IqTimeout, asyncio.CancelledError)):
        return  # unawaited plugin futures; errors are read from the inbox
    loop.default_exception_handler(context)
