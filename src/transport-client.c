/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "transport-client.h"

#include "iot/stanza.h"
#include "iot/subscription.h"

/* stanzas held back until the roster is there, at most */
#define KITH_CLIENT_EARLY_MAX 256

typedef struct {
	KithTransport parent;
	KithConfig *config;
	KithSession *session;
	gchar *roster_id; /* id of our roster request: only its answer is the roster */
	GQueue early;     /* stanzas that came before the roster: delivered once it is here */
} KithClientTransport;

static void
kith_client_release_stanza (gpointer stanza)
{
	xmpp_stanza_release (stanza);
}

/* the server (or the account itself) speaks for the roster; nobody else may */
static gboolean
kith_client_from_server (KithClientTransport *self, xmpp_stanza_t *stanza)
{
	g_autofree gchar *from = kith_jid_bare (xmpp_stanza_get_from (stanza));
	return from == NULL || g_strcmp0 (from, self->parent.bare_jid) == 0 ||
	       g_strcmp0 (from, self->config->domain) == 0;
}

/* one roster item into the roster: kept even as "none", the item exists on the server */
static void
kith_client_roster_item (KithClientTransport *self, xmpp_stanza_t *item)
{
	const char *subscription = xmpp_stanza_get_attribute (item, "subscription");
	g_autofree gchar *jid = kith_jid_bare (xmpp_stanza_get_attribute (item, "jid"));
	guint state = 0;

	if (jid == NULL)
		return;
	if (g_strcmp0 (subscription, "remove") == 0) {
		g_hash_table_remove (self->parent.roster, jid);
		return;
	}
	if (g_strcmp0 (xmpp_stanza_get_attribute (item, "ask"), "subscribe") == 0)
		state |= KITH_SUB_PENDING_OUT;
	if (g_strcmp0 (subscription, "to") == 0 || g_strcmp0 (subscription, "both") == 0)
		state |= KITH_SUB_TO;
	if (g_strcmp0 (subscription, "from") == 0 || g_strcmp0 (subscription, "both") == 0)
		state |= KITH_SUB_FROM;
	g_hash_table_insert (self->parent.roster, g_steal_pointer (&jid), GUINT_TO_POINTER (state));
}

static void
kith_client_roster_items (KithClientTransport *self, xmpp_stanza_t *query)
{
	for (xmpp_stanza_t *child = xmpp_stanza_get_children (query); child != NULL;
	     child = xmpp_stanza_get_next (child)) {
		if (xmpp_stanza_is_tag (child) &&
		    g_strcmp0 (xmpp_stanza_get_name (child), "item") == 0)
			kith_client_roster_item (self, child);
	}
}

static void
kith_client_deliver (KithClientTransport *self, xmpp_stanza_t *stanza)
{
	if (self->parent.callbacks.stanza != NULL)
		self->parent.callbacks.stanza (stanza, self->parent.user_data);
}

/* the answer to our roster request: the server's roster is the truth after every login */
static void
kith_client_roster_result (KithClientTransport *self, xmpp_stanza_t *stanza)
{
	xmpp_stanza_t *query = xmpp_stanza_get_child_by_ns (stanza, KITH_NS_ROSTER);
	xmpp_stanza_t *early;

	g_clear_pointer (&self->roster_id, g_free);
	if (g_strcmp0 (xmpp_stanza_get_type (stanza), "result") != 0) {
		g_warning ("%s: roster request failed", self->parent.bare_jid);
	} else {
		g_hash_table_remove_all (self->parent.roster);
		if (query != NULL)
			kith_client_roster_items (self, query);
		g_info ("%s: %u roster entries", self->parent.bare_jid,
		        g_hash_table_size (self->parent.roster));
	}
	if (self->parent.callbacks.roster_changed != NULL)
		self->parent.callbacks.roster_changed (self->parent.user_data);
	/* who is a friend is known now: what waited for it is judged */
	while (self->roster_id == NULL && (early = g_queue_pop_head (&self->early)) != NULL) {
		kith_client_deliver (self, early);
		xmpp_stanza_release (early);
	}
}

static void
kith_client_stanza_cb (KithSession *session, xmpp_stanza_t *stanza, gpointer user_data)
{
	KithClientTransport *self = user_data;
	const char *name = xmpp_stanza_get_name (stanza);
	const char *type = xmpp_stanza_get_type (stanza);
	gboolean iq = g_strcmp0 (name, "iq") == 0;
	gboolean answer = iq && (g_strcmp0 (type, "result") == 0 || g_strcmp0 (type, "error") == 0);
	xmpp_stanza_t *query = iq ? xmpp_stanza_get_child_by_ns (stanza, KITH_NS_ROSTER) : NULL;

	if (answer && self->roster_id != NULL &&
	    g_strcmp0 (xmpp_stanza_get_id (stanza), self->roster_id) == 0) {
		if (kith_client_from_server (self, stanza))
			kith_client_roster_result (self, stanza);
		else
			g_info ("%s: ignoring a roster answer from %s", self->parent.bare_jid,
			        xmpp_stanza_get_from (stanza));
		return;
	}
	/* a roster push from the server: applied and acknowledged here (from anyone else it goes
	 * on, to be refused) */
	if (query != NULL && g_strcmp0 (type, "set") == 0 &&
	    kith_client_from_server (self, stanza)) {
		xmpp_stanza_t *reply = kith_stanza_iq_result (self->parent.ctx, stanza);
		kith_client_roster_items (self, query);
		kith_session_send (self->session, reply);
		xmpp_stanza_release (reply);
		if (self->parent.callbacks.roster_changed != NULL)
			self->parent.callbacks.roster_changed (self->parent.user_data);
		return;
	}
	/* who is a friend is only known once the roster is here: requests wait for it */
	if (self->roster_id != NULL && !answer &&
	    g_queue_get_length (&self->early) < KITH_CLIENT_EARLY_MAX) {
		g_queue_push_tail (&self->early, xmpp_stanza_clone (stanza));
		return;
	}
	kith_client_deliver (self, stanza);
}

static void
kith_client_online_cb (KithSession *session, gpointer user_data)
{
	KithClientTransport *self = user_data;
	xmpp_stanza_t *iq;

	g_queue_clear_full (&self->early, kith_client_release_stanza);
	g_free (self->roster_id);
	self->roster_id =
	        g_strdup_printf ("kith-roster-%08x%08x", g_random_int (), g_random_int ());
	/* roster first, then initial presence: the server then redelivers pending requests */
	iq = xmpp_iq_new (self->parent.ctx, "get", self->roster_id);
	kith_stanza_add_element (iq, "query", KITH_NS_ROSTER);
	kith_session_send (self->session, iq);
	xmpp_stanza_release (iq);
	if (self->parent.callbacks.online != NULL)
		self->parent.callbacks.online (self->parent.user_data);
}

static void
kith_client_offline_cb (KithSession *session, gpointer user_data)
{
	KithClientTransport *self = user_data;
	if (self->parent.callbacks.offline != NULL)
		self->parent.callbacks.offline (self->parent.user_data);
}

static void
kith_client_stopped_cb (KithSession *session, gpointer user_data)
{
	KithClientTransport *self = user_data;
	if (self->parent.callbacks.stopped != NULL)
		self->parent.callbacks.stopped (self->parent.user_data);
}

static const KithSessionCallbacks kith_client_session_callbacks = {
	.online = kith_client_online_cb,
	.offline = kith_client_offline_cb,
	.stanza = kith_client_stanza_cb,
	.stopped = kith_client_stopped_cb,
};

static void
kith_client_start (KithTransport *transport)
{
	kith_session_start (((KithClientTransport *)transport)->session);
}

static void
kith_client_stop (KithTransport *transport)
{
	kith_session_stop (((KithClientTransport *)transport)->session);
}

static void
kith_client_send (KithTransport *transport, xmpp_stanza_t *stanza)
{
	kith_session_send (((KithClientTransport *)transport)->session, stanza);
}

static gboolean
kith_client_is_online (KithTransport *transport)
{
	return kith_session_is_online (((KithClientTransport *)transport)->session);
}

static gboolean
kith_client_roster_ready (KithTransport *transport)
{
	KithClientTransport *self = (KithClientTransport *)transport;
	return kith_session_is_online (self->session) && self->roster_id == NULL;
}

/* a roster remove: the server sends both unsubscribe and unsubscribed */
static void
kith_client_remove_contact (KithTransport *transport, const gchar *jid)
{
	KithClientTransport *self = (KithClientTransport *)transport;
	xmpp_stanza_t *iq = xmpp_iq_new (transport->ctx, "set", "kith-roster-remove");
	xmpp_stanza_t *query = kith_stanza_add_element (iq, "query", KITH_NS_ROSTER);
	xmpp_stanza_t *item = kith_stanza_add_element (query, "item", NULL);

	xmpp_stanza_set_attribute (item, "jid", jid);
	xmpp_stanza_set_attribute (item, "subscription", "remove");
	kith_session_send (self->session, iq);
	xmpp_stanza_release (iq);
}

/* the server probes the account's contacts at login by itself */
static void
kith_client_watch (KithTransport *transport, const gchar *jid)
{
}

static void
kith_client_finalize (KithTransport *transport)
{
	KithClientTransport *self = (KithClientTransport *)transport;
	g_queue_clear_full (&self->early, kith_client_release_stanza);
	g_free (self->roster_id);
	kith_session_free (self->session);
}

static const KithTransportFuncs kith_client_funcs = {
	.start = kith_client_start,
	.stop = kith_client_stop,
	.send = kith_client_send,
	.is_online = kith_client_is_online,
	.roster_ready = kith_client_roster_ready,
	.remove_contact = kith_client_remove_contact,
	.watch = kith_client_watch,
	.finalize = kith_client_finalize,
};

KithTransport *
kith_client_transport_new (KithConfig *config, KithConnectGate *gate, KithStore *store,
                           const gchar *localpart)
{
	KithClientTransport *self = g_new0 (KithClientTransport, 1);

	self->config = config;
	self->session = kith_session_new (config, gate, store, localpart,
	                                  &kith_client_session_callbacks, self);
	g_queue_init (&self->early);
	kith_transport_init (&self->parent, &kith_client_funcs,
	                     kith_session_get_ctx (self->session),
	                     kith_session_get_bare_jid (self->session),
	                     kith_session_get_full_jid (self->session));
	return &self->parent;
}

KithSession *
kith_client_transport_get_session (KithTransport *transport)
{
	return transport->funcs == &kith_client_funcs ? ((KithClientTransport *)transport)->session
	                                              : NULL;
}
