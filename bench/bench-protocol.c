/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The protocol layer's cost per request, for valgrind --tool=callgrind (instruction counts
 * are repeatable on a shared machine, unlike timings): parse a stanza, decide, build the
 * answer, serialise it. bench/callgrind.sh runs it and divides by the request count.
 */
#include <stdlib.h>

#include "driver.h"
#include "iot/protocol.h"
#include "iot/stanza.h"

static const gchar *const requests[] = {
	"readout",
	"<iq type='get' id='r1' from='friend@x/p' to='sim-thermometer-1@x/kith'>"
	"<req xmlns='urn:xmpp:iot:sensordata' seqnr='7' momentary='true'/></iq>",
	"control",
	"<iq type='set' id='s1' from='friend@x/p' to='sim-relay-1@x/kith'>"
	"<set xmlns='urn:xmpp:iot:control'><boolean name='Relay' value='true'/></set></iq>",
	"ping",
	"<iq type='get' id='p1' from='friend@x/p' to='sim-thermometer-1@x/kith'>"
	"<ping xmlns='urn:xmpp:ping'/></iq>",
	"chat",
	"<message type='chat' from='friend@x/p' to='sim-thermometer-1@x/kith'>"
	"<body>help</body></message>",
};

static gboolean
is_trusted (const gchar *bare, gpointer user_data)
{
	return TRUE;
}

static void
release_stanza (gpointer stanza)
{
	xmpp_stanza_release (stanza);
}

int
main (int argc, char *argv[])
{
	const gchar *which = argc > 1 ? argv[1] : "readout";
	guint count = argc > 2 ? (guint)atoi (argv[2]) : 1000;
	const gchar *xml = NULL;
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (GError) error = NULL;
	g_autoptr (KithDriver) driver = NULL;
	xmpp_ctx_t *ctx;
	KithProtocol protocol = { .domain = "x", .is_trusted = is_trusted };
	GPtrArray *devices;

	for (guint i = 0; i < G_N_ELEMENTS (requests); i += 2) {
		if (g_strcmp0 (requests[i], which) == 0)
			xml = requests[i + 1];
	}
	if (xml == NULL) {
		g_printerr ("usage: bench-protocol readout|control|ping|chat [COUNT]\n");
		return 2;
	}
	xmpp_initialize ();
	ctx = xmpp_ctx_new (NULL, NULL);
	g_key_file_set_string (keyfile, "bus:sim", "Thermometers", "1");
	g_key_file_set_string (keyfile, "bus:sim", "Relays", "1");
	g_key_file_set_string (keyfile, "bus:sim", "Interval", "0");
	driver = kith_driver_new ("sim", "sim", &error);
	if (driver == NULL || !kith_driver_setup (driver, keyfile, "bus:sim", &error) ||
	    !kith_driver_start (driver, &error)) {
		g_printerr ("%s\n", error->message);
		return 1;
	}
	devices = kith_driver_get_devices (driver);
	protocol.ctx = ctx;
	protocol.device = g_ptr_array_index (devices, g_str_equal (which, "control") ? 1 : 0);
	protocol.bare_jid =
	        g_str_equal (which, "control") ? "sim-relay-1@x" : "sim-thermometer-1@x";

	for (guint i = 0; i < count; i++) {
		g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (release_stanza);
		g_autoptr (GPtrArray) reqs =
		        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_request_free);
		xmpp_stanza_t *in = xmpp_stanza_new_from_string (ctx, xml);

		kith_protocol_handle (&protocol, in, out, reqs);
		xmpp_stanza_release (in);
		for (guint j = 0; j < reqs->len; j++) {
			KithRequest *request = g_ptr_array_index (reqs, j);
			if (request->kind == KITH_REQUEST_READ) {
				g_ptr_array_add (
				        out, kith_sensordata_accepted (&protocol, request, FALSE));
				g_ptr_array_add (out,
				                 kith_sensordata_fields (&protocol, request, TRUE));
			} else if (request->kind == KITH_REQUEST_WRITE) {
				g_ptr_array_add (out,
				                 kith_control_set_response (&protocol, request));
			}
		}
		for (guint j = 0; j < out->len; j++)
			g_free (kith_stanza_to_string (g_ptr_array_index (out, j)));
	}
	xmpp_ctx_free (ctx);
	return 0;
}
