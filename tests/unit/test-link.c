/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "xmpp/link.h"

/* what libstrophe's debug lines may show of the traffic */
static void
test_redact (void)
{
	static const struct {
		const gchar *line;
		const gchar *logged; /* NULL: the line as it is */
		const gchar *secret; /* must not be in what is logged */
	} cases[] = {
		{ "SENT: <iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>", NULL, NULL },
		{ "SENT: <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
		  "mechanism='PLAIN'>AGEAYg==</auth>",
		  "(a stanza with credentials, not logged)", "AGEAYg==" },
		{ "SENT: <response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>Yz1iaXdz</response>",
		  "(a stanza with credentials, not logged)", "Yz1iaXdz" },
		{ "SENT: <iq><query xmlns='jabber:iq:register'><username>a</username><password>pw1"
		  "</password></query></iq>",
		  "(a stanza with credentials, not logged)", "pw1" },
		{ "SENT: <handshake>0123abcd</handshake>", "(the handshake, not logged)",
		  "0123abcd" },
		{ "SENT: <register xmlns='urn:xmpp:iot:discovery'><str value=\"sim-1\" "
		  "name=\"SN\"/>"
		  "<str value=\"7e846379ee5e2e26\" name=\"KEY\"/></register>",
		  "SENT: <register xmlns='urn:xmpp:iot:discovery'><str value=\"sim-1\" "
		  "name=\"SN\"/>"
		  "<str value='(not logged)' name=\"KEY\"/></register>",
		  "7e846379ee5e2e26" },
		{ "SENT: <update><str name='KEY' value='c05ba147'/><str name='MAN' "
		  "value='KEY'/></update>",
		  "SENT: <update><str name='KEY' value='(not logged)'/><str name='MAN' "
		  "value='KEY'/>"
		  "</update>",
		  "c05ba147" },
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree gchar *logged = kith_link_redact (cases[i].line);
		g_assert_cmpstr (logged, ==, cases[i].logged);
		if (cases[i].secret != NULL)
			g_assert_null (strstr (logged, cases[i].secret));
	}
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/link/redact", test_redact);
	return g_test_run ();
}
