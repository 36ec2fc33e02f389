/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "discover.h"

#include "iot/stanza.h"

#define KITH_DISCOVER_TIMEOUT_MS 10000

/* services found, "domain\x1ffeature" -> JID: every device of the gateway is on the same server,
 * so one answer serves them all (thousands of devices in component mode ask no more) */
static GHashTable *kith_discover_found;

static gchar *
kith_discover_key (const KithAgent *agent, const gchar *feature)
{
	return g_strdup_printf ("%s\x1f%s", agent->config->domain, feature);
}

typedef struct {
	gint ref_count;
	const KithAgent *agent;
	gchar *feature;
	KithDiscoverFunc done;
	gpointer user_data;
	gboolean finished;
	guint outstanding;
} KithDiscovery;

typedef struct {
	KithDiscovery *discovery;
	gchar *item;
} KithDiscoveryItem;

static KithDiscovery *
kith_discovery_ref (KithDiscovery *discovery)
{
	discovery->ref_count++;
	return discovery;
}

static void
kith_discovery_unref (gpointer data)
{
	KithDiscovery *discovery = data;
	if (--discovery->ref_count > 0)
		return;
	g_free (discovery->feature);
	g_free (discovery);
}

static void
kith_discovery_item_free (gpointer data)
{
	KithDiscoveryItem *item = data;
	kith_discovery_unref (item->discovery);
	g_free (item->item);
	g_free (item);
}

static void
kith_discovery_finish (KithDiscovery *discovery, const gchar *jid)
{
	if (discovery->finished)
		return;
	discovery->finished = TRUE;
	if (jid != NULL) {
		if (kith_discover_found == NULL)
			kith_discover_found =
			        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
		g_hash_table_replace (kith_discover_found,
		                      kith_discover_key (discovery->agent, discovery->feature),
		                      g_strdup (jid));
	}
	discovery->done (jid, discovery->user_data);
}

static void
kith_discover_info_cb (xmpp_stanza_t *reply, gpointer user_data)
{
	KithDiscoveryItem *item = user_data;
	KithDiscovery *discovery = item->discovery;
	xmpp_stanza_t *query =
	        reply != NULL ? xmpp_stanza_get_child_by_ns (reply, KITH_NS_DISCO_INFO) : NULL;

	discovery->outstanding--;
	for (xmpp_stanza_t *child = query != NULL ? xmpp_stanza_get_children (query) : NULL;
	     child != NULL; child = xmpp_stanza_get_next (child)) {
		if (g_strcmp0 (xmpp_stanza_get_name (child), "feature") == 0 &&
		    g_strcmp0 (xmpp_stanza_get_attribute (child, "var"), discovery->feature) == 0) {
			kith_discovery_finish (discovery, item->item);
			return;
		}
	}
	if (discovery->outstanding == 0)
		kith_discovery_finish (discovery, NULL);
}

static void
kith_discover_items_cb (xmpp_stanza_t *reply, gpointer user_data)
{
	KithDiscovery *discovery = user_data;
	xmpp_stanza_t *query =
	        reply != NULL ? xmpp_stanza_get_child_by_ns (reply, KITH_NS_DISCO_ITEMS) : NULL;

	for (xmpp_stanza_t *child = query != NULL ? xmpp_stanza_get_children (query) : NULL;
	     child != NULL; child = xmpp_stanza_get_next (child)) {
		const char *jid = xmpp_stanza_get_attribute (child, "jid");
		KithDiscoveryItem *item;
		xmpp_stanza_t *iq;

		if (jid == NULL || g_strcmp0 (xmpp_stanza_get_name (child), "item") != 0)
			continue;
		item = g_new0 (KithDiscoveryItem, 1);
		item->discovery = kith_discovery_ref (discovery);
		item->item = g_strdup (jid);
		discovery->outstanding++;
		iq = xmpp_iq_new (discovery->agent->ctx, "get", "kith");
		xmpp_stanza_set_to (iq, jid);
		kith_stanza_add_element (iq, "query", KITH_NS_DISCO_INFO);
		kith_iq_client_send (discovery->agent->iq, iq, KITH_DISCOVER_TIMEOUT_MS,
		                     kith_discover_info_cb, item, kith_discovery_item_free);
	}
	if (discovery->outstanding == 0)
		kith_discovery_finish (discovery, NULL);
}

void
kith_discover_service (const KithAgent *agent, const gchar *feature, KithDiscoverFunc done,
                       gpointer user_data)
{
	KithDiscovery *discovery;
	xmpp_stanza_t *iq;

	if (kith_discover_found != NULL) {
		g_autofree gchar *key = kith_discover_key (agent, feature);
		const gchar *jid = g_hash_table_lookup (kith_discover_found, key);
		if (jid != NULL) {
			done (jid, user_data);
			return;
		}
	}
	discovery = g_new0 (KithDiscovery, 1);
	iq = xmpp_iq_new (agent->ctx, "get", "kith");
	discovery->agent = agent;
	discovery->ref_count = 1;
	discovery->feature = g_strdup (feature);
	discovery->done = done;
	discovery->user_data = user_data;
	xmpp_stanza_set_to (iq, agent->config->domain);
	kith_stanza_add_element (iq, "query", KITH_NS_DISCO_ITEMS);
	kith_iq_client_send (agent->iq, iq, KITH_DISCOVER_TIMEOUT_MS, kith_discover_items_cb,
	                     discovery, kith_discovery_unref);
}
