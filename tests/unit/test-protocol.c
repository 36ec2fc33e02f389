/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "driver.h"
#include "iot/protocol.h"
#include "iot/stanza.h"

#define DEV "sim-thermometer-1@example.net/kith"
#define RELAY "sim-relay-1@example.net/kith"
#define FRIEND "friend@example.net/phone"
#define STRANGER "stranger@example.net/pc"
#define T0 G_GINT64_CONSTANT (1764000000)

typedef struct {
	xmpp_ctx_t *ctx;
	KithDriver *driver;
	KithDevice *thermometer;
	KithDevice *relay;
} Fixture;

static void
release_stanza (gpointer stanza)
{
	xmpp_stanza_release (stanza);
}

static gboolean
is_trusted (const gchar *bare, gpointer user_data)
{
	return g_strcmp0 (bare, "friend@example.net") == 0;
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (GError) error = NULL;
	GPtrArray *devices;

	xmpp_initialize ();
	fixture->ctx = xmpp_ctx_new (NULL, NULL);
	g_key_file_set_string (keyfile, "bus:sim", "Driver", "sim");
	g_key_file_set_string (keyfile, "bus:sim", "Thermometers", "1");
	g_key_file_set_string (keyfile, "bus:sim", "Relays", "1");
	g_key_file_set_string (keyfile, "bus:sim", "Interval", "0");
	fixture->driver = kith_driver_new ("sim", "sim", &error);
	g_assert_no_error (error);
	g_assert_true (kith_driver_setup (fixture->driver, keyfile, "bus:sim", &error));
	g_assert_true (kith_driver_start (fixture->driver, &error));
	devices = kith_driver_get_devices (fixture->driver);
	fixture->thermometer = g_ptr_array_index (devices, 0);
	fixture->relay = g_ptr_array_index (devices, 1);
	kith_device_set_number (fixture->thermometer, "Temperature", 21.5, T0 * G_USEC_PER_SEC);
	kith_device_set_number (fixture->thermometer, "Humidity", 48.04, T0 * G_USEC_PER_SEC);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
	g_object_unref (fixture->driver);
	xmpp_ctx_free (fixture->ctx);
}

typedef struct {
	const gchar *name;
	gboolean relay; /* send to the relay instead of the thermometer */
	const gchar *in;
	gint replies;           /* stanzas out */
	const gchar *expect[6]; /* substrings of the replies, in order of appearance */
	const gchar *reject[3]; /* must not appear */
	gint requests;
	KithRequestKind kind;
} Case;

static const Case cases[] = {
	{ "ping",
	  FALSE,
	  "<iq type='get' id='p1' from='" FRIEND "' to='" DEV
	  "'><ping xmlns='urn:xmpp:ping'/></iq>",
	  1,
	  { "type=\"result\"", "id=\"p1\"", "to=\"" FRIEND "\"", "from=\"" DEV "\"" } },
	{ "ping bare address answered from the bare address",
	  FALSE,
	  "<iq type='get' id='p2' from='" FRIEND "' to='sim-thermometer-1@example.net'>"
	  "<ping xmlns='urn:xmpp:ping'/></iq>",
	  1,
	  { "from=\"sim-thermometer-1@example.net\"" } },
	{ "ping from a stranger is forbidden",
	  FALSE,
	  "<iq type='get' id='p3' from='" STRANGER "' to='" DEV
	  "'><ping xmlns='urn:xmpp:ping'/></iq>",
	  1,
	  { "type=\"error\"", "<forbidden" } },
	{ "ping from the server",
	  FALSE,
	  "<iq type='get' id='p4' from='example.net' to='" DEV
	  "'><ping xmlns='urn:xmpp:ping'/></iq>",
	  1,
	  { "type=\"result\"" } },
	{ "disco thermometer",
	  FALSE,
	  "<iq type='get' id='d1' from='" FRIEND "' to='" DEV "'>"
	  "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
	  1,
	  { "category=\"client\"", "type=\"bot\"", "urn:xmpp:iot:sensordata", "urn:xmpp:ping" },
	  { "urn:xmpp:iot:control" } },
	{ "disco relay has control",
	  TRUE,
	  "<iq type='get' id='d2' from='" FRIEND "' to='" RELAY "'>"
	  "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
	  1,
	  { "urn:xmpp:iot:control" } },
	{ "disco unknown node",
	  FALSE,
	  "<iq type='get' id='d3' from='" FRIEND "' to='" DEV "'>"
	  "<query xmlns='http://jabber.org/protocol/disco#info' node='x'/></iq>",
	  1,
	  { "item-not-found" } },
	{ "disco items empty",
	  FALSE,
	  "<iq type='get' id='d4' from='" FRIEND "' to='" DEV "'>"
	  "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
	  1,
	  { "type=\"result\"", "disco#items" } },
	{ "version",
	  FALSE,
	  "<iq type='get' id='v1' from='" FRIEND "' to='" DEV
	  "'><query xmlns='jabber:iq:version'/></iq>",
	  1,
	  { "<name>kithd</name>", "<version>" KITH_VERSION "</version>" } },
	{ "unknown iq",
	  FALSE,
	  "<iq type='get' id='u1' from='" FRIEND "' to='" DEV
	  "'><query xmlns='urn:example:nope'/></iq>",
	  1,
	  { "service-unavailable" } },
	{ "empty iq",
	  FALSE,
	  "<iq type='get' id='u2' from='" FRIEND "' to='" DEV "'/>",
	  1,
	  { "bad-request" } },
	{ "iq without id is dropped", FALSE,
	  "<iq type='get' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='1' momentary='true'/></iq>",
	  0 },
	{ "disco items with a node",
	  FALSE,
	  "<iq type='get' id='d5' from='" FRIEND "' to='" DEV "'>"
	  "<query xmlns='http://jabber.org/protocol/disco#items' node='x'/></iq>",
	  1,
	  { "item-not-found" } },
	{ "bad iq type",
	  FALSE,
	  "<iq type='fetch' id='u3' from='" FRIEND "' to='" DEV
	  "'><ping xmlns='urn:xmpp:ping'/></iq>",
	  1,
	  { "bad-request" } },
	{ "readout",
	  FALSE,
	  "<iq type='get' id='r1' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='7' momentary='true'/></iq>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_READ },
	{ "readout without seqnr",
	  FALSE,
	  "<iq type='get' id='r2' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' momentary='true'/></iq>",
	  1,
	  { "<bad-request", "seqnr is missing" } },
	{ "readout non-integer seqnr",
	  FALSE,
	  "<iq type='get' id='r3' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='x1'/></iq>",
	  1,
	  { "<bad-request" } },
	{ "readout huge seqnr",
	  FALSE,
	  "<iq type='get' id='r4' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='99999999999999999999999999'/></iq>",
	  1,
	  { "<bad-request" } },
	{ "readout bad flag",
	  FALSE,
	  "<iq type='get' id='r5' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='1' momentary='perhaps'/></iq>",
	  1,
	  { "<bad-request", "momentary is not a boolean" } },
	{ "readout bad when",
	  FALSE,
	  "<iq type='get' id='r6' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='1' when='tomorrow'/></iq>",
	  1,
	  { "<bad-request" } },
	{ "readout other node",
	  FALSE,
	  "<iq type='get' id='r7' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='1'><node nodeId='elsewhere'/></req></iq>",
	  1,
	  { "item-not-found" } },
	{ "readout unknown children are ignored",
	  FALSE,
	  "<iq type='get' id='r8' from='" FRIEND "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='1' momentary='True'><x xmlns='urn:ex'/>"
	  "<node nodeId='sim-thermometer-1'/></req></iq>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_READ },
	{ "readout from a stranger",
	  FALSE,
	  "<iq type='get' id='r9' from='" STRANGER "' to='" DEV "'>"
	  "<req xmlns='urn:xmpp:iot:sensordata' seqnr='1'/></iq>",
	  1,
	  { "<forbidden" } },
	{ "cancel",
	  FALSE,
	  "<iq type='set' id='c1' from='" FRIEND "' to='" DEV "'>"
	  "<cancel xmlns='urn:xmpp:iot:sensordata' seqnr='1'/></iq>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_CANCEL },
	{ "control",
	  TRUE,
	  "<iq type='set' id='s1' from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='true'/></set></iq>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_WRITE },
	{ "control with bool",
	  TRUE,
	  "<iq type='set' id='s2' from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><bool name='Relay' value='0'/></set></iq>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_WRITE },
	{ "control wrong type",
	  TRUE,
	  "<iq type='set' id='s3' from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><int name='Relay' value='1'/></set></iq>",
	  1,
	  { "<bad-request", "paramError", "var=\"Relay\"" } },
	{ "control bad value",
	  TRUE,
	  "<iq type='set' id='s4' from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='yes please'/></set></iq>",
	  1,
	  { "<bad-request", "var=\"Relay\"" } },
	{ "control unknown parameter",
	  TRUE,
	  "<iq type='set' id='s5' from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><boolean name='Fan' value='true'/></set></iq>",
	  1,
	  { "item-not-found", "var=\"Fan\"" } },
	{ "control all or nothing",
	  TRUE,
	  "<iq type='set' id='s6' from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='true'/>"
	  "<boolean name='Fan' value='true'/></set></iq>",
	  1,
	  { "item-not-found" },
	  { NULL },
	  0 },
	{ "control read-only field",
	  FALSE,
	  "<iq type='set' id='s7' from='" FRIEND "' to='" DEV "'>"
	  "<set xmlns='urn:xmpp:iot:control'><double name='Temperature' value='3'/></set></iq>",
	  1,
	  { "item-not-found" } },
	{ "control names a parameter twice",
	  TRUE,
	  "<iq type='set' id='s10' from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='true'/>"
	  "<boolean name='Relay' value='false'/></set></iq>",
	  1,
	  { "<bad-request", "named twice", "var=\"Relay\"" },
	  { NULL },
	  0 },
	{ "control empty",
	  TRUE,
	  "<iq type='set' id='s8' from='" FRIEND "' to='" RELAY
	  "'><set xmlns='urn:xmpp:iot:control'/></iq>",
	  1,
	  { "bad-request" } },
	{ "control from a stranger",
	  TRUE,
	  "<iq type='set' id='s9' from='" STRANGER "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='true'/></set></iq>",
	  1,
	  { "<forbidden" } },
	{ "control by message is silent",
	  TRUE,
	  "<message from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='true'/></set></message>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_WRITE },
	{ "invalid control by message is silent", TRUE,
	  "<message from='" FRIEND "' to='" RELAY "'>"
	  "<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='x'/></set></message>",
	  0 },
	{ "chat help",
	  TRUE,
	  "<message type='chat' from='" FRIEND "' to='" RELAY "'><body>help</body></message>",
	  1,
	  { "type=\"chat\"", "set Relay on|off" } },
	{ "chat get",
	  FALSE,
	  "<message type='chat' from='" FRIEND "' to='" DEV "'><body> GET </body></message>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_READ },
	{ "chat set",
	  TRUE,
	  "<message type='chat' from='" FRIEND "' to='" RELAY
	  "'><body>set relay on</body></message>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_WRITE },
	{ "chat set bad value",
	  TRUE,
	  "<message type='chat' from='" FRIEND "' to='" RELAY
	  "'><body>set relay maybe</body></message>",
	  1,
	  { "Cannot set that" } },
	{ "chat unknown",
	  FALSE,
	  "<message type='chat' from='" FRIEND "' to='" DEV "'><body>dance</body></message>",
	  1,
	  { "Unknown command 'dance'" } },
	{ "chat from a stranger",
	  FALSE,
	  "<message type='chat' from='" STRANGER "' to='" DEV "'><body>help</body></message>",
	  1,
	  { "type=\"error\"", "<forbidden" } },
	{ "chat error messages are ignored", FALSE,
	  "<message type='error' from='" FRIEND "' to='" DEV "'><body>help</body></message>", 0 },
	{ "subscribe",
	  FALSE,
	  "<presence type='subscribe' from='" STRANGER "' to='sim-thermometer-1@example.net'/>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_SUBSCRIPTION },
	{ "available presence is ignored", FALSE, "<presence from='" FRIEND "'/>", 0 },
	{ "roster push from the server",
	  FALSE,
	  "<iq type='set' id='rp1'><query xmlns='jabber:iq:roster'>"
	  "<item jid='friend@example.net' subscription='both'/></query></iq>",
	  1,
	  { "type=\"result\"" },
	  { NULL },
	  1,
	  KITH_REQUEST_ROSTER },
	{ "roster push from someone else",
	  FALSE,
	  "<iq type='set' id='rp2' from='" FRIEND "'><query xmlns='jabber:iq:roster'>"
	  "<item jid='evil@example.net' subscription='both'/></query></iq>",
	  1,
	  { "<forbidden" } },
	{ "iq result is handed over",
	  FALSE,
	  "<iq type='result' id='kith-roster-get' to='" DEV "'/>",
	  0,
	  { NULL },
	  { NULL },
	  1,
	  KITH_REQUEST_IQ_RESPONSE },
};

static void
run_case (Fixture *fixture, const Case *c)
{
	KithProtocol protocol = {
		.ctx = fixture->ctx,
		.device = c->relay ? fixture->relay : fixture->thermometer,
		.bare_jid = c->relay ? "sim-relay-1@example.net" : "sim-thermometer-1@example.net",
		.domain = "example.net",
		.is_trusted = is_trusted,
	};
	g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (release_stanza);
	g_autoptr (GPtrArray) requests =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_request_free);
	xmpp_stanza_t *in = xmpp_stanza_new_from_string (fixture->ctx, c->in);
	g_autoptr (GString) text = g_string_new (NULL);
	const gchar *cursor;

	g_test_message ("case: %s", c->name);
	g_assert_nonnull (in);
	kith_protocol_handle (&protocol, in, out, requests);
	xmpp_stanza_release (in);
	for (guint i = 0; i < out->len; i++) {
		g_autofree gchar *one = kith_stanza_to_string (g_ptr_array_index (out, i));
		g_string_append (text, one);
	}
	g_test_message ("out: %s", text->str);
	g_assert_cmpint (out->len, ==, c->replies);
	cursor = text->str;
	for (guint i = 0; i < G_N_ELEMENTS (c->expect) && c->expect[i] != NULL; i++) {
		const gchar *found = strstr (cursor, c->expect[i]);
		if (found == NULL)
			g_error ("%s: '%s' not in %s", c->name, c->expect[i], text->str);
	}
	for (guint i = 0; i < G_N_ELEMENTS (c->reject) && c->reject[i] != NULL; i++)
		g_assert_null (strstr (text->str, c->reject[i]));
	g_assert_cmpint (requests->len, ==, c->requests);
	if (c->requests > 0)
		g_assert_cmpint (((KithRequest *)g_ptr_array_index (requests, 0))->kind, ==,
		                 c->kind);
}

static void
test_table (Fixture *fixture, gconstpointer data)
{
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
		run_case (fixture, &cases[i]);
}

static KithRequest *
parse_one (Fixture *fixture, KithProtocol *protocol, const gchar *xml)
{
	g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (release_stanza);
	g_autoptr (GPtrArray) requests = g_ptr_array_new ();
	xmpp_stanza_t *in = xmpp_stanza_new_from_string (fixture->ctx, xml);
	kith_protocol_handle (protocol, in, out, requests);
	xmpp_stanza_release (in);
	g_assert_cmpuint (out->len, ==, 0);
	g_assert_cmpuint (requests->len, ==, 1);
	return g_ptr_array_index (requests, 0);
}

static void
test_fields (Fixture *fixture, gconstpointer data)
{
	KithProtocol protocol = {
		.ctx = fixture->ctx,
		.device = fixture->thermometer,
		.bare_jid = "sim-thermometer-1@example.net",
		.domain = "example.net",
		.is_trusted = is_trusted,
	};
	g_autoptr (KithRequest) request =
	        parse_one (fixture, &protocol,
	                   "<iq type='get' id='r1' from='" FRIEND "' to='" DEV "'>"
	                   "<req xmlns='urn:xmpp:iot:sensordata' seqnr='007' momentary='true'>"
	                   "<field name='Temperature'/></req></iq>");
	xmpp_stanza_t *message = kith_sensordata_fields (&protocol, request, TRUE);
	g_autofree gchar *text = kith_stanza_to_string (message);
	xmpp_stanza_t *accepted = kith_sensordata_accepted (&protocol, request, FALSE);
	g_autofree gchar *accepted_text = kith_stanza_to_string (accepted);

	g_test_message ("%s", text);
	g_assert_nonnull (strstr (accepted_text, "<accepted "));
	g_assert_nonnull (strstr (accepted_text, "seqnr=\"007\""));
	g_assert_nonnull (strstr (accepted_text, "type=\"result\""));
	g_assert_nonnull (strstr (text, "to=\"" FRIEND "\""));
	g_assert_nonnull (strstr (text, "seqnr=\"007\""));
	g_assert_nonnull (strstr (text, "done=\"true\""));
	g_assert_nonnull (strstr (text, "<node nodeId=\"sim-thermometer-1\">"));
	g_assert_nonnull (strstr (text, "<timestamp value=\"2025-11-24T16:00:00Z\">"));
	g_assert_nonnull (strstr (text, "name=\"Temperature\""));
	g_assert_nonnull (strstr (text, "value=\"21.50\""));
	g_assert_nonnull (strstr (text, "unit=\"°C\""));
	g_assert_nonnull (strstr (text, "automaticReadout=\"true\""));
	g_assert_null (strstr (text, "Humidity"));
	xmpp_stanza_release (message);
	xmpp_stanza_release (accepted);

	message = kith_sensordata_failure (&protocol, request, "no answer");
	g_free (text);
	text = kith_stanza_to_string (message);
	g_assert_nonnull (strstr (text, "<failure "));
	g_assert_nonnull (strstr (text, "seqnr=\"007\""));
	g_assert_nonnull (strstr (text, "done=\"true\""));
	g_assert_nonnull (strstr (text, "nodeId=\"sim-thermometer-1\""));
	g_assert_nonnull (strstr (text, ">no answer</error>"));
	xmpp_stanza_release (message);
}

static void
test_fields_identity_and_writable (Fixture *fixture, gconstpointer data)
{
	KithProtocol protocol = {
		.ctx = fixture->ctx,
		.device = fixture->relay,
		.bare_jid = "sim-relay-1@example.net",
		.domain = "example.net",
		.is_trusted = is_trusted,
	};
	g_autoptr (KithRequest) momentary =
	        parse_one (fixture, &protocol,
	                   "<iq type='get' id='r1' from='" FRIEND "' to='" RELAY "'>"
	                   "<req xmlns='urn:xmpp:iot:sensordata' seqnr='1' momentary='1'/></iq>");
	g_autoptr (KithRequest) all =
	        parse_one (fixture, &protocol,
	                   "<iq type='get' id='r2' from='" FRIEND "' to='" RELAY "'>"
	                   "<req xmlns='urn:xmpp:iot:sensordata' seqnr='2'/></iq>");
	xmpp_stanza_t *message = kith_sensordata_fields (&protocol, momentary, TRUE);
	g_autofree gchar *text = kith_stanza_to_string (message);

	g_assert_nonnull (strstr (text, "<boolean "));
	g_assert_nonnull (strstr (text, "name=\"Relay\""));
	g_assert_nonnull (strstr (text, "writable=\"true\""));
	g_assert_null (strstr (text, "Model"));
	xmpp_stanza_release (message);
	message = kith_sensordata_fields (&protocol, all, TRUE);
	g_free (text);
	text = kith_stanza_to_string (message);
	g_assert_nonnull (strstr (text, "name=\"Model\""));
	g_assert_nonnull (strstr (text, "identity=\"true\""));
	xmpp_stanza_release (message);
}

/* XEP-0325 values in the XML Schema lexical forms, nothing else */
static void
test_strict_values (void)
{
	static const struct {
		const gchar *type;
		const gchar *text;
		const gchar *error; /* NULL: accepted */
	} values[] = {
		{ "double", "42", NULL },
		{ "double", "4.5e1", NULL },
		{ "double", "-0.0", NULL },
		{ "double", "+.5", NULL },
		{ "double", "7.", NULL },
		{ "double", "0x10", "is not a number" },
		{ "double", " 42", "is not a number" },
		{ "double", "42 ", "is not a number" },
		{ "double", "", "is not a number" },
		{ "double", "1e", "is not a number" },
		{ "double", "INF", "is not a number" },
		{ "double", "NaN", "is not a number" },
		{ "double", "1e999", "out of range" },
		{ "double", "150", "out of range 0..100" },
		{ "int", "50", NULL },
		{ "int", "+50", NULL },
		{ "int", "5.0", "is not a number" },
		{ "long", "-7", "out of range 0..100" },
		{ "int", "0x10", "is not a number" },
	};
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (GError) error = NULL;
	g_autoptr (KithDriver) driver = kith_driver_new ("sim", "sim", &error);
	KithDevice *dimmer;

	g_key_file_set_string (keyfile, "bus:sim", "Dimmers", "1");
	g_assert_true (kith_driver_setup (driver, keyfile, "bus:sim", &error));
	dimmer = g_ptr_array_index (kith_driver_get_devices (driver), 0);
	for (guint i = 0; i < G_N_ELEMENTS (values); i++) {
		const gchar *condition = NULL;
		g_autofree gchar *message = NULL;
		g_autoptr (KithParam) param = kith_control_parse_value (
		        dimmer, "Level", values[i].type, values[i].text, &condition, &message);
		g_test_message ("%s '%s': %s", values[i].type, values[i].text,
		                message != NULL ? message : "accepted");
		if (values[i].error == NULL) {
			g_assert_nonnull (param);
			continue;
		}
		g_assert_null (param);
		g_assert_cmpstr (condition, ==, "bad-request");
		g_assert_nonnull (strstr (message, values[i].error));
	}
}

static void
test_timestamps (void)
{
	gint64 t = 0;
	g_autofree gchar *text = kith_timestamp_format ((gint64)T0 * G_USEC_PER_SEC);
	g_assert_cmpstr (text, ==, "2025-11-24T16:00:00Z");
	g_assert_true (kith_timestamp_parse ("2025-11-24T16:00:00Z", &t));
	g_assert_cmpint (t, ==, (gint64)T0 * G_USEC_PER_SEC);
	g_assert_true (kith_timestamp_parse ("2025-11-24T16:00:00", &t));
	g_assert_cmpint (t, ==, (gint64)T0 * G_USEC_PER_SEC);
	g_assert_true (kith_timestamp_parse ("2025-11-24T17:00:00+01:00", &t));
	g_assert_cmpint (t, ==, (gint64)T0 * G_USEC_PER_SEC);
	g_assert_false (kith_timestamp_parse ("yesterday", &t));
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add ("/kith/protocol/table", Fixture, NULL, fixture_set_up, test_table,
	            fixture_tear_down);
	g_test_add ("/kith/protocol/fields", Fixture, NULL, fixture_set_up, test_fields,
	            fixture_tear_down);
	g_test_add ("/kith/protocol/fields-identity-writable", Fixture, NULL, fixture_set_up,
	            test_fields_identity_and_writable, fixture_tear_down);
	g_test_add_func ("/kith/protocol/timestamps", test_timestamps);
	g_test_add_func ("/kith/protocol/strict-values", test_strict_values);
	return g_test_run ();
}
