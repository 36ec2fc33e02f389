/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "router.h"

#include <string.h>

#include "iot/stanza.h"
#include "transport-component.h"

/* the ramp: each step brings devices online until they have said a step's worth of stanzas
 * (PresenceRate per second), at most this many; devices that say nothing cost nothing */
#define KITH_ROUTER_RAMP_MS 10
#define KITH_ROUTER_RAMP_MAX 1000

/* one device on the stream */
typedef struct {
	gchar *id;
	KithDevice *device;       /* for its name in disco#items */
	KithTransport *transport; /* a reference; the identity holds another */
} KithRouterEntry;

struct _KithRouter {
	KithConfig *config;
	KithStore *store;
	KithComponent *component;
	GHashTable *entries; /* device id -> KithRouterEntry (not owned) */
	GPtrArray *order;    /* KithRouterEntry (owned) in the order the devices came */
	guint ramp_next;     /* the next identity to bring online */
	guint ramp_id;
	gint64 ramp_started;
	gboolean ramp_logged;
	guint roster_entries; /* loaded from the store at start */
	gboolean started;
	GSourceFunc stop_done;
	gpointer stop_data;
};

static void
kith_router_send (KithRouter *self, xmpp_stanza_t *stanza)
{
	kith_component_send (self->component, stanza);
	xmpp_stanza_release (stanza);
}

/* -- the ramp: every device announces itself, a few at a time ------------------------------ */

static guint64
kith_router_said (KithRouter *self)
{
	return kith_component_get_sent (self->component) +
	       kith_component_get_paced_length (self->component) +
	       kith_component_get_outbox_length (self->component);
}

static gboolean
kith_router_ramp_cb (gpointer user_data)
{
	KithRouter *self = user_data;
	guint64 budget = MAX (1u, self->config->presence_rate * KITH_ROUTER_RAMP_MS / 1000u);
	guint64 said = kith_router_said (self);
	guint count = 0;

	if (!kith_component_is_online (self->component)) {
		self->ramp_id = 0;
		return G_SOURCE_REMOVE;
	}
	/* and no more than about a second of presence waits in the component's queue */
	while (self->ramp_next < self->order->len && count++ < KITH_ROUTER_RAMP_MAX &&
	       kith_router_said (self) - said < budget &&
	       kith_component_get_paced_length (self->component) < self->config->presence_rate)
		kith_component_transport_announce (
		        ((KithRouterEntry *)g_ptr_array_index (self->order, self->ramp_next++))
		                ->transport);
	if (self->ramp_next < self->order->len ||
	    kith_component_get_paced_length (self->component) > 0)
		return G_SOURCE_CONTINUE;
	if (!self->ramp_logged)
		g_message ("component %s: %u devices announced, presence sent after %.0f ms",
		           self->config->component_domain, self->order->len,
		           (g_get_monotonic_time () - self->ramp_started) / 1000.0);
	self->ramp_logged = TRUE;
	self->ramp_id = 0;
	return G_SOURCE_REMOVE;
}

static void
kith_router_online_cb (KithComponent *component, gpointer user_data)
{
	KithRouter *self = user_data;

	self->ramp_next = 0;
	self->ramp_logged = FALSE;
	self->ramp_started = g_get_monotonic_time ();
	g_clear_handle_id (&self->ramp_id, g_source_remove);
	self->ramp_id = g_timeout_add (KITH_ROUTER_RAMP_MS, kith_router_ramp_cb, self);
	kith_router_ramp_cb (self);
}

static void
kith_router_offline_cb (KithComponent *component, gpointer user_data)
{
	KithRouter *self = user_data;

	g_clear_handle_id (&self->ramp_id, g_source_remove);
	for (guint i = 0; i < self->order->len; i++)
		kith_component_transport_went_offline (
		        ((KithRouterEntry *)g_ptr_array_index (self->order, i))->transport);
}

static void
kith_router_stopped_cb (KithComponent *component, gpointer user_data)
{
	KithRouter *self = user_data;
	GSourceFunc done = self->stop_done;

	self->stop_done = NULL;
	if (done != NULL)
		done (self->stop_data);
}

/* -- the component's own domain ------------------------------------------------------------ */

/* the devices the asker may know of: those that count it as a friend */
static void
kith_router_domain_disco_items (KithRouter *self, xmpp_stanza_t *iq)
{
	xmpp_stanza_t *reply = kith_stanza_iq_result (kith_component_get_ctx (self->component), iq);
	xmpp_stanza_t *query = kith_stanza_add_element (reply, "query", KITH_NS_DISCO_ITEMS);
	g_autofree gchar *asker = kith_jid_bare (xmpp_stanza_get_from (iq));

	for (guint i = 0; i < self->order->len; i++) {
		KithRouterEntry *entry = g_ptr_array_index (self->order, i);
		xmpp_stanza_t *item;
		if (!kith_transport_is_friend (entry->transport, asker))
			continue;
		item = kith_stanza_add_element (query, "item", NULL);
		xmpp_stanza_set_attribute (item, "jid", entry->transport->bare_jid);
		xmpp_stanza_set_attribute (item, "name", kith_device_get_label (entry->device));
	}
	kith_router_send (self, reply);
}

static void
kith_router_domain_stanza (KithRouter *self, xmpp_stanza_t *stanza)
{
	xmpp_ctx_t *ctx = kith_component_get_ctx (self->component);
	const char *type = xmpp_stanza_get_type (stanza);
	xmpp_stanza_t *payload;
	const char *ns;

	if (g_strcmp0 (xmpp_stanza_get_name (stanza), "iq") != 0 ||
	    (g_strcmp0 (type, "get") != 0 && g_strcmp0 (type, "set") != 0) ||
	    xmpp_stanza_get_id (stanza) == NULL)
		return;
	payload = xmpp_stanza_get_children (stanza);
	while (payload != NULL && !xmpp_stanza_is_tag (payload))
		payload = xmpp_stanza_get_next (payload);
	ns = payload != NULL ? xmpp_stanza_get_ns (payload) : NULL;
	if (g_strcmp0 (type, "get") == 0 && g_strcmp0 (ns, KITH_NS_PING) == 0) {
		kith_router_send (self, kith_stanza_iq_result (ctx, stanza));
	} else if (g_strcmp0 (type, "get") == 0 && g_strcmp0 (ns, KITH_NS_DISCO_INFO) == 0 &&
	           xmpp_stanza_get_attribute (payload, "node") == NULL) {
		static const gchar *const features[] = {
			KITH_NS_DISCO_INFO,
			KITH_NS_DISCO_ITEMS,
			KITH_NS_PING,
			KITH_NS_VERSION,
			NULL,
		};
		kith_router_send (self, kith_stanza_disco_info (ctx, stanza, "component", "generic",
		                                                "kithd", features, NULL));
	} else if (g_strcmp0 (type, "get") == 0 && g_strcmp0 (ns, KITH_NS_DISCO_ITEMS) == 0 &&
	           xmpp_stanza_get_attribute (payload, "node") == NULL) {
		kith_router_domain_disco_items (self, stanza);
	} else if (g_strcmp0 (type, "get") == 0 && g_strcmp0 (ns, KITH_NS_VERSION) == 0) {
		kith_router_send (self, kith_stanza_version (ctx, stanza));
	} else {
		kith_router_send (self, kith_stanza_error (ctx, stanza, "cancel",
		                                           "service-unavailable", NULL, NULL));
	}
}

/* a JID of the component's domain that is no device: what a server says of a missing user */
static void
kith_router_no_such_device (KithRouter *self, xmpp_stanza_t *stanza)
{
	xmpp_ctx_t *ctx = kith_component_get_ctx (self->component);
	const char *name = xmpp_stanza_get_name (stanza);
	const char *type = xmpp_stanza_get_type (stanza);

	if (g_strcmp0 (name, "presence") == 0) {
		if (g_strcmp0 (type, "subscribe") == 0) {
			g_autofree gchar *to = kith_jid_bare (xmpp_stanza_get_to (stanza));
			g_autofree gchar *from = kith_jid_bare (xmpp_stanza_get_from (stanza));
			kith_router_send (self,
			                  kith_stanza_presence (ctx, "unsubscribed", to, from));
		}
		return;
	}
	if (g_strcmp0 (type, "error") == 0 || g_strcmp0 (type, "result") == 0 ||
	    g_strcmp0 (type, "headline") == 0 || g_strcmp0 (type, "groupchat") == 0)
		return;
	if (g_strcmp0 (name, "iq") == 0 && xmpp_stanza_get_id (stanza) == NULL)
		return;
	kith_router_send (
	        self, kith_stanza_error (ctx, stanza, "cancel", "service-unavailable", NULL, NULL));
}

static void
kith_router_stanza_cb (KithComponent *component, xmpp_stanza_t *stanza, gpointer user_data)
{
	kith_router_receive (user_data, stanza);
}

void
kith_router_receive (KithRouter *self, xmpp_stanza_t *stanza)
{
	const char *to = xmpp_stanza_get_to (stanza);
	const char *at, *slash, *domain;
	g_autofree gchar *node = NULL;
	g_autofree gchar *host = NULL;
	KithRouterEntry *entry;

	if (to == NULL || xmpp_stanza_get_from (stanza) == NULL)
		return;
	slash = strchr (to, '/');
	at = strchr (to, '@');
	if (at != NULL && slash != NULL && at > slash)
		at = NULL; /* an @ in the resource */
	domain = at != NULL ? at + 1 : to;
	host = g_utf8_strdown (domain, slash != NULL ? slash - domain : -1);
	if (g_strcmp0 (host, self->config->component_domain) != 0)
		return; /* the server routes only our domain here */
	if (at == NULL) {
		kith_router_domain_stanza (self, stanza);
		return;
	}
	node = g_utf8_strdown (to, at - to);
	entry = g_hash_table_lookup (self->entries, node);
	if (entry == NULL) {
		kith_router_no_such_device (self, stanza);
		return;
	}
	/* an IQ for another resource of the device has nobody to answer it */
	if (slash != NULL && g_strcmp0 (slash + 1, self->config->resource) != 0 &&
	    g_strcmp0 (xmpp_stanza_get_name (stanza), "iq") == 0) {
		kith_router_no_such_device (self, stanza);
		return;
	}
	kith_component_transport_receive (entry->transport, stanza);
}

static const KithComponentCallbacks kith_router_callbacks = {
	.online = kith_router_online_cb,
	.offline = kith_router_offline_cb,
	.stanza = kith_router_stanza_cb,
	.stopped = kith_router_stopped_cb,
};

static void
kith_router_entry_free (gpointer data)
{
	KithRouterEntry *entry = data;
	kith_transport_unref (entry->transport);
	g_object_unref (entry->device);
	g_free (entry->id);
	g_free (entry);
}

KithRouter *
kith_router_new (KithConfig *config, KithStore *store)
{
	KithRouter *self = g_new0 (KithRouter, 1);

	self->config = config;
	self->store = store;
	self->component = kith_component_new (config, &kith_router_callbacks, self);
	self->entries = g_hash_table_new (g_str_hash, g_str_equal);
	self->order = g_ptr_array_new_with_free_func (kith_router_entry_free);
	return self;
}

void
kith_router_free (KithRouter *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id (&self->ramp_id, g_source_remove);
	g_hash_table_unref (self->entries);
	g_ptr_array_unref (self->order);
	kith_component_free (self->component);
	g_free (self);
}

KithComponent *
kith_router_get_component (KithRouter *self)
{
	return self->component;
}

static void
kith_router_load_roster_cb (const gchar *device_id, const gchar *jid, guint state,
                            gpointer user_data)
{
	KithRouter *self = user_data;
	KithRouterEntry *entry = g_hash_table_lookup (self->entries, device_id);

	if (entry != NULL) {
		kith_component_transport_load (entry->transport, jid, state);
		self->roster_entries++;
	}
}

KithTransport *
kith_router_add_device (KithRouter *self, KithDevice *device)
{
	KithRouterEntry *entry = g_new0 (KithRouterEntry, 1);
	g_autofree gchar *bare = NULL;
	g_autofree gchar *full = NULL;

	entry->id = g_strdup (kith_device_get_id (device));
	entry->device = g_object_ref (device);
	bare = g_strdup_printf ("%s@%s", entry->id, self->config->component_domain);
	full = g_strdup_printf ("%s/%s", bare, self->config->resource);
	entry->transport =
	        kith_component_transport_new (self->component, self->store, entry->id, bare, full);
	g_hash_table_insert (self->entries, entry->id, entry);
	g_ptr_array_add (self->order, entry);
	/* a device that comes while the stream runs: its roster now, and its turn at once */
	if (self->started) {
		kith_store_foreach_roster (self->store, entry->id, kith_router_load_roster_cb,
		                           self);
		if (kith_component_is_online (self->component) && self->ramp_id == 0) {
			self->ramp_next = self->order->len;
			kith_component_transport_announce (entry->transport);
		}
	}
	return kith_transport_ref (entry->transport);
}

void
kith_router_remove_device (KithRouter *self, const gchar *id)
{
	KithRouterEntry *entry = g_hash_table_lookup (self->entries, id);
	guint index;

	if (entry == NULL)
		return;
	g_hash_table_remove (self->entries, id);
	if (g_ptr_array_find (self->order, entry, &index)) {
		if (index < self->ramp_next)
			self->ramp_next--;
		g_ptr_array_remove_index (self->order, index);
	}
}

void
kith_router_set_device (KithRouter *self, KithDevice *device)
{
	KithRouterEntry *entry = g_hash_table_lookup (self->entries, kith_device_get_id (device));
	if (entry != NULL && entry->device != device) {
		g_object_unref (entry->device);
		entry->device = g_object_ref (device);
	}
}

void
kith_router_start (KithRouter *self)
{
	kith_store_foreach_roster (self->store, NULL, kith_router_load_roster_cb, self);
	g_message ("component %s: %u devices, %u roster entries", self->config->component_domain,
	           self->order->len, self->roster_entries);
	self->started = TRUE;
	kith_component_start (self->component);
}

void
kith_router_stop (KithRouter *self, GSourceFunc done, gpointer user_data)
{
	g_clear_handle_id (&self->ramp_id, g_source_remove);
	self->stop_done = done;
	self->stop_data = user_data;
	kith_component_stop (self->component);
}
