# SPDX-License-Identifier: GPL-3.0-or-later
"""A XEP-0324 provisioning server (a device's "parent") as a component,
driven per test (protocol brief §4, §14.2).

    prov = ProvisioningServer('127.0.0.1', port, 'prov.localhost', secret)
    prov.rule('isFriend', 'alice@localhost', True)
    prov.rule('canRead', 'alice@localhost', Answer(True, fields=['Humidity']))
    prov.rule('canControl', 'bob@localhost', False)
    q = prov.wait_question('isFriend', jid='alice@localhost')
    prov.count('canRead', jid='alice@localhost')       # cache tests
    prov.mode = 'silent'                                # no answers at all
    prov.clear_cache(device_full_jid)                   # IQ set, the reply
    prov.unfriend(device_jid, 'alice@localhost')        # <message><unfriend/>

Every question (isFriend, canRead, canControl) is recorded as a `Question`
with its full XML, whether it is answered or not.  Answers come from the
rule table: keys (device bare JID or '*', asked bare JID or '*'), values

    True / False                 result='true' / 'false', no restriction
    Answer(True, fields=[...],   result='true' restricted to those fields,
           nodes=[...],          nodes or parameters (children of the
           parameters=[...])     response)
    SILENT                       no answer (the device's question times out)
    ERROR                        IQ error (service-unavailable, cancel)
    [a, b, c]                    one per question, the last one repeats

and `default[kind]` (False for every kind: fail closed) when no rule fits.
`mode` overrides every rule: 'answer' (use the rules), 'silent', 'error'.
"""

import threading
import time

from component import Component, attrs
from peer import bare, to_string

P = 'urn:xmpp:iot:provisioning'
KINDS = ('isFriend', 'canRead', 'canControl')
SILENT = 'silent'
ERROR = 'error'
TOKENS = ('serviceToken', 'deviceToken', 'userToken')
# the fields a sim device shows in its presence status, per kind of device:
# kithd asks canRead momentary for exactly these when a friendship starts
STATUS_FIELDS = ({'Temperature', 'Humidity'}, {'Relay'}, {'On', 'Level'})


class Answer:
    def __init__(self, result=True, fields=(), nodes=(), parameters=()):
        self.result = bool(result)
        self.fields = tuple(fields)
        self.nodes = tuple(nodes)
        self.parameters = tuple(parameters)

    def __repr__(self):
        return (f'Answer({self.result}, fields={self.fields}, '
                f'nodes={self.nodes}, parameters={self.parameters})')


class Question:
    """One question a device asked; `el` is the whole IQ (lxml, namespace
    'jabber:client'), `xml` its text, `payload` the question element."""

    def __init__(self, el):
        self.el = el
        self.xml = to_string(el)
        self.payload = el.find(f'{{{P}}}*')
        self.kind = self.payload.tag.split('}')[1]
        self.frm = el.get('from')
        self.to = el.get('to')
        self.type = el.get('type')
        self.id = el.get('id')
        self.jid = self.payload.get('jid')
        self.time = time.monotonic()
        self.answer = None      # what we did: 'true', 'false', SILENT, ...
        # what a friend may see in the device's presence status (asked when
        # the friendship starts), not a readout
        self.status_line = (
            self.kind == 'canRead' and
            self.payload.get('momentary') == 'true' and
            set(self.children('field')) in STATUS_FIELDS and
            not self.children('node') and
            not any(self.payload.get(t) for t in TOKENS))

    def children(self, name):
        """Values of <name .../> children: nodeId of node, name of the
        others."""
        attr = 'nodeId' if name == 'node' else 'name'
        return [c.get(attr) for c in self.payload.findall(f'{{{P}}}{name}')]

    def __repr__(self):
        return f'<Question {self.kind} from {self.frm}: {self.xml}>'


class ProvisioningServer(Component):
    features = (P,)
    identity = ('component', 'generic', 'kith test provisioning server')

    def setup(self):
        self.mode = 'answer'
        self.rules = {kind: {} for kind in KINDS}
        self.default = {kind: False for kind in KINDS}
        self._questions = []
        self._held = []             # questions left unanswered
        self._lock = threading.Lock()
        self._sequence_pos = {}
        for kind in KINDS:
            self.on_iq(P, kind, self._on_question)

    # -- rules -------------------------------------------------------------------------

    def rule(self, kind, jid, answer, device=None):
        """Answer `kind` questions about bare `jid` ('*' = anyone) from
        `device` (bare JID; None = any device) with `answer`."""
        assert kind in KINDS, kind
        with self._lock:
            key = (bare(device) if device else '*', bare(jid))
            self.rules[kind][key] = answer
            self._sequence_pos.pop((kind, key), None)

    def _choose(self, q):
        if self.mode == 'silent':
            return SILENT
        if self.mode == 'error':
            return ERROR
        device = bare(q.frm)
        asked = bare(q.jid)
        with self._lock:
            for key in ((device, asked), ('*', asked), (device, '*'),
                        ('*', '*')):
                if key in self.rules[q.kind]:
                    answer = self.rules[q.kind][key]
                    if isinstance(answer, list):
                        pos = self._sequence_pos.get((q.kind, key), 0)
                        self._sequence_pos[(q.kind, key)] = pos + 1
                        answer = answer[min(pos, len(answer) - 1)]
                    return answer
            return self.default[q.kind]

    # -- questions (loop thread) ------------------------------------------------------

    def _on_question(self, el):
        q = Question(el)
        answer = self._choose(q)
        with self._lock:
            self._questions.append(q)
        return self._respond(q, answer)

    def _respond(self, q, answer):
        """Payload text for the reply, or None (silent); errors are sent
        here."""
        if answer == SILENT:
            q.answer = SILENT
            with self._lock:
                self._held.append(q)
            return None
        if answer == ERROR:
            q.answer = ERROR
            self.reply_error(q.el, 'service-unavailable')
            return None
        if not isinstance(answer, Answer):
            answer = Answer(bool(answer))
        q.answer = 'true' if answer.result else 'false'
        copied = {}
        if q.kind == 'canRead':
            copied = {k: v for k, v in q.payload.attrib.items()
                      if k not in ('jid', 'result') and k not in TOKENS}
        children = ''.join(
            [f'<node{attrs(nodeId=n)}/>' for n in answer.nodes] +
            [f'<field{attrs(name=f)}/>' for f in answer.fields] +
            [f'<parameter{attrs(name=p)}/>' for p in answer.parameters])
        head = (f"<{q.kind}Response xmlns='{P}'"
                f"{attrs(jid=q.jid, **copied)}"
                f" result='{q.answer}'")
        return f'{head}>{children}</{q.kind}Response>' if children \
            else f'{head}/>'

    def answer_held(self):
        """Answer every question left unanswered so far, from the current
        rules (late: the device may have given up already)."""
        with self._lock:
            held, self._held = self._held, []
        def _send():
            for q in held:
                payload = self._respond(q, self._choose(q))
                if payload is not None:
                    self.reply(q.el, payload)
        self.loop.call_soon_threadsafe(_send)
        return held

    # -- looking at questions ----------------------------------------------------------

    def qmark(self):
        """Position to pass as `since` to questions()/wait_question()."""
        with self._lock:
            return len(self._questions)

    def questions(self, kind=None, jid=None, device=None, since=0,
                  status_line=False):
        """Questions asked so far; jid/device compared as bare JIDs.
        status_line: False leaves out the questions about what a friend
        may see in the presence status, True gives only those, None all."""
        with self._lock:
            found = list(self._questions[since:])
        return [q for q in found
                if (kind is None or q.kind == kind) and
                (jid is None or bare(q.jid) == bare(jid)) and
                (device is None or bare(q.frm) == bare(device)) and
                (status_line is None or q.status_line == status_line)]

    def count(self, kind=None, jid=None, device=None, since=0,
              status_line=False):
        return len(self.questions(kind, jid, device, since, status_line))

    def wait_question(self, kind=None, jid=None, device=None, since=0,
                      timeout=10, n=1, status_line=False):
        """The n-th matching question at or after `since`, waiting."""
        found = self.inbox.wait_until(
            lambda: (lambda qs: qs if len(qs) >= n else None)(
                self.questions(kind, jid, device, since, status_line)),
            timeout, what=f'{n} {kind or "question"}(s) about {jid} from '
            f'{device or "any device"} at {self.jid}')
        return found[n - 1]

    # -- pushes to a device --------------------------------------------------------------

    def friend(self, device, jid):
        """<message><friend jid/></message>: recommend befriending `jid`."""
        self.message(device, f"<friend xmlns='{P}'{attrs(jid=jid)}/>")

    def unfriend(self, device, jid):
        self.message(device, f"<unfriend xmlns='{P}'{attrs(jid=jid)}/>")

    def clear_cache(self, device, type_='set', timeout=10):
        """clearCache IQ to `device` (a full JID); returns the reply."""
        return self.iq(device, type_, f"<clearCache xmlns='{P}'/>", timeout)

    def clear_cache_message(self, device):
        self.message(device, f"<clearCache xmlns='{P}'/>")


# payloads for spoofing tests (sent by somebody else than the parent)

def friend_xml(jid):
    return f"<friend xmlns='{P}'{attrs(jid=jid)}/>"


def unfriend_xml(jid):
    return f"<unfriend xmlns='{P}'{attrs(jid=jid)}/>"


def clear_cache_xml():
    return f"<clearCache xmlns='{P}'/>"
