/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Malformed and mutated stanzas through the protocol layer: whatever comes in, the answer is
 * a well-formed stanza or nothing, never a crash (run under ASan/UBSan in CI). Deterministic:
 * the same seed gives the same inputs.
 */
#include <string.h>

#include "component-world.h"
#include "iot/protocol.h"
#include "iot/stanza.h"

static const gchar *const seeds[] = {
	"<iq type='get' id='r1' from='friend@x/p' to='sim-relay-1@x/kith'>"
	"<req xmlns='urn:xmpp:iot:sensordata' seqnr='7' momentary='true' "
	"when='2026-01-01T00:00:00Z'>"
	"<node nodeId='sim-relay-1'/><field name='Relay'/></req></iq>",
	"<iq type='set' id='s1' from='friend@x/p' to='sim-relay-1@x/kith'>"
	"<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='true'/>"
	"<int name='Relay' value='1'/><node nodeId='sim-relay-1'/></set></iq>",
	"<iq type='get' id='c1' from='friend@x/p' to='sim-relay-1@x/kith'>"
	"<cancel xmlns='urn:xmpp:iot:sensordata' seqnr='3'/></iq>",
	"<iq type='get' id='d1' from='friend@x/p' to='sim-relay-1@x/kith'>"
	"<query xmlns='http://jabber.org/protocol/disco#info' node='n'/></iq>",
	"<iq type='set' id='rp'><query xmlns='jabber:iq:roster'><item jid='a@x' "
	"subscription='both' "
	"ask='subscribe'/><item/></query></iq>",
	"<message type='chat' from='friend@x/p' to='sim-relay-1@x/kith'><body>set relay on</body>"
	"</message>",
	"<message from='friend@x/p' to='sim-relay-1@x'><set xmlns='urn:xmpp:iot:control'>"
	"<bool name='Relay' value='0'/></set></message>",
	"<presence type='subscribe' from='stranger@x/y' to='sim-relay-1@x'/>",
	"<iq type='result' id='kith-roster-get'><query xmlns='jabber:iq:roster'>"
	"<item jid='friend@x' subscription='from'/></query></iq>",
};

static const gchar *const fragments[] = {
	"'",
	"\"",
	"<",
	">",
	"/>",
	"</iq>",
	"=",
	" ",
	"seqnr='",
	"xmlns='urn:xmpp:iot:control'",
	"<boolean name='Relay' value='",
	"&amp;",
	"&#0;",
	"\xff",
	"\xc3",
	"-1",
	"99999999999",
	"type='set'",
	"type='error'",
	"from='",
	"to=''",
	"<body>",
	"</body>",
	"<x/>",
};

static gboolean
is_trusted (const gchar *bare, gpointer user_data)
{
	return g_strcmp0 (bare, "friend@x") == 0;
}

static void
release_stanza (gpointer stanza)
{
	xmpp_stanza_release (stanza);
}

static gchar *
mutate (GRand *rand, const gchar *seed)
{
	GString *text = g_string_new (seed);
	guint edits = (guint)g_rand_int_range (rand, 1, 3);

	for (guint i = 0; i < edits && text->len > 0; i++) {
		guint at = (guint)g_rand_int_range (rand, 0, (gint32)text->len);
		gsize run = (gsize)g_rand_int_range (rand, 1, 40);
		switch (g_rand_int_range (rand, 0, 5)) {
		case 0: /* delete a run */
			g_string_erase (text, at, (gssize)MIN (run, text->len - at));
			break;
		case 1: /* insert a fragment */
			g_string_insert (
			        text, at,
			        fragments[g_rand_int_range (rand, 0, G_N_ELEMENTS (fragments))]);
			break;
		case 2: /* flip a byte */
			text->str[at] = (gchar)g_rand_int_range (rand, 1, 256);
			break;
		case 3: /* duplicate a run */
			g_string_insert_len (text, at, text->str + at,
			                     (gssize)MIN (run, text->len - at));
			break;
		default: /* truncate */
			g_string_truncate (text, at);
			break;
		}
	}
	return g_string_free (text, FALSE);
}

static void
test_mutations (void)
{
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (GError) error = NULL;
	g_autoptr (KithDriver) driver = NULL;
	g_autoptr (GRand) rand = g_rand_new_with_seed (20261129);
	xmpp_ctx_t *ctx;
	guint parsed = 0, answered = 0;
	KithProtocol protocol = { .bare_jid = "sim-relay-1@x",
		                  .domain = "x",
		                  .is_trusted = is_trusted };

	xmpp_initialize ();
	ctx = xmpp_ctx_new (NULL, NULL);
	g_key_file_set_string (keyfile, "bus:sim", "Relays", "1");
	driver = kith_driver_new ("sim", "sim", &error);
	g_assert_true (kith_driver_setup (driver, keyfile, "bus:sim", &error));
	g_assert_true (kith_driver_start (driver, &error));
	protocol.ctx = ctx;
	protocol.device = g_ptr_array_index (kith_driver_get_devices (driver), 0);

	for (guint i = 0; i < 60000; i++) {
		g_autofree gchar *input = mutate (rand, seeds[i % G_N_ELEMENTS (seeds)]);
		xmpp_stanza_t *stanza = xmpp_stanza_new_from_string (ctx, input);
		g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (release_stanza);
		g_autoptr (GPtrArray) requests =
		        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_request_free);

		if (stanza == NULL)
			continue;
		parsed++;
		kith_protocol_handle (&protocol, stanza, out, requests);
		xmpp_stanza_release (stanza);
		for (guint j = 0; j < out->len; j++) {
			g_autofree gchar *text = kith_stanza_to_string (g_ptr_array_index (out, j));
			g_assert_cmpuint (strlen (text), >, 0);
			answered++;
		}
		/* the answers to requests must build as well */
		for (guint j = 0; j < requests->len; j++) {
			KithRequest *request = g_ptr_array_index (requests, j);
			xmpp_stanza_t *reply = NULL;
			if (request->kind == KITH_REQUEST_READ && request->reply == KITH_REPLY_IQ)
				reply = kith_sensordata_fields (&protocol, request, TRUE);
			else if (request->kind == KITH_REQUEST_WRITE &&
			         request->reply == KITH_REPLY_IQ)
				reply = kith_control_set_response (&protocol, request);
			if (reply != NULL) {
				g_autofree gchar *text = kith_stanza_to_string (reply);
				g_assert_cmpuint (strlen (text), >, 0);
				xmpp_stanza_release (reply);
			}
		}
	}
	g_test_message ("%u mutations parsed as XML, %u answers (of 60000)", parsed, answered);
	g_assert_cmpuint (parsed, >, 5000);
	xmpp_ctx_free (ctx);
}

/* component mode: what the server routes to the component, for devices, the domain and JIDs
 * that are no device; the server duties (roster, probes) run on all of it */
static const gchar *const component_seeds[] = {
	"<presence type='subscribe' from='friend@x/p' to='sim-relay-1@devices.x'/>",
	"<presence type='subscribed' from='friend@x' to='sim-relay-1@devices.x/kith'/>",
	"<presence type='unsubscribe' from='friend@x' to='sim-relay-1@devices.x'/>",
	"<presence type='unsubscribed' from='friend@x' to='Sim-Relay-1@Devices.X'/>",
	"<presence type='probe' from='friend@x/p' to='sim-relay-1@devices.x'/>",
	"<presence from='owner@x/p' to='sim-relay-1@devices.x'><status>hi</status></presence>",
	"<presence type='error' from='friend@x' to='sim-relay-1@devices.x/kith'/>",
	"<iq type='get' id='i1' from='friend@x/p' to='devices.x'>"
	"<query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
	"<iq type='get' id='i2' from='friend@x/p' to='devices.x/r'>"
	"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
	"<iq type='get' id='i3' from='friend@x/p' to='ghost@devices.x'><ping "
	"xmlns='urn:xmpp:ping'/>"
	"</iq>",
	"<iq type='get' id='i4' from='friend@x/p' to='sim-relay-1@devices.x/other'>"
	"<ping xmlns='urn:xmpp:ping'/></iq>",
	"<iq type='get' id='r1' from='friend@x/p' to='sim-relay-1@devices.x'>"
	"<req xmlns='urn:xmpp:iot:sensordata' seqnr='7' momentary='true'/></iq>",
	"<iq type='set' id='s1' from='owner@x/p' to='sim-relay-1@devices.x/kith'>"
	"<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='true'/></set></iq>",
	"<message type='chat' from='owner@x/p' to='sim-relay-1@devices.x'><body>get</body>"
	"</message>",
	"<message type='chat' from='owner@x/p' to='ghost@devices.x'><body>hi</body></message>",
	"<presence type='subscribe' from='friend@x' to='ghost@devices.x'/>",
	"<iq type='set' id='rp' from='devices.x' to='sim-relay-1@devices.x'>"
	"<query xmlns='jabber:iq:roster'><item jid='a@x' subscription='both'/></query></iq>",
};

static void
test_component_mutations (void)
{
	g_autoptr (GRand) rand = g_rand_new_with_seed (20261130);
	ComponentWorld world;
	xmpp_ctx_t *ctx;
	guint parsed = 0;

	component_world_init (&world);
	ctx = kith_component_get_ctx (kith_router_get_component (world.router));
	/* the stream is not connected: every answer goes to the outbox, serialised */
	for (guint i = 0; i < 30000; i++) {
		g_autofree gchar *input =
		        mutate (rand, component_seeds[i % G_N_ELEMENTS (component_seeds)]);
		xmpp_stanza_t *stanza = xmpp_stanza_new_from_string (ctx, input);

		if (stanza == NULL)
			continue;
		parsed++;
		kith_router_receive (world.router, stanza);
		xmpp_stanza_release (stanza);
	}
	g_test_message ("%u mutations parsed as XML, %u stanzas in the outbox", parsed,
	                component_world_outbox (&world));
	g_assert_cmpuint (parsed, >, 3000);
	g_assert_cmpuint (component_world_outbox (&world), >, 0);
	component_world_clear (&world);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/protocol/mutations", test_mutations);
	g_test_add_func ("/kith/component/mutations", test_component_mutations);
	return g_test_run ();
}
