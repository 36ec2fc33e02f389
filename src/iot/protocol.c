/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "iot/protocol.h"

#include <string.h>

#include "iot/stanza.h"
#include "iot/subscription.h"

/* the server and the device's own account speak with authority */
static gboolean
kith_protocol_is_server (KithProtocol *protocol, const gchar *from_bare)
{
	return from_bare == NULL || g_strcmp0 (from_bare, protocol->domain) == 0 ||
	       g_strcmp0 (from_bare, protocol->bare_jid) == 0;
}

static gboolean
kith_protocol_is_trusted (KithProtocol *protocol, const gchar *from_bare)
{
	if (from_bare == NULL || g_strcmp0 (from_bare, protocol->bare_jid) == 0)
		return TRUE;
	if (protocol->owner != NULL && g_strcmp0 (from_bare, protocol->owner) == 0)
		return TRUE;
	return protocol->is_trusted != NULL &&
	       protocol->is_trusted (from_bare, protocol->user_data);
}

static void
kith_protocol_disco_info (KithProtocol *protocol, xmpp_stanza_t *iq, xmpp_stanza_t *query,
                          GPtrArray *out)
{
	static const gchar *const features[] = {
		KITH_NS_DISCO_INFO, KITH_NS_PING, KITH_NS_VERSION, KITH_NS_SENSORDATA, NULL,
	};
	xmpp_stanza_t *reply, *result;

	if (xmpp_stanza_get_attribute (query, "node") != NULL) {
		g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "cancel",
		                                         "item-not-found", "no such node", NULL));
		return;
	}
	reply = kith_stanza_disco_info (protocol->ctx, iq, "client", "bot",
	                                kith_device_get_label (protocol->device), features,
	                                &result);
	if (kith_device_has_writable (protocol->device))
		kith_stanza_add_feature (result, KITH_NS_CONTROL);
	g_ptr_array_add (out, reply);
}

static KithRequest *
kith_protocol_roster_request (xmpp_stanza_t *item)
{
	KithRequest *request = g_new0 (KithRequest, 1);
	const char *subscription = xmpp_stanza_get_attribute (item, "subscription");
	request->kind = KITH_REQUEST_ROSTER;
	request->jid = kith_jid_bare (xmpp_stanza_get_attribute (item, "jid"));
	request->subscription = g_strdup (subscription != NULL ? subscription : "none");
	request->ask = g_strcmp0 (xmpp_stanza_get_attribute (item, "ask"), "subscribe") == 0;
	request->roster_remove = g_strcmp0 (subscription, "remove") == 0;
	return request;
}

/* roster pushes and the roster result: one request per item */
static void
kith_protocol_roster (KithProtocol *protocol, xmpp_stanza_t *iq, xmpp_stanza_t *query,
                      GPtrArray *out, GPtrArray *requests)
{
	for (xmpp_stanza_t *item = xmpp_stanza_get_children (query); item != NULL;
	     item = xmpp_stanza_get_next (item)) {
		if (xmpp_stanza_is_tag (item) &&
		    g_strcmp0 (xmpp_stanza_get_name (item), "item") == 0 &&
		    xmpp_stanza_get_attribute (item, "jid") != NULL)
			g_ptr_array_add (requests, kith_protocol_roster_request (item));
	}
	if (g_strcmp0 (xmpp_stanza_get_type (iq), "set") == 0)
		g_ptr_array_add (out, kith_stanza_iq_result (protocol->ctx, iq));
}

static void
kith_protocol_cancel (KithProtocol *protocol, xmpp_stanza_t *iq, xmpp_stanza_t *cancel,
                      GPtrArray *out, GPtrArray *requests)
{
	KithRequest *request;
	const char *seqnr = xmpp_stanza_get_attribute (cancel, "seqnr");

	if (seqnr == NULL) {
		g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "modify", "bad-request",
		                                         "seqnr is missing", NULL));
		return;
	}
	request = g_new0 (KithRequest, 1);
	request->kind = KITH_REQUEST_CANCEL;
	request->reply = KITH_REPLY_IQ;
	request->from = g_strdup (xmpp_stanza_get_from (iq));
	request->to = g_strdup (xmpp_stanza_get_to (iq));
	request->id = g_strdup (xmpp_stanza_get_id (iq));
	request->seqnr = g_strdup (seqnr);
	g_ptr_array_add (requests, request);
}

static void
kith_protocol_iq (KithProtocol *protocol, xmpp_stanza_t *iq, const gchar *from_bare, GPtrArray *out,
                  GPtrArray *requests)
{
	const char *type = xmpp_stanza_get_type (iq);
	xmpp_stanza_t *payload = NULL;
	const char *ns, *name;
	gboolean get = g_strcmp0 (type, "get") == 0;
	gboolean set = g_strcmp0 (type, "set") == 0;

	if (g_strcmp0 (type, "result") == 0 || g_strcmp0 (type, "error") == 0) {
		KithRequest *request = g_new0 (KithRequest, 1);
		request->kind = KITH_REQUEST_IQ_RESPONSE;
		request->id = g_strdup (xmpp_stanza_get_id (iq));
		request->from = g_strdup (xmpp_stanza_get_from (iq));
		request->type = g_strdup (type);
		request->stanza = xmpp_stanza_clone (iq);
		g_ptr_array_add (requests, request);
		return;
	}
	if (xmpp_stanza_get_id (iq) == NULL) {
		/* RFC 6120 requires an id; there is nothing an answer could refer to */
		g_info ("%s: dropping an IQ without id from %s",
		        kith_device_get_id (protocol->device),
		        xmpp_stanza_get_from (iq) != NULL ? xmpp_stanza_get_from (iq)
		                                          : "the server");
		return;
	}
	if (!get && !set) {
		g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "modify", "bad-request",
		                                         "unknown IQ type", NULL));
		return;
	}
	for (xmpp_stanza_t *child = xmpp_stanza_get_children (iq); child != NULL;
	     child = xmpp_stanza_get_next (child)) {
		if (xmpp_stanza_is_tag (child)) {
			payload = child;
			break;
		}
	}
	if (payload == NULL) {
		g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "modify", "bad-request",
		                                         "empty IQ", NULL));
		return;
	}
	ns = xmpp_stanza_get_ns (payload);
	name = xmpp_stanza_get_name (payload);
	if (g_strcmp0 (ns, KITH_NS_ROSTER) == 0 && set) {
		if (kith_protocol_is_server (protocol, from_bare))
			kith_protocol_roster (protocol, iq, payload, out, requests);
		else
			g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "auth",
			                                         "forbidden", NULL, NULL));
		return;
	}
	if (!kith_protocol_is_trusted (protocol, from_bare) &&
	    !kith_protocol_is_server (protocol, from_bare)) {
		g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "cancel", "forbidden",
		                                         "only friends may ask this device", NULL));
		return;
	}
	if (get && g_strcmp0 (ns, KITH_NS_PING) == 0) {
		g_ptr_array_add (out, kith_stanza_iq_result (protocol->ctx, iq));
	} else if (get && g_strcmp0 (ns, KITH_NS_DISCO_INFO) == 0) {
		kith_protocol_disco_info (protocol, iq, payload, out);
	} else if (get && g_strcmp0 (ns, KITH_NS_DISCO_ITEMS) == 0) {
		xmpp_stanza_t *reply;
		if (xmpp_stanza_get_attribute (payload, "node") != NULL) {
			g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "cancel",
			                                         "item-not-found", "no such node",
			                                         NULL));
			return;
		}
		reply = kith_stanza_iq_result (protocol->ctx, iq);
		kith_stanza_add_element (reply, "query", KITH_NS_DISCO_ITEMS);
		g_ptr_array_add (out, reply);
	} else if (get && g_strcmp0 (ns, KITH_NS_VERSION) == 0) {
		g_ptr_array_add (out, kith_stanza_version (protocol->ctx, iq));
	} else if (get && g_strcmp0 (ns, KITH_NS_SENSORDATA) == 0 && g_strcmp0 (name, "req") == 0) {
		KithRequest *request = kith_sensordata_parse_req (protocol, iq, payload, out);
		if (request != NULL)
			g_ptr_array_add (requests, request);
	} else if (g_strcmp0 (ns, KITH_NS_SENSORDATA) == 0 && g_strcmp0 (name, "cancel") == 0) {
		kith_protocol_cancel (protocol, iq, payload, out, requests);
	} else if (set && g_strcmp0 (ns, KITH_NS_CONTROL) == 0 && g_strcmp0 (name, "set") == 0) {
		KithRequest *request = kith_control_parse_set (protocol, iq, payload, out);
		if (request != NULL)
			g_ptr_array_add (requests, request);
	} else if (g_strcmp0 (ns, KITH_NS_CONTROL) == 0 && g_strcmp0 (name, "getForm") == 0) {
		g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "cancel",
		                                         "feature-not-implemented",
		                                         "control forms are not supported", NULL));
	} else {
		g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, "cancel",
		                                         "service-unavailable", NULL, NULL));
	}
}

static void
kith_protocol_message (KithProtocol *protocol, xmpp_stanza_t *message, const gchar *from_bare,
                       GPtrArray *out, GPtrArray *requests)
{
	const char *type = xmpp_stanza_get_type (message);
	xmpp_stanza_t *set;
	g_autofree gchar *body = NULL;

	if (g_strcmp0 (type, "error") == 0 || g_strcmp0 (type, "groupchat") == 0 ||
	    g_strcmp0 (type, "headline") == 0)
		return;
	set = xmpp_stanza_get_child_by_name_and_ns (message, "set", KITH_NS_CONTROL);
	body = kith_stanza_child_text (message, "body");
	if (!kith_protocol_is_trusted (protocol, from_bare)) {
		/* XEP-0325: a message-carried set never gets an answer */
		if (body != NULL && set == NULL)
			g_ptr_array_add (out, kith_stanza_error (protocol->ctx, message, "auth",
			                                         "forbidden",
			                                         "only friends may talk to this "
			                                         "device",
			                                         NULL));
		return;
	}
	if (set != NULL) {
		KithRequest *request = kith_control_parse_set (protocol, message, set, out);
		if (request != NULL)
			g_ptr_array_add (requests, request);
		return;
	}
	if (body != NULL) {
		KithRequest fake = {
			.from = (gchar *)xmpp_stanza_get_from (message),
			.to = (gchar *)xmpp_stanza_get_to (message),
		};
		g_autofree gchar *reply = kith_chat_handle (protocol, message, body, requests);
		if (reply != NULL)
			g_ptr_array_add (out, kith_chat_reply (protocol, &fake, reply));
	}
}

static void
kith_protocol_presence (KithProtocol *protocol, xmpp_stanza_t *presence, const gchar *from_bare,
                        GPtrArray *requests)
{
	const char *type = xmpp_stanza_get_type (presence);
	KithRequest *request;

	if (!kith_subscription_is_type (type) || from_bare == NULL)
		return;
	if (g_strcmp0 (from_bare, protocol->bare_jid) == 0)
		return;
	request = g_new0 (KithRequest, 1);
	request->kind = KITH_REQUEST_SUBSCRIPTION;
	request->type = g_strdup (type);
	request->jid = g_strdup (from_bare);
	request->from = g_strdup (xmpp_stanza_get_from (presence));
	g_ptr_array_add (requests, request);
}

void
kith_protocol_handle (KithProtocol *protocol, xmpp_stanza_t *stanza, GPtrArray *out,
                      GPtrArray *requests)
{
	const char *name = xmpp_stanza_get_name (stanza);
	g_autofree gchar *from_bare = kith_jid_bare (xmpp_stanza_get_from (stanza));

	if (g_strcmp0 (name, "iq") == 0)
		kith_protocol_iq (protocol, stanza, from_bare, out, requests);
	else if (g_strcmp0 (name, "message") == 0)
		kith_protocol_message (protocol, stanza, from_bare, out, requests);
	else if (g_strcmp0 (name, "presence") == 0)
		kith_protocol_presence (protocol, stanza, from_bare, requests);
}
