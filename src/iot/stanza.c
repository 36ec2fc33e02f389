/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "iot/stanza.h"

#include <string.h>

gchar *
kith_jid_bare (const gchar *jid)
{
	const gchar *slash;
	if (jid == NULL)
		return NULL;
	slash = strchr (jid, '/');
	return slash != NULL ? g_strndup (jid, (gsize)(slash - jid)) : g_strdup (jid);
}

xmpp_stanza_t *
kith_stanza_element (xmpp_ctx_t *ctx, const gchar *name, const gchar *ns)
{
	xmpp_stanza_t *stanza = xmpp_stanza_new (ctx);
	xmpp_stanza_set_name (stanza, name);
	if (ns != NULL)
		xmpp_stanza_set_ns (stanza, ns);
	return stanza;
}

xmpp_stanza_t *
kith_stanza_add_element (xmpp_stanza_t *parent, const gchar *name, const gchar *ns)
{
	xmpp_stanza_t *child = kith_stanza_element (xmpp_stanza_get_context (parent), name, ns);
	xmpp_stanza_add_child_ex (parent, child, 0);
	return child;
}

void
kith_stanza_add_text_element (xmpp_stanza_t *parent, const gchar *name, const gchar *text)
{
	xmpp_stanza_t *child = kith_stanza_add_element (parent, name, NULL);
	xmpp_stanza_t *content = xmpp_stanza_new (xmpp_stanza_get_context (parent));
	xmpp_stanza_set_text (content, text);
	xmpp_stanza_add_child_ex (child, content, 0);
}

gchar *
kith_stanza_child_text (xmpp_stanza_t *stanza, const gchar *name)
{
	xmpp_stanza_t *child = xmpp_stanza_get_child_by_name (stanza, name);
	char *text;
	gchar *copy;

	if (child == NULL)
		return NULL;
	text = xmpp_stanza_get_text (child);
	if (text == NULL)
		return g_strdup ("");
	copy = g_strdup (text);
	xmpp_free (xmpp_stanza_get_context (stanza), text);
	return copy;
}

static void
kith_stanza_address_reply (xmpp_stanza_t *reply, xmpp_stanza_t *request)
{
	const char *from = xmpp_stanza_get_from (request);
	const char *to = xmpp_stanza_get_to (request);
	const char *id = xmpp_stanza_get_id (request);
	if (from != NULL)
		xmpp_stanza_set_to (reply, from);
	if (to != NULL)
		xmpp_stanza_set_from (reply, to);
	if (id != NULL)
		xmpp_stanza_set_id (reply, id);
}

xmpp_stanza_t *
kith_stanza_iq_result (xmpp_ctx_t *ctx, xmpp_stanza_t *request)
{
	xmpp_stanza_t *reply = kith_stanza_element (ctx, "iq", NULL);
	xmpp_stanza_set_type (reply, "result");
	kith_stanza_address_reply (reply, request);
	return reply;
}

xmpp_stanza_t *
kith_stanza_error (xmpp_ctx_t *ctx, xmpp_stanza_t *request, const gchar *type,
                   const gchar *condition, const gchar *text, const gchar *param_var)
{
	const char *name = xmpp_stanza_get_name (request);
	xmpp_stanza_t *reply = kith_stanza_element (ctx, name != NULL ? name : "iq", NULL);
	xmpp_stanza_t *error;

	xmpp_stanza_set_type (reply, "error");
	kith_stanza_address_reply (reply, request);
	error = kith_stanza_add_element (reply, "error", NULL);
	xmpp_stanza_set_type (error, type);
	kith_stanza_add_element (error, condition, KITH_NS_STANZAS);
	if (text != NULL) {
		xmpp_stanza_t *text_element =
		        kith_stanza_add_element (error, "text", KITH_NS_STANZAS);
		xmpp_stanza_t *content = xmpp_stanza_new (ctx);
		xmpp_stanza_set_attribute (text_element, "xml:lang", "en");
		xmpp_stanza_set_text (content, text);
		xmpp_stanza_add_child_ex (text_element, content, 0);
	}
	if (param_var != NULL) {
		xmpp_stanza_t *param =
		        kith_stanza_add_element (error, "paramError", KITH_NS_CONTROL);
		xmpp_stanza_t *content = xmpp_stanza_new (ctx);
		xmpp_stanza_set_attribute (param, "var", param_var);
		xmpp_stanza_set_text (content, text != NULL ? text : condition);
		xmpp_stanza_add_child_ex (param, content, 0);
	}
	return reply;
}

xmpp_stanza_t *
kith_stanza_disco_info (xmpp_ctx_t *ctx, xmpp_stanza_t *iq, const gchar *category,
                        const gchar *type, const gchar *name, const gchar *const *features,
                        xmpp_stanza_t **query)
{
	xmpp_stanza_t *reply = kith_stanza_iq_result (ctx, iq);
	xmpp_stanza_t *result = kith_stanza_add_element (reply, "query", KITH_NS_DISCO_INFO);
	xmpp_stanza_t *identity = kith_stanza_add_element (result, "identity", NULL);

	xmpp_stanza_set_attribute (identity, "category", category);
	xmpp_stanza_set_attribute (identity, "type", type);
	xmpp_stanza_set_attribute (identity, "name", name);
	for (guint i = 0; features[i] != NULL; i++)
		kith_stanza_add_feature (result, features[i]);
	if (query != NULL)
		*query = result;
	return reply;
}

void
kith_stanza_add_feature (xmpp_stanza_t *query, const gchar *var)
{
	xmpp_stanza_set_attribute (kith_stanza_add_element (query, "feature", NULL), "var", var);
}

xmpp_stanza_t *
kith_stanza_version (xmpp_ctx_t *ctx, xmpp_stanza_t *iq)
{
	xmpp_stanza_t *reply = kith_stanza_iq_result (ctx, iq);
	xmpp_stanza_t *query = kith_stanza_add_element (reply, "query", KITH_NS_VERSION);
	kith_stanza_add_text_element (query, "name", "kithd");
	kith_stanza_add_text_element (query, "version", KITH_VERSION);
	kith_stanza_add_text_element (query, "os", "Linux");
	return reply;
}

xmpp_stanza_t *
kith_stanza_message (xmpp_ctx_t *ctx, const gchar *type, const gchar *from, const gchar *to)
{
	xmpp_stanza_t *message = kith_stanza_element (ctx, "message", NULL);
	if (type != NULL)
		xmpp_stanza_set_type (message, type);
	if (from != NULL)
		xmpp_stanza_set_from (message, from);
	if (to != NULL)
		xmpp_stanza_set_to (message, to);
	return message;
}

xmpp_stanza_t *
kith_stanza_presence (xmpp_ctx_t *ctx, const gchar *type, const gchar *from, const gchar *to)
{
	xmpp_stanza_t *presence = kith_stanza_element (ctx, "presence", NULL);
	if (type != NULL)
		xmpp_stanza_set_type (presence, type);
	if (from != NULL)
		xmpp_stanza_set_from (presence, from);
	if (to != NULL)
		xmpp_stanza_set_to (presence, to);
	return presence;
}

gchar *
kith_stanza_to_string (xmpp_stanza_t *stanza)
{
	char *buf = NULL;
	size_t len = 0;
	gchar *copy;

	if (xmpp_stanza_to_text (stanza, &buf, &len) != XMPP_EOK)
		return g_strdup ("");
	copy = g_strndup (buf, len);
	xmpp_free (xmpp_stanza_get_context (stanza), buf);
	return copy;
}
