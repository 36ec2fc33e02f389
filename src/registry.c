/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "registry.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/random.h>

#include "discover.h"
#include "iot/stanza.h"

#define KITH_NS_DISCOVERY "urn:xmpp:iot:discovery"
#define KITH_REGISTRY_TIMEOUT_MS 15000
#define KITH_REGISTRY_VERSION "0.1"
/* a registration that got no answer or an error is tried again: 2.5-5 s, 5-10 s, … 2.5-5 min */
#define KITH_REGISTRY_RETRY_FIRST_MS 5000
#define KITH_REGISTRY_RETRY_MAX_MS 300000

#define KITH_REGISTRY_UNREGISTERED "unregistered"
#define KITH_REGISTRY_REGISTERED "registered"
#define KITH_REGISTRY_CLAIMED "claimed"
#define KITH_REGISTRY_REMOVED "removed"

struct _KithRegistry {
	const KithAgent *agent;
	KithRegistryCallbacks callbacks;
	gpointer user_data;
	gchar *jid; /* the registry: configured or discovered */
	gboolean discovering;
	guint retry_id; /* the next registration attempt */
	guint failures;
};

typedef struct {
	const gchar *name;
	const gchar *value;
	gboolean numeric;
} KithTag;

static const gchar *
kith_registry_device_id (KithRegistry *self)
{
	return self->agent->id;
}

gchar *
kith_registry_ensure_key (KithStore *store, const gchar *device_id, GError **error)
{
	g_autofree gchar *key = NULL;
	guint8 bytes[16];
	gsize filled = 0;

	if (kith_store_get_registration (store, device_id, &key, NULL, NULL) && key != NULL)
		return g_steal_pointer (&key);
	while (filled < sizeof bytes) {
		ssize_t n = getrandom (bytes + filled, sizeof bytes - filled, 0);
		if (n > 0)
			filled += (gsize)n;
		else if (errno != EINTR) {
			g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
			             "no random numbers for a KEY: %s", g_strerror (errno));
			return NULL;
		}
	}
	key = g_malloc0 (sizeof bytes * 2 + 1);
	for (guint i = 0; i < sizeof bytes; i++)
		g_snprintf (key + 2 * i, 3, "%02x", bytes[i]);
	if (!kith_store_set_registration (store, device_id, key, NULL, KITH_REGISTRY_UNREGISTERED,
	                                  error))
		return NULL;
	return g_steal_pointer (&key);
}

/* the meta tags a device registers with; NULL values are left out */
static guint
kith_registry_tags (KithDevice *device, const gchar *key, KithTag *tags)
{
	guint n = 0;
	const KithTag all[] = {
		{ "SN", kith_device_get_id (device), FALSE },
		{ "MAN", kith_device_get_manufacturer (device), FALSE },
		{ "MODEL", kith_device_get_model (device), FALSE },
		{ "CLASS", kith_device_get_class (device), FALSE },
		{ "V", KITH_REGISTRY_VERSION, TRUE },
		{ "KEY", key, FALSE },
	};
	for (guint i = 0; i < G_N_ELEMENTS (all); i++) {
		if (all[i].value != NULL && all[i].value[0] != '\0')
			tags[n++] = all[i];
	}
	return n;
}

gchar *
kith_registry_uri (KithDevice *device, const gchar *key, const gchar *registry)
{
	KithTag tags[8];
	guint n = kith_registry_tags (device, key, tags);
	g_autoptr (GString) uri = g_string_new ("iotdisco:");

	for (guint i = 0; i < n; i++) {
		g_autofree gchar *value = g_uri_escape_string (tags[i].value, NULL, FALSE);
		g_string_append_printf (uri, "%s%s%s=%s", i > 0 ? ";" : "",
		                        tags[i].numeric ? "#" : "", tags[i].name, value);
	}
	if (registry != NULL && registry[0] != '\0' && g_strcmp0 (registry, "discover") != 0) {
		g_autofree gchar *value = g_uri_escape_string (registry, NULL, FALSE);
		g_string_append_printf (uri, ";R=%s", value);
	}
	return g_string_free (g_steal_pointer (&uri), FALSE);
}

gboolean
kith_registry_wanted (KithConfig *config, KithStore *store, const gchar *device_id)
{
	g_autofree gchar *old = NULL;
	if (config->registry[0] != '\0')
		return TRUE;
	old = kith_store_get_registry_jid (store, device_id);
	return old != NULL && old[0] != '\0';
}

gchar *
kith_registry_get_claimed_owner (KithStore *store, const gchar *device_id)
{
	g_autofree gchar *owner = NULL;
	if (!kith_store_get_registration (store, device_id, NULL, &owner, NULL))
		return NULL;
	return g_steal_pointer (&owner);
}

KithRegistry *
kith_registry_new (const KithAgent *agent, const KithRegistryCallbacks *callbacks,
                   gpointer user_data)
{
	KithRegistry *self = g_new0 (KithRegistry, 1);
	KithConfig *config = agent->config;

	self->agent = agent;
	self->callbacks = *callbacks;
	self->user_data = user_data;
	if (config->registry[0] != '\0' && g_strcmp0 (config->registry, "discover") != 0)
		self->jid = g_strdup (config->registry);
	return self;
}

void
kith_registry_free (KithRegistry *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id (&self->retry_id, g_source_remove);
	g_free (self->jid);
	g_free (self);
}

static gboolean
kith_registry_save (KithRegistry *self, const gchar *key, const gchar *owner, const gchar *state)
{
	g_autoptr (GError) error = NULL;
	if (!kith_store_set_registration (self->agent->store, kith_registry_device_id (self), key,
	                                  owner, state, &error)) {
		g_warning ("%s: %s", kith_registry_device_id (self), error->message);
		return FALSE;
	}
	return TRUE;
}

static void kith_registry_disowned (KithRegistry *self);

/* an owner is a person's account: local@domain (a full JID is taken as its bare JID) */
static gboolean
kith_registry_valid_owner (const gchar *jid)
{
	g_autofree gchar *bare = kith_jid_bare (jid);
	return bare != NULL && strchr (bare, '@') != NULL && kith_jid_is_valid_bare (bare);
}

static void
kith_registry_update_cb (xmpp_stanza_t *reply, gpointer user_data)
{
	KithRegistry *self = user_data;
	xmpp_stanza_t *error =
	        reply != NULL ? xmpp_stanza_get_child_by_name (reply, "error") : NULL;

	if (reply == NULL)
		return;
	if (xmpp_stanza_get_child_by_name_and_ns (reply, "disowned", KITH_NS_DISCOVERY) != NULL) {
		/* disowned while we were away: unclaimed again */
		kith_registry_disowned (self);
	} else if (error != NULL &&
	           xmpp_stanza_get_child_by_name (error, "item-not-found") != NULL) {
		/* the owner removed the record: no more updates */
		g_autofree gchar *key = NULL;
		g_autofree gchar *owner = NULL;
		kith_store_get_registration (self->agent->store, kith_registry_device_id (self),
		                             &key, &owner, NULL);
		kith_registry_save (self, key != NULL ? key : "", owner, KITH_REGISTRY_REMOVED);
	}
}

/* XEP-0347 §3.6: after the claim the KEY in the registry is blanked, so that the code on the
 * sticker cannot be used again */
static void
kith_registry_blank_key (KithRegistry *self)
{
	xmpp_stanza_t *iq = xmpp_iq_new (self->agent->ctx, "set", "kith");
	xmpp_stanza_t *update;
	xmpp_stanza_t *tag;

	xmpp_stanza_set_to (iq, self->jid);
	update = kith_stanza_add_element (iq, "update", KITH_NS_DISCOVERY);
	tag = kith_stanza_add_element (update, "str", NULL);
	xmpp_stanza_set_attribute (tag, "name", "KEY");
	xmpp_stanza_set_attribute (tag, "value", "");
	kith_iq_client_send (self->agent->iq, iq, KITH_REGISTRY_TIMEOUT_MS, kith_registry_update_cb,
	                     self, NULL);
}

/* claimed: the owner is stored, trusted, pre-approved and asked for friendship; FALSE when it
 * could not be stored (nothing changed then) */
static gboolean
kith_registry_claimed (KithRegistry *self, const gchar *owner_jid)
{
	g_autofree gchar *owner = kith_jid_bare (owner_jid);
	g_autofree gchar *key = NULL;

	kith_store_get_registration (self->agent->store, kith_registry_device_id (self), &key, NULL,
	                             NULL);
	if (!kith_registry_save (self, key != NULL ? key : "", owner, KITH_REGISTRY_CLAIMED))
		return FALSE;
	kith_store_set_registry_jid (self->agent->store, kith_registry_device_id (self), self->jid,
	                             NULL);
	/* the device trusts and befriends its owner */
	self->callbacks.claimed (owner, self->user_data);
	kith_registry_blank_key (self);
	g_message ("%s: claimed by %s", kith_registry_device_id (self), owner);
	return TRUE;
}

static void kith_registry_register (KithRegistry *self);

static gboolean
kith_registry_retry_cb (gpointer user_data)
{
	KithRegistry *self = user_data;
	self->retry_id = 0;
	/* offline: coming online registers anyway */
	if (kith_agent_is_online (self->agent))
		kith_registry_online (self);
	return G_SOURCE_REMOVE;
}

/* the registry did not answer or refused: asked again later, with backoff and jitter, and at
 * once when it shows up (its presence) or the device comes online again */
static void
kith_registry_schedule_retry (KithRegistry *self, const gchar *why)
{
	guint ceiling = KITH_REGISTRY_RETRY_FIRST_MS << MIN (self->failures, 6u);
	guint delay_ms;

	ceiling = MIN (ceiling, KITH_REGISTRY_RETRY_MAX_MS);
	delay_ms = (guint)g_random_int_range ((gint32)ceiling / 2, (gint32)ceiling + 1);
	self->failures++;
	g_clear_handle_id (&self->retry_id, g_source_remove);
	self->retry_id = g_timeout_add (delay_ms, kith_registry_retry_cb, self);
	g_message ("%s: the thing registry %s did not accept the registration (%s); trying again "
	           "in %.1f s",
	           kith_registry_device_id (self), self->jid, why, delay_ms / 1000.0);
}

static void
kith_registry_register_cb (xmpp_stanza_t *reply, gpointer user_data)
{
	KithRegistry *self = user_data;
	xmpp_stanza_t *claimed;
	g_autofree gchar *key = NULL;
	g_autofree gchar *state = NULL;

	if (reply == NULL || g_strcmp0 (xmpp_stanza_get_type (reply), "result") != 0) {
		kith_registry_schedule_retry (self, reply == NULL ? "no answer" : "an error");
		return;
	}
	self->failures = 0;
	claimed = xmpp_stanza_get_child_by_name_and_ns (reply, "claimed", KITH_NS_DISCOVERY);
	if (claimed != NULL &&
	    !kith_registry_valid_owner (xmpp_stanza_get_attribute (claimed, "jid"))) {
		g_message (
		        "%s: the thing registry %s says the device is claimed but names no valid "
		        "owner JID; ignored",
		        kith_registry_device_id (self), self->jid);
		claimed = NULL;
	}
	if (claimed != NULL) {
		/* not stored: asked again, the registry says it again */
		if (!kith_registry_claimed (self, xmpp_stanza_get_attribute (claimed, "jid")))
			kith_registry_schedule_retry (self, "the claim could not be stored");
		return;
	}
	kith_store_get_registration (self->agent->store, kith_registry_device_id (self), &key, NULL,
	                             &state);
	/* a claim that came while the registration was on its way is newer than its answer */
	if (g_strcmp0 (state, KITH_REGISTRY_CLAIMED) == 0 ||
	    g_strcmp0 (state, KITH_REGISTRY_REMOVED) == 0) {
		g_info ("%s: registered with %s, and %s since", kith_registry_device_id (self),
		        self->jid, state);
		return;
	}
	kith_registry_save (self, key, NULL, KITH_REGISTRY_REGISTERED);
	g_info ("%s: registered with %s", kith_registry_device_id (self), self->jid);
}

static void
kith_registry_register (KithRegistry *self)
{
	const KithAgent *agent = self->agent;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *key =
	        kith_registry_ensure_key (agent->store, kith_registry_device_id (self), &error);
	xmpp_stanza_t *iq, *element;
	KithTag tags[8];
	guint n;

	if (key == NULL) {
		g_warning ("%s: %s", kith_registry_device_id (self), error->message);
		return;
	}
	/* remembered before the answer: a registry may hold the record even if we never see it */
	kith_store_set_registry_jid (agent->store, kith_registry_device_id (self), self->jid, NULL);
	iq = xmpp_iq_new (agent->ctx, "set", "kith");
	xmpp_stanza_set_to (iq, self->jid);
	element = kith_stanza_add_element (iq, "register", KITH_NS_DISCOVERY);
	n = kith_registry_tags (agent->device, key, tags);
	for (guint i = 0; i < n; i++) {
		xmpp_stanza_t *tag =
		        kith_stanza_add_element (element, tags[i].numeric ? "num" : "str", NULL);
		xmpp_stanza_set_attribute (tag, "name", tags[i].name);
		xmpp_stanza_set_attribute (tag, "value", tags[i].value);
	}
	kith_iq_client_send (agent->iq, iq, KITH_REGISTRY_TIMEOUT_MS, kith_registry_register_cb,
	                     self, NULL);
}

static void
kith_registry_discovered_cb (const gchar *jid, gpointer user_data)
{
	KithRegistry *self = user_data;

	self->discovering = FALSE;
	if (jid == NULL) {
		g_info ("%s: no thing registry on %s", kith_registry_device_id (self),
		        self->agent->config->domain);
		return;
	}
	self->jid = g_strdup (jid);
	g_message ("%s: thing registry found: %s", kith_registry_device_id (self), jid);
	kith_registry_online (self);
}

static void
kith_registry_unregister_cb (xmpp_stanza_t *reply, gpointer user_data)
{
	KithRegistry *self = user_data;

	if (reply == NULL || g_strcmp0 (xmpp_stanza_get_type (reply), "result") != 0) {
		g_message ("%s: the thing registry did not confirm the unregistration",
		           kith_registry_device_id (self));
		return;
	}
	kith_store_set_registry_jid (self->agent->store, kith_registry_device_id (self), NULL,
	                             NULL);
	g_message ("%s: unregistered from the thing registry", kith_registry_device_id (self));
}

/* the device was registered with a registry the configuration no longer names: leave it */
static gboolean
kith_registry_withdraw (KithRegistry *self)
{
	const KithAgent *agent = self->agent;
	g_autofree gchar *old =
	        kith_store_get_registry_jid (agent->store, kith_registry_device_id (self));
	KithConfig *config = agent->config;
	xmpp_stanza_t *iq;

	if (old == NULL || old[0] == '\0' || g_strcmp0 (old, config->registry) == 0 ||
	    g_strcmp0 (config->registry, "discover") == 0)
		return FALSE;
	iq = xmpp_iq_new (agent->ctx, "set", "kith");
	xmpp_stanza_set_to (iq, old);
	kith_stanza_add_element (iq, "unregister", KITH_NS_DISCOVERY);
	kith_iq_client_send (agent->iq, iq, KITH_REGISTRY_TIMEOUT_MS, kith_registry_unregister_cb,
	                     self, NULL);
	return TRUE;
}

void
kith_registry_online (KithRegistry *self)
{
	g_autofree gchar *state = NULL;

	g_clear_handle_id (&self->retry_id, g_source_remove);
	if (kith_registry_withdraw (self) && self->jid == NULL &&
	    self->agent->config->registry[0] == '\0')
		return;
	if (self->jid == NULL) {
		if (!self->discovering) {
			self->discovering = TRUE;
			kith_discover_service (self->agent, KITH_NS_DISCOVERY,
			                       kith_registry_discovered_cb, self);
		}
		return;
	}
	/* a claimed device does not register again until it is disowned */
	if (kith_store_get_registration (self->agent->store, kith_registry_device_id (self), NULL,
	                                 NULL, &state) &&
	    (g_strcmp0 (state, KITH_REGISTRY_CLAIMED) == 0 ||
	     g_strcmp0 (state, KITH_REGISTRY_REMOVED) == 0))
		return;
	kith_registry_register (self);
}

static void
kith_registry_disowned (KithRegistry *self)
{
	KithStore *store = self->agent->store;
	g_autofree gchar *owner = g_strdup (kith_agent_get_owner (self->agent));
	g_autofree gchar *key = NULL;
	g_autoptr (GError) error = NULL;

	g_message ("%s: disowned by %s", kith_registry_device_id (self),
	           owner != NULL ? owner : "its owner");
	/* the device forgets its owner (and ends the friendship it came with) */
	self->callbacks.disowned (owner, self->user_data);
	/* a new KEY: whoever saw the old commissioning code cannot claim the device again */
	if (!kith_store_clear_registration (store, kith_registry_device_id (self), &error)) {
		g_warning ("%s: %s", kith_registry_device_id (self), error->message);
		return;
	}
	key = kith_registry_ensure_key (store, kith_registry_device_id (self), &error);
	if (key == NULL) {
		g_warning ("%s: %s", kith_registry_device_id (self), error->message);
		return;
	}
	kith_registry_register (self);
}

gboolean
kith_registry_handle_stanza (KithRegistry *self, xmpp_stanza_t *stanza)
{
	xmpp_stanza_t *element = xmpp_stanza_get_child_by_ns (stanza, KITH_NS_DISCOVERY);
	xmpp_ctx_t *ctx = self->agent->ctx;
	g_autofree gchar *from = kith_jid_bare (xmpp_stanza_get_from (stanza));
	const char *name;

	/* the registry is back (its presence): a registration that waits is sent now */
	if (self->retry_id != 0 && self->jid != NULL && g_strcmp0 (from, self->jid) == 0 &&
	    g_strcmp0 (xmpp_stanza_get_name (stanza), "presence") == 0 &&
	    xmpp_stanza_get_type (stanza) == NULL) {
		g_clear_handle_id (&self->retry_id, g_source_remove);
		kith_registry_online (self);
		return FALSE;
	}

	if (element == NULL || g_strcmp0 (xmpp_stanza_get_name (stanza), "iq") != 0 ||
	    g_strcmp0 (xmpp_stanza_get_type (stanza), "set") != 0 ||
	    xmpp_stanza_get_id (stanza) == NULL)
		return FALSE;
	name = xmpp_stanza_get_name (element);
	if (g_strcmp0 (name, "claimed") != 0 && g_strcmp0 (name, "disowned") != 0 &&
	    g_strcmp0 (name, "removed") != 0)
		return FALSE;
	if (self->jid == NULL || g_strcmp0 (from, self->jid) != 0) {
		kith_agent_send (self->agent,
		                 kith_stanza_error (ctx, stanza, "cancel", "forbidden",
		                                    "only the thing registry may do this", NULL));
		return TRUE;
	}
	if (g_strcmp0 (name, "claimed") == 0 &&
	    !kith_registry_valid_owner (xmpp_stanza_get_attribute (element, "jid"))) {
		g_message ("%s: a claim from %s names no valid owner JID; refused",
		           kith_registry_device_id (self), from);
		kith_agent_send (self->agent,
		                 kith_stanza_error (ctx, stanza, "modify", "bad-request",
		                                    "the claim names no valid owner JID", NULL));
		return TRUE;
	}
	/* a claim is acknowledged once it is stored: the registry confirms it to the owner then */
	if (g_strcmp0 (name, "claimed") == 0) {
		if (kith_registry_claimed (self, xmpp_stanza_get_attribute (element, "jid")))
			kith_agent_send (self->agent, kith_stanza_iq_result (ctx, stanza));
		else
			kith_agent_send (self->agent,
			                 kith_stanza_error (ctx, stanza, "wait",
			                                    "internal-server-error",
			                                    "the claim could not be stored", NULL));
		return TRUE;
	}
	/* acknowledge first: a registry waits for it before it changes its record */
	kith_agent_send (self->agent, kith_stanza_iq_result (ctx, stanza));
	if (g_strcmp0 (name, "disowned") == 0) {
		kith_registry_disowned (self);
	} else {
		g_autofree gchar *key = NULL;
		g_autofree gchar *owner = NULL;
		kith_store_get_registration (self->agent->store, kith_registry_device_id (self),
		                             &key, &owner, NULL);
		kith_registry_save (self, key != NULL ? key : "", owner, KITH_REGISTRY_REMOVED);
		g_message ("%s: removed from the thing registry by its owner",
		           kith_registry_device_id (self));
	}
	return TRUE;
}
