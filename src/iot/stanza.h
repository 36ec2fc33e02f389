/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

G_BEGIN_DECLS

#define KITH_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define KITH_NS_SENSORDATA "urn:xmpp:iot:sensordata"
#define KITH_NS_CONTROL "urn:xmpp:iot:control"
#define KITH_NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define KITH_NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define KITH_NS_PING "urn:xmpp:ping"
#define KITH_NS_VERSION "jabber:iq:version"
#define KITH_NS_ROSTER "jabber:iq:roster"

/* the bare part of a JID, newly allocated (NULL in, NULL out) */
gchar *kith_jid_bare (const gchar *jid);

/* a new element with a name and optional namespace */
xmpp_stanza_t *kith_stanza_element (xmpp_ctx_t *ctx, const gchar *name, const gchar *ns);
/* adds a new child element and returns it (owned by parent) */
xmpp_stanza_t *kith_stanza_add_element (xmpp_stanza_t *parent, const gchar *name, const gchar *ns);
void kith_stanza_add_text_element (xmpp_stanza_t *parent, const gchar *name, const gchar *text);
/* text content of a child element, newly allocated, or NULL */
gchar *kith_stanza_child_text (xmpp_stanza_t *stanza, const gchar *name);

/* an IQ result to request, from the address the request was sent to */
xmpp_stanza_t *kith_stanza_iq_result (xmpp_ctx_t *ctx, xmpp_stanza_t *request);
/* an error reply (iq, message or presence) with a stanza error condition and optional text;
 * param_var adds XEP-0325's <paramError var=…> */
xmpp_stanza_t *kith_stanza_error (xmpp_ctx_t *ctx, xmpp_stanza_t *request, const gchar *type,
                                  const gchar *condition, const gchar *text,
                                  const gchar *param_var);
/* XEP-0030: the disco#info result to iq with one identity and the features (NULL-terminated);
 * *query (if not NULL) is its query, for more features */
xmpp_stanza_t *kith_stanza_disco_info (xmpp_ctx_t *ctx, xmpp_stanza_t *iq, const gchar *category,
                                       const gchar *type, const gchar *name,
                                       const gchar *const *features, xmpp_stanza_t **query);
void kith_stanza_add_feature (xmpp_stanza_t *query, const gchar *var);
/* XEP-0092: kithd's software version, the result to iq */
xmpp_stanza_t *kith_stanza_version (xmpp_ctx_t *ctx, xmpp_stanza_t *iq);
xmpp_stanza_t *kith_stanza_message (xmpp_ctx_t *ctx, const gchar *type, const gchar *from,
                                    const gchar *to);
xmpp_stanza_t *kith_stanza_presence (xmpp_ctx_t *ctx, const gchar *type, const gchar *from,
                                     const gchar *to);
/* serialises, for logs and tests; g_free the result */
gchar *kith_stanza_to_string (xmpp_stanza_t *stanza);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmpp_stanza_t, xmpp_stanza_release)

G_END_DECLS
