# SPDX-License-Identifier: GPL-3.0-or-later
"""A synchronous XEP-0114 component for kith's integration tests.

`Component` wraps a slixmpp 1.8.3 ComponentXMPP (for example
`prov.localhost`) whose asyncio loop runs in a background thread, like
`peer.Peer` does for clients.  Every stanza it receives is recorded in an
`Inbox` with the component namespace rewritten to 'jabber:client', so the
helpers of peer.py (`match`, `error_of`, `NS`) work on them unchanged.

No slixmpp plugin is loaded: the component answers disco#info (identity +
`features`), disco#items (empty) and ping itself, and every other IQ get/set
goes to a handler registered with `on_iq(namespace, name, handler)`; without
one it gets `service-unavailable`.  Subclasses (provisioning.py,
registry.py) add their handlers in `setup()`.

Components' stanzas are in 'jabber:component:accept' (protocol brief §14):
handlers match on that namespace; stanzas are sent as text without an xmlns
(the stream's default namespace) and always with an explicit `from`.

`stop()` disconnects (Prosody then bounces stanzas to the component with
`service-unavailable`), `start()` connects again; recorded state and tables
of subclasses survive.
"""

import asyncio
import itertools
import logging
import threading
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from lxml import etree
import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from peer import NS, Inbox, kind, to_string

COMPONENT_NS = 'jabber:component:accept'
CLIENT_NS = 'jabber:client'
STANZA_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
_ids = itertools.count(1)

log = logging.getLogger('kith.component')


class ComponentError(Exception):
    pass


def attrs(**values):
    """XML attributes from keyword arguments (None values left out);
    a trailing underscore is dropped (type_ -> type)."""
    return ''.join(f' {name.rstrip("_")}={quoteattr(str(value))}'
                   for name, value in values.items() if value is not None)


def error_xml(condition, type_='cancel', text=None):
    body = f"<{condition} xmlns='{STANZA_NS}'/>"
    if text:
        body += f"<text xmlns='{STANZA_NS}'>{escape(text)}</text>"
    return f"<error type='{type_}'>{body}</error>"


def normalize(el):
    """Rewrite 'jabber:component:accept' to 'jabber:client' in an lxml tree."""
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        if qname.namespace == COMPONENT_NS:
            node.tag = f'{{{CLIENT_NS}}}{qname.localname}'
    etree.cleanup_namespaces(el)
    return el


class Component:
    """A connected XEP-0114 component; `jid` is e.g. 'prov.localhost'.

    features: disco#info features it advertises; identity: (category,
    type, name) of its disco#info identity."""

    features = ()
    identity = ('component', 'generic', 'kith test component')

    def __init__(self, host, port, jid, secret, features=None, identity=None,
                 timeout=15, start=True):
        self.jid = jid
        self._address = (host, port)
        self._secret = secret
        if features is not None:
            self.features = tuple(features)
        if identity is not None:
            self.identity = identity
        self.inbox = Inbox()
        self.traffic = []       # ('<-'|'->', text) for the failure dump
        self._handlers = {}     # (namespace, name) -> handler(iq element)
        self._waiting = {}      # iq id -> asyncio future (loop thread only)
        self._timeout = timeout
        self.loop = None
        self.xmpp = None
        self._thread = None
        self.connected = False
        self.setup()
        if start:
            self.start()

    def setup(self):
        """Subclasses register their IQ handlers here."""

    # -- life cycle ---------------------------------------------------------------

    def start(self):
        if self._thread is not None and self._thread.is_alive():
            return
        self._ready = threading.Event()
        self._failure = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f'component-{self.jid}')
        self._thread.start()
        if not self._ready.wait(self._timeout):
            self._failure = self._failure or \
                f'no handshake within {self._timeout} s'
        if self._failure:
            failure = self._failure
            self.stop()
            raise ComponentError(f'{self.jid}: {failure}')

    def _run(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.set_exception_handler(lambda loop, ctx: None
                                        if isinstance(ctx.get('exception'),
                                                      asyncio.CancelledError)
                                        else loop.default_exception_handler(
                                            ctx))
        try:
            self.xmpp = self._make()
            self.xmpp.connect()
            self.loop.run_forever()
        except Exception as exc:
            self._fail(f'component thread: {exc!r}')
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(self.loop)
                           if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    self.loop.run_until_complete(
                        asyncio.gather(*pending, return_exceptions=True))
            finally:
                self.loop.close()

    def _make(self):
        host, port = self._address
        xmpp = slixmpp.ComponentXMPP(self.jid, self._secret, host, port)
        xmpp.loop = self.loop
        xmpp.add_filter('in', self._record)
        xmpp.register_handler(Callback(
            'kith component iq', MatchXPath(f'{{{COMPONENT_NS}}}iq'),
            self._on_iq))
        xmpp.add_event_handler('session_start', self._on_session_start)
        xmpp.add_event_handler('disconnected', self._on_disconnected)
        xmpp.add_event_handler('connection_failed',
                               lambda e: self._fail(f'connection failed: {e}'))
        return xmpp

    def _fail(self, reason):
        if self._failure is None and not self._ready.is_set():
            self._failure = reason
            self._ready.set()

    def _on_session_start(self, _event):
        self.connected = True
        self._ready.set()

    def _on_disconnected(self, reason):
        self.connected = False
        self._fail(f'disconnected before the handshake: {reason}')

    def stop(self):
        """Disconnect (the component is gone for Prosody) and end the
        thread.  start() connects again."""
        loop = self.loop
        if self._thread is None:
            return
        if loop is not None and not loop.is_closed() and \
                self._thread.is_alive():
            async def _disconnect():
                try:
                    await asyncio.wait_for(self.xmpp.disconnect(wait=1), 3)
                except Exception:
                    self.xmpp.abort()
            try:
                asyncio.run_coroutine_threadsafe(_disconnect(),
                                                 loop).result(5)
            except Exception:
                pass
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass
        self._thread.join(5)
        self.connected = False

    close = stop

    # -- recording (loop thread) ----------------------------------------------------

    def _record(self, stanza):
        try:
            tag = stanza.xml.tag
            if tag.startswith('{') and \
                    tag.split('}')[1] in ('iq', 'message', 'presence'):
                el = normalize(etree.fromstring(ET.tostring(stanza.xml)))
                self.traffic.append(('<-', to_string(el)))
                self.inbox.add(el)
                if kind(el) == 'iq' and el.get('type') in ('result', 'error'):
                    future, on_reply = self._waiting.pop(el.get('id'),
                                                         (None, None))
                    if on_reply is not None:
                        on_reply(el)   # before any later stanza is handled
                    if future is not None and not future.done():
                        future.set_result(el)
        except Exception:
            log.exception('cannot record stanza')
        return stanza

    # -- IQ dispatch (loop thread) ------------------------------------------------

    def on_iq(self, namespace, name, handler):
        """handler(iq) -> reply payload text ('' = empty result), None (no
        answer at all), or a coroutine returning that; raise IqReply to
        answer with an error."""
        self._handlers[(namespace, name)] = handler

    def _on_iq(self, stanza):
        el = normalize(etree.fromstring(ET.tostring(stanza.xml)))
        if el.get('type') not in ('get', 'set'):
            return
        payload = next(iter(el), None)
        if payload is None:
            self.reply_error(el, 'bad-request', 'modify')
            return
        qname = etree.QName(payload)
        key = (qname.namespace, qname.localname)
        if key == (NS['disco'], 'query'):
            self.reply(el, self._disco_info())
            return
        if key == ('http://jabber.org/protocol/disco#items', 'query'):
            self.reply(el, "<query xmlns='http://jabber.org/protocol/"
                       "disco#items'/>")
            return
        if key == (NS['ping'], 'ping'):
            self.reply(el, '')
            return
        handler = self._handlers.get(key)
        if handler is None:
            self.reply_error(el, 'service-unavailable')
            return
        self._answer(el, handler)

    def _answer(self, el, handler):
        try:
            result = handler(el)
        except IqReply as r:
            self.reply_error(el, r.condition, r.type_, r.text)
            return
        if asyncio.iscoroutine(result):
            async def _later():
                try:
                    payload = await result
                except IqReply as r:
                    self.reply_error(el, r.condition, r.type_, r.text)
                    return
                if payload is not None:
                    self.reply(el, payload)
            asyncio.ensure_future(_later())
        elif result is not None:
            self.reply(el, result)

    def _disco_info(self):
        category, type_, name = self.identity
        features = ''.join(f'<feature var={quoteattr(f)}/>' for f in
                           (NS['disco'], NS['ping'], *self.features))
        return (f"<query xmlns='{NS['disco']}'><identity"
                f"{attrs(category=category, type_=type_, name=name)}/>"
                f"{features}</query>")

    # -- sending (any thread) -----------------------------------------------------

    def _send_now(self, text):
        self.traffic.append(('->', text))
        self.xmpp.send_raw(text)

    def send_raw(self, text):
        """Send serialized XML as-is (default namespace: the component's)."""
        if self.loop is None or self.loop.is_closed() or not self.connected:
            raise ComponentError(f'{self.jid} is not connected')
        self.loop.call_soon_threadsafe(self._send_now, text)

    def reply(self, iq, payload=''):
        """Result for `iq` (an lxml element as recorded)."""
        text = (f"<iq{attrs(type_='result', id=iq.get('id'), to=iq.get('from'))}"
                f" from={quoteattr(self.jid)}>{payload}</iq>")
        self._send_now(text)

    def reply_error(self, iq, condition, type_='cancel', text=None):
        out = (f"<iq{attrs(type_='error', id=iq.get('id'), to=iq.get('from'))}"
               f" from={quoteattr(self.jid)}>{error_xml(condition, type_, text)}"
               f"</iq>")
        self._send_now(out)

    def new_id(self):
        return f'kc{next(_ids)}'

    def message(self, to, payload, type_=None):
        self.send_raw(f"<message{attrs(to=to, type_=type_, id=self.new_id())}"
                      f" from={quoteattr(self.jid)}>{payload}</message>")

    def presence(self, to, type_=None):
        self.send_raw(f"<presence{attrs(to=to, type_=type_)}"
                      f" from={quoteattr(self.jid)}/>")

    async def request(self, to, type_, payload, timeout=10, on_reply=None):
        """Send an IQ from the loop thread; its reply element, or None on
        timeout.  on_reply(reply) runs as soon as the reply is read, before
        the next stanza is handled (the coroutine resumes later)."""
        iq_id = self.new_id()
        future = self.loop.create_future()
        self._waiting[iq_id] = (future, on_reply)
        self._send_now(f"<iq{attrs(type_=type_, id=iq_id, to=to)}"
                       f" from={quoteattr(self.jid)}>{payload}</iq>")
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            self._waiting.pop(iq_id, None)

    def iq(self, to, type_, payload, timeout=10):
        """Synchronous IQ; returns the reply element (result or error)."""
        if self.loop is None or self.loop.is_closed() or not self.connected:
            raise ComponentError(f'{self.jid} is not connected')
        reply = asyncio.run_coroutine_threadsafe(
            self.request(to, type_, payload, timeout),
            self.loop).result(timeout + 5)
        if reply is None:
            raise TimeoutError(f'no reply from {to} to {payload[:80]!r} '
                               f'within {timeout} s')
        return reply

    def barrier(self, to, timeout=10):
        """Ping `to`: everything we sent before has been handled there, and
        everything it sent us before is in the inbox."""
        return self.iq(to, 'get', f"<ping xmlns='{NS['ping']}'/>", timeout)

    def mark(self):
        return self.inbox.mark()

    def traffic_tail(self, lines=30):
        out = []
        for direction, text in self.traffic[-lines:]:
            out.append(f'{direction} {text[:600]}')
        return '\n'.join(out) + '\n'


class IqReply(Exception):
    """Raised by an IQ handler: answer with this stanza error."""

    def __init__(self, condition, type_='cancel', text=None):
        super().__init__(condition)
        self.condition = condition
        self.type_ = type_
        self.text = text

