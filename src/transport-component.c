/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "transport-component.h"

#include "iot/stanza.h"
#include "iot/subscription.h"

/*
 * Component mode: no server keeps the device's account, so this does the server's part of
 * RFC 6121 for it: the subscription state machine in both directions (iot/subscription.c),
 * probes, the broadcast of the device's presence to whoever sees it, directed presence, and
 * the roster, persisted in the store.
 */
typedef struct {
	KithTransport parent;
	KithComponent *component;
	KithStore *store;
	gchar *device_id;
	gboolean announced;      /* online on the component's stream */
	xmpp_stanza_t *presence; /* the device's last broadcast presence (what probes get) */
} KithComponentTransport;

static void
kith_ct_set_state (KithComponentTransport *self, const gchar *contact, guint state)
{
	g_autoptr (GError) error = NULL;
	/* contact may be the roster's own key, freed by the removal below */
	g_autofree gchar *jid = g_strdup (contact);
	guint was = kith_transport_get_state (&self->parent, jid);

	if (state == was)
		return;
	if (state == 0)
		g_hash_table_remove (self->parent.roster, jid);
	else
		g_hash_table_insert (self->parent.roster, g_strdup (jid), GUINT_TO_POINTER (state));
	g_debug ("%s: %s: %s -> %s", self->device_id, jid, kith_subscription_describe (was),
	         kith_subscription_describe (state));
	if (!kith_store_set_roster (self->store, self->device_id, jid, state, &error))
		g_warning ("%s: %s", self->device_id, error->message);
	if (((state ^ was) & (KITH_SUB_FROM | KITH_SUB_TO)) != 0 &&
	    self->parent.callbacks.roster_changed != NULL)
		self->parent.callbacks.roster_changed (self->parent.user_data);
}

static gboolean
kith_ct_is_online (KithTransport *transport)
{
	KithComponentTransport *self = (KithComponentTransport *)transport;
	return self->announced && kith_component_is_online (self->component);
}

/* presence of the given type (NULL: the device's current one) from the device to one
 * address; subscription answers come from the bare JID */
static void
kith_ct_presence_to (KithComponentTransport *self, const gchar *type, const gchar *to)
{
	g_autoptr (xmpp_stanza_t) presence = NULL;
	gboolean answer = kith_subscription_is_type (type);

	if (type == NULL && self->presence != NULL && kith_ct_is_online (&self->parent))
		presence = xmpp_stanza_copy (self->presence);
	else
		presence = kith_stanza_presence (self->parent.ctx,
		                                 type != NULL ? type : "unavailable", NULL, NULL);
	xmpp_stanza_set_from (presence, answer ? self->parent.bare_jid : self->parent.full_jid);
	xmpp_stanza_set_to (presence, to);
	kith_component_send (self->component, presence);
}

/* what the subscription tables tell the device to send jid (its presence goes to `to`, which
 * for a probe is the address that asked) */
static void
kith_ct_actions (KithComponentTransport *self, guint actions, const gchar *jid, const gchar *to)
{
	if (actions & KITH_SUB_SUBSCRIBED)
		kith_ct_presence_to (self, "subscribed", jid);
	if (actions & KITH_SUB_PRESENCE)
		kith_ct_presence_to (self, NULL, to);
	if (actions & KITH_SUB_UNAVAILABLE)
		kith_ct_presence_to (self, "unavailable", jid);
	if (actions & KITH_SUB_UNSUBSCRIBED)
		kith_ct_presence_to (self, "unsubscribed", jid);
}

/* presence without an addressee goes to every contact who sees the device, and to those it
 * sent directed presence; available presence is paced, unavailable leaves at once */
static void
kith_ct_broadcast (KithComponentTransport *self, xmpp_stanza_t *presence)
{
	gboolean unavailable = g_strcmp0 (xmpp_stanza_get_type (presence), "unavailable") == 0;
	g_autoptr (GPtrArray) undirect = g_ptr_array_new_with_free_func (g_free);
	GHashTableIter iter;
	gpointer jid, value;

	g_clear_pointer (&self->presence, xmpp_stanza_release);
	if (!unavailable)
		self->presence = xmpp_stanza_copy (presence);
	g_hash_table_iter_init (&iter, self->parent.roster);
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		guint state = GPOINTER_TO_UINT (value);
		g_autoptr (xmpp_stanza_t) copy = NULL;

		if ((state & (KITH_SUB_FROM | KITH_SUB_DIRECTED)) == 0)
			continue;
		copy = xmpp_stanza_copy (presence);
		xmpp_stanza_set_from (copy, self->parent.full_jid);
		xmpp_stanza_set_to (copy, jid);
		if (unavailable)
			kith_component_send (self->component, copy);
		else
			kith_component_send_paced (self->component, copy);
		if (unavailable && (state & KITH_SUB_DIRECTED))
			g_ptr_array_add (undirect, g_strdup (jid));
	}
	/* directed presence ends with the unavailable that followed it */
	for (guint i = 0; i < undirect->len; i++) {
		const gchar *contact = g_ptr_array_index (undirect, i);
		kith_ct_set_state (self, contact,
		                   kith_transport_get_state (&self->parent, contact) &
		                           ~KITH_SUB_DIRECTED);
	}
}

static void
kith_ct_subscription_out (KithComponentTransport *self, xmpp_stanza_t *stanza, const gchar *type,
                          const gchar *jid)
{
	guint state = kith_transport_get_state (&self->parent, jid);
	guint actions = kith_subscription_outbound (type, &state);

	kith_ct_set_state (self, jid, state);
	if (actions & KITH_SUB_ROUTE) {
		/* subscription stanzas carry bare JIDs */
		xmpp_stanza_set_from (stanza, self->parent.bare_jid);
		xmpp_stanza_set_to (stanza, jid);
		kith_component_send (self->component, stanza);
	}
	kith_ct_actions (self, actions, jid, jid);
}

/* every stanza the device sends: the server's duties first */
static void
kith_ct_send (KithTransport *transport, xmpp_stanza_t *stanza)
{
	KithComponentTransport *self = (KithComponentTransport *)transport;
	const char *type = xmpp_stanza_get_type (stanza);
	g_autofree gchar *jid = NULL;

	if (g_strcmp0 (xmpp_stanza_get_name (stanza), "presence") != 0) {
		if (xmpp_stanza_get_from (stanza) == NULL)
			xmpp_stanza_set_from (stanza, transport->full_jid);
		kith_component_send (self->component, stanza);
		return;
	}
	jid = kith_jid_bare (xmpp_stanza_get_to (stanza));
	if (kith_subscription_is_type (type)) {
		if (jid != NULL)
			kith_ct_subscription_out (self, stanza, type, jid);
		return;
	}
	if (g_strcmp0 (type, "probe") == 0) {
		xmpp_stanza_set_from (stanza, transport->bare_jid);
		kith_component_send_paced (self->component, stanza);
		return;
	}
	if (type != NULL && g_strcmp0 (type, "unavailable") != 0) {
		if (xmpp_stanza_get_from (stanza) == NULL)
			xmpp_stanza_set_from (stanza, transport->full_jid);
		kith_component_send (self->component, stanza);
		return;
	}
	if (jid == NULL) {
		kith_ct_broadcast (self, stanza);
		return;
	}
	/* directed presence: remembered, so that unavailable follows it on shutdown */
	{
		guint state = kith_transport_get_state (transport, jid);
		if (type == NULL && (state & KITH_SUB_FROM) == 0)
			state |= KITH_SUB_DIRECTED;
		else if (type != NULL)
			state &= ~KITH_SUB_DIRECTED;
		kith_ct_set_state (self, jid, state);
	}
	xmpp_stanza_set_from (stanza, transport->full_jid);
	kith_component_send (self->component, stanza);
}

static void
kith_ct_deliver (KithComponentTransport *self, xmpp_stanza_t *stanza)
{
	if (self->parent.callbacks.stanza != NULL)
		self->parent.callbacks.stanza (stanza, self->parent.user_data);
}

void
kith_component_transport_receive (KithTransport *transport, xmpp_stanza_t *stanza)
{
	KithComponentTransport *self = (KithComponentTransport *)transport;
	const char *from = xmpp_stanza_get_from (stanza);
	const char *type = xmpp_stanza_get_type (stanza);
	g_autofree gchar *jid = kith_jid_bare (from);

	if (jid == NULL)
		return; /* a component stream stanza always names its sender */
	if (g_strcmp0 (xmpp_stanza_get_name (stanza), "presence") == 0) {
		if (kith_subscription_is_type (type)) {
			guint state = kith_transport_get_state (transport, jid);
			guint was = state;
			guint actions = kith_subscription_inbound (type, &state);

			kith_ct_set_state (self, jid, state);
			kith_ct_actions (self, actions, jid, jid);
			if ((actions & KITH_SUB_DELIVER) == 0) {
				g_info ("%s: %s from %s in state %s: handled", self->device_id,
				        type, jid, kith_subscription_describe (was));
				return;
			}
		} else if (g_strcmp0 (type, "probe") == 0) {
			/* answered to the address that asked (Prosody probes from full JIDs) */
			kith_ct_actions (
			        self,
			        kith_subscription_probe (kith_transport_get_state (transport, jid)),
			        jid, from);
			return;
		} else if (g_strcmp0 (type, "error") == 0) {
			g_info ("%s: presence to %s bounced", self->device_id, from);
			return;
		}
	}
	/* a roster push reaches the device's protocol layer, which refuses or ignores it: no
	 * server keeps a roster for us, and nobody else may push one */
	kith_ct_deliver (self, stanza);
}

void
kith_component_transport_announce (KithTransport *transport)
{
	KithComponentTransport *self = (KithComponentTransport *)transport;
	g_autoptr (GPtrArray) waiting = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) asked = g_ptr_array_new_with_free_func (g_free);
	GHashTableIter iter;
	gpointer jid, value;

	self->announced = TRUE;
	g_hash_table_iter_init (&iter, transport->roster);
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		if (GPOINTER_TO_UINT (value) & KITH_SUB_PENDING_IN)
			g_ptr_array_add (waiting, g_strdup (jid));
		if ((GPOINTER_TO_UINT (value) & (KITH_SUB_PENDING_OUT | KITH_SUB_TO)) ==
		    KITH_SUB_PENDING_OUT)
			g_ptr_array_add (asked, g_strdup (jid));
	}
	if (transport->callbacks.online != NULL)
		transport->callbacks.online (transport->user_data);
	/* the device's own requests are asked again (RFC 6121 allows it, a server ignores a
	 * duplicate): an answer that bounced while kithd was down is then given again */
	for (guint i = 0; i < asked->len; i++) {
		xmpp_stanza_t *subscribe = kith_stanza_presence (transport->ctx, "subscribe", NULL,
		                                                 g_ptr_array_index (asked, i));
		kith_ct_send (transport, subscribe);
		xmpp_stanza_release (subscribe);
	}
	/* as a server redelivers friend requests at login, the undecided ones go to the device */
	for (guint i = 0; i < waiting->len; i++) {
		xmpp_stanza_t *subscribe =
		        kith_stanza_presence (transport->ctx, "subscribe",
		                              g_ptr_array_index (waiting, i), transport->bare_jid);
		kith_ct_deliver (self, subscribe);
		xmpp_stanza_release (subscribe);
	}
}

void
kith_component_transport_went_offline (KithTransport *transport)
{
	KithComponentTransport *self = (KithComponentTransport *)transport;
	gboolean was = self->announced;

	self->announced = FALSE;
	if (was && transport->callbacks.offline != NULL)
		transport->callbacks.offline (transport->user_data);
}

void
kith_component_transport_load (KithTransport *transport, const gchar *jid, guint state)
{
	if (state != 0)
		g_hash_table_insert (transport->roster, g_strdup (jid), GUINT_TO_POINTER (state));
}

static void
kith_ct_start (KithTransport *transport)
{
	/* the router announces the device when the stream is up */
}

static void
kith_ct_stop (KithTransport *transport)
{
	KithComponentTransport *self = (KithComponentTransport *)transport;
	self->announced = FALSE;
	if (transport->callbacks.stopped != NULL)
		transport->callbacks.stopped (transport->user_data);
}

static gboolean
kith_ct_roster_ready (KithTransport *transport)
{
	return TRUE; /* loaded from the store before the device speaks */
}

/* what a server does for a roster remove: both directions end, the item goes */
static void
kith_ct_remove_contact (KithTransport *transport, const gchar *jid)
{
	KithComponentTransport *self = (KithComponentTransport *)transport;
	g_autofree gchar *contact = g_strdup (jid);
	xmpp_stanza_t *stanza;

	stanza = kith_stanza_presence (transport->ctx, "unsubscribed", NULL, contact);
	kith_ct_send (transport, stanza);
	xmpp_stanza_release (stanza);
	stanza = kith_stanza_presence (transport->ctx, "unsubscribe", NULL, contact);
	kith_ct_send (transport, stanza);
	xmpp_stanza_release (stanza);
	kith_ct_set_state (self, contact, 0);
}

/* the contact's presence is asked for (a server probes its users' contacts at login) */
static void
kith_ct_watch (KithTransport *transport, const gchar *jid)
{
	xmpp_stanza_t *probe;

	if ((kith_transport_get_state (transport, jid) & KITH_SUB_TO) == 0)
		return;
	probe = kith_stanza_presence (transport->ctx, "probe", NULL, jid);
	kith_ct_send (transport, probe);
	xmpp_stanza_release (probe);
}

static void
kith_ct_finalize (KithTransport *transport)
{
	KithComponentTransport *self = (KithComponentTransport *)transport;
	g_clear_pointer (&self->presence, xmpp_stanza_release);
	g_free (self->device_id);
}

static const KithTransportFuncs kith_ct_funcs = {
	.start = kith_ct_start,
	.stop = kith_ct_stop,
	.send = kith_ct_send,
	.is_online = kith_ct_is_online,
	.roster_ready = kith_ct_roster_ready,
	.remove_contact = kith_ct_remove_contact,
	.watch = kith_ct_watch,
	.finalize = kith_ct_finalize,
};

KithTransport *
kith_component_transport_new (KithComponent *component, KithStore *store, const gchar *device_id,
                              const gchar *bare_jid, const gchar *full_jid)
{
	KithComponentTransport *self = g_new0 (KithComponentTransport, 1);

	self->component = component;
	self->store = store;
	self->device_id = g_strdup (device_id);
	kith_transport_init (&self->parent, &kith_ct_funcs, kith_component_get_ctx (component),
	                     bare_jid, full_jid);
	return &self->parent;
}
