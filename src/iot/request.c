/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "iot/request.h"

#include "iot/stanza.h"

const gchar *const kith_request_token_names[3] = { "serviceToken", "deviceToken", "userToken" };

void
kith_request_free (KithRequest *request)
{
	if (request == NULL)
		return;
	if (request->node_ids != NULL)
		g_ptr_array_unref (request->node_ids);
	for (guint i = 0; i < G_N_ELEMENTS (request->tokens); i++)
		g_free (request->tokens[i]);
	g_free (request->from);
	g_free (request->to);
	g_free (request->id);
	g_free (request->seqnr);
	if (request->field_names != NULL)
		g_ptr_array_unref (request->field_names);
	if (request->params != NULL)
		g_ptr_array_unref (request->params);
	g_free (request->type);
	g_free (request->jid);
	g_free (request->subscription);
	if (request->stanza != NULL)
		xmpp_stanza_release (request->stanza);
	g_free (request);
}

/* the request as an IQ, to build replies with the stanza helpers */
static xmpp_stanza_t *
kith_protocol_request_iq (KithProtocol *protocol, const KithRequest *request)
{
	xmpp_stanza_t *iq = kith_stanza_element (protocol->ctx, "iq", NULL);
	if (request->id != NULL)
		xmpp_stanza_set_id (iq, request->id);
	if (request->from != NULL)
		xmpp_stanza_set_from (iq, request->from);
	if (request->to != NULL)
		xmpp_stanza_set_to (iq, request->to);
	return iq;
}

xmpp_stanza_t *
kith_protocol_request_result (KithProtocol *protocol, const KithRequest *request)
{
	xmpp_stanza_t *iq = kith_protocol_request_iq (protocol, request);
	xmpp_stanza_t *reply = kith_stanza_iq_result (protocol->ctx, iq);
	xmpp_stanza_release (iq);
	return reply;
}

xmpp_stanza_t *
kith_protocol_request_error (KithProtocol *protocol, const KithRequest *request, const gchar *type,
                             const gchar *condition, const gchar *text)
{
	xmpp_stanza_t *iq = kith_protocol_request_iq (protocol, request);
	xmpp_stanza_t *reply = kith_stanza_error (protocol->ctx, iq, type, condition, text, NULL);
	xmpp_stanza_release (iq);
	return reply;
}
