/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "daemon.h"

#include "driver.h"
#include "identity.h"
#include "iot/policy.h"
#include "kith-error.h"
#include "router.h"
#include "store.h"
#include "transport-client.h"
#include "xmpp/session.h"

#define KITH_DAEMON_STOP_TIMEOUT_S 5

struct _KithDaemon {
	KithConfig *config;
	GPtrArray *drivers;    /* KithDriver */
	GPtrArray *identities; /* KithIdentity */
	KithStore *store;
	KithPolicy *policy;
	KithConnectGate *gate;
	KithRouter *router; /* component mode */
	guint stopping;
	GHashTable *seen_online; /* identities online at least once */
	gint64 started;
	guint stop_timer;
	GSourceFunc stop_done;
	gpointer stop_data;
};

static gboolean
kith_daemon_check_group_keys (KithDaemon *self, const gchar *group, const gchar *const *known,
                              const gchar *const *core, const gchar *driver_name, GError **error)
{
	g_auto (GStrv) keys = g_key_file_get_keys (self->config->keyfile, group, NULL, NULL);

	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if ((core != NULL && g_strv_contains (core, keys[i])) ||
		    (known != NULL && g_strv_contains (known, keys[i])))
			continue;
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "unknown key for driver %s",
		             driver_name);
		kith_config_prefix_error (self->config, error, group, keys[i]);
		return FALSE;
	}
	return TRUE;
}

static gboolean
kith_daemon_check_driver_keys (KithDaemon *self, KithDriver *driver, KithBusConfig *bus,
                               GError **error)
{
	static const gchar *const core_keys[] = { "Driver", "MaxDevices", NULL };
	const gchar *const *item_keys = kith_driver_get_item_keys (driver);

	if (!kith_daemon_check_group_keys (self, bus->group, kith_driver_get_keys (driver),
	                                   core_keys, bus->driver, error))
		return FALSE;
	for (guint i = 0; i < bus->items->len; i++) {
		const gchar *group = g_ptr_array_index (bus->items, i);
		if (item_keys == NULL) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
			             "driver %s takes no [bus:NAME:ITEM] groups", bus->driver);
			kith_config_prefix_error (self->config, error, group, NULL);
			return FALSE;
		}
		if (!kith_daemon_check_group_keys (self, group, item_keys, NULL, bus->driver,
		                                   error))
			return FALSE;
	}
	return TRUE;
}

KithDaemon *
kith_daemon_new (KithConfig *config, GError **error)
{
	g_autoptr (KithDaemon) self = g_new0 (KithDaemon, 1);
	g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);

	self->config = config;
	self->drivers = g_ptr_array_new_with_free_func (g_object_unref);
	self->identities = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_identity_free);
	for (guint i = 0; i < config->buses->len; i++) {
		KithBusConfig *bus = g_ptr_array_index (config->buses, i);
		g_autoptr (KithDriver) driver = kith_driver_new (bus->driver, bus->name, error);
		GPtrArray *devices;

		if (driver == NULL) {
			kith_config_prefix_error (config, error, bus->group, "Driver");
			return NULL;
		}
		if (!kith_daemon_check_driver_keys (self, driver, bus, error))
			return NULL;
		if (!kith_driver_setup (driver, config->keyfile, bus->group, error)) {
			g_prefix_error (error,
			                "%s: ", kith_config_origin (config, bus->group, NULL));
			return NULL;
		}
		devices = kith_driver_get_devices (driver);
		for (guint j = 0; j < devices->len; j++) {
			const gchar *id = kith_device_get_id (g_ptr_array_index (devices, j));
			if (!g_hash_table_add (ids, (gpointer)id)) {
				g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
				             "device id %s is used twice", id);
				kith_config_prefix_error (config, error, bus->group, NULL);
				return NULL;
			}
		}
		g_ptr_array_add (self->drivers, g_steal_pointer (&driver));
	}
	return g_steal_pointer (&self);
}

void
kith_daemon_free (KithDaemon *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id (&self->stop_timer, g_source_remove);
	for (guint i = 0; i < self->drivers->len; i++)
		kith_driver_stop (g_ptr_array_index (self->drivers, i));
	g_ptr_array_unref (self->identities);
	kith_router_free (self->router);
	g_ptr_array_unref (self->drivers);
	if (self->seen_online != NULL)
		g_hash_table_unref (self->seen_online);
	kith_connect_gate_free (self->gate);
	kith_policy_free (self->policy);
	kith_store_free (self->store);
	g_free (self);
}

void
kith_daemon_describe (KithDaemon *self, GString *out)
{
	for (guint i = 0; i < self->drivers->len; i++) {
		KithDriver *driver = g_ptr_array_index (self->drivers, i);
		GPtrArray *devices = kith_driver_get_devices (driver);
		KithBusConfig *bus = g_ptr_array_index (self->config->buses, i);

		g_string_append_printf (out, "bus %s (driver %s): %u device%s\n", bus->name,
		                        bus->driver, devices->len, devices->len == 1 ? "" : "s");
		for (guint j = 0; j < devices->len; j++) {
			KithDevice *device = g_ptr_array_index (devices, j);
			g_string_append_printf (out, "  %s@%s/%s  %s\n",
			                        kith_device_get_id (device),
			                        self->config->device_domain, self->config->resource,
			                        kith_device_get_label (device));
		}
		kith_driver_describe (driver, out);
	}
}

guint
kith_daemon_get_device_count (KithDaemon *self)
{
	guint count = 0;
	for (guint i = 0; i < self->drivers->len; i++)
		count += kith_driver_get_devices (g_ptr_array_index (self->drivers, i))->len;
	return count;
}

static void
kith_daemon_online_cb (KithIdentity *identity, gpointer user_data)
{
	KithDaemon *self = user_data;
	if (!g_hash_table_add (self->seen_online, identity))
		return;
	if (g_hash_table_size (self->seen_online) == self->identities->len)
		g_message ("all %u devices online after %.0f ms", self->identities->len,
		           (g_get_monotonic_time () - self->started) / 1000.0);
}

GPtrArray *
kith_daemon_get_devices (KithDaemon *self)
{
	GPtrArray *all = g_ptr_array_new_with_free_func (g_object_unref);
	for (guint i = 0; i < self->drivers->len; i++) {
		GPtrArray *devices = kith_driver_get_devices (g_ptr_array_index (self->drivers, i));
		for (guint j = 0; j < devices->len; j++)
			g_ptr_array_add (all, g_object_ref (g_ptr_array_index (devices, j)));
	}
	return all;
}

gboolean
kith_daemon_start (KithDaemon *self, GError **error)
{
	self->store = kith_store_open (self->config->state_directory, error);
	if (self->store == NULL)
		return FALSE;
	kith_session_global_init (self->config);
	self->policy = kith_policy_new (self->config);
	self->gate = kith_connect_gate_new (self->config->max_connecting);
	if (self->config->mode == KITH_MODE_COMPONENT)
		self->router = kith_router_new (self->config, self->store);
	self->seen_online = g_hash_table_new (g_direct_hash, g_direct_equal);
	self->started = g_get_monotonic_time ();
	for (guint i = 0; i < self->drivers->len; i++) {
		KithDriver *driver = g_ptr_array_index (self->drivers, i);
		GPtrArray *devices = kith_driver_get_devices (driver);
		g_autoptr (GError) error_local = NULL;

		/* one broken bus does not take the others down */
		if (!kith_driver_start (driver, &error_local)) {
			g_warning ("bus %s: %s; its devices stay offline",
			           kith_driver_get_bus_name (driver), error_local->message);
			continue;
		}
		for (guint j = 0; j < devices->len; j++) {
			KithDevice *device = g_ptr_array_index (devices, j);
			KithTransport *transport =
			        self->router != NULL
			                ? kith_router_add_device (self->router, device)
			                : kith_client_transport_new (self->config, self->gate,
			                                             self->store,
			                                             kith_device_get_id (device));
			KithIdentity *identity =
			        kith_identity_new (self->config, self->store, self->policy,
			                           transport, device, kith_daemon_online_cb, self);
			g_ptr_array_add (self->identities, identity);
			kith_identity_start (identity);
		}
	}
	g_message ("kithd %s: %u devices as %s@%s (%s mode), state in %s", KITH_VERSION,
	           self->identities->len, "<device-id>", self->config->device_domain,
	           self->config->mode == KITH_MODE_COMPONENT ? "component" : "client",
	           kith_store_get_path (self->store));
	if (self->router != NULL) {
		static const gchar *const client_keys[] = { "Register", "Tls", "TlsCaFile",
			                                    "MaxConnecting" };
		for (guint i = 0; i < G_N_ELEMENTS (client_keys); i++)
			if (g_key_file_has_key (self->config->keyfile, "xmpp", client_keys[i],
			                        NULL))
				g_message (
				        "%s: [xmpp] %s does not apply in component mode (the "
				        "component stream has no accounts and no TLS)",
				        kith_config_origin (self->config, "xmpp", client_keys[i]),
				        client_keys[i]);
		kith_router_start (self->router);
	}
	return TRUE;
}

static void
kith_daemon_finish_stop (KithDaemon *self)
{
	GSourceFunc done = self->stop_done;
	g_clear_handle_id (&self->stop_timer, g_source_remove);
	self->stop_done = NULL;
	if (done != NULL)
		done (self->stop_data);
}

/* one more device session, or the component stream, has closed */
static void
kith_daemon_one_stopped (KithDaemon *self)
{
	if (self->stopping > 0 && --self->stopping == 0)
		kith_daemon_finish_stop (self);
}

static void
kith_daemon_identity_stopped_cb (KithIdentity *identity, gpointer user_data)
{
	kith_daemon_one_stopped (user_data);
}

static gboolean
kith_daemon_router_stopped_cb (gpointer user_data)
{
	kith_daemon_one_stopped (user_data);
	return G_SOURCE_REMOVE;
}

static gboolean
kith_daemon_stop_timeout_cb (gpointer user_data)
{
	KithDaemon *self = user_data;
	self->stop_timer = 0;
	g_message ("%u sessions did not close in time", self->stopping);
	kith_daemon_finish_stop (self);
	return G_SOURCE_REMOVE;
}

void
kith_daemon_stop (KithDaemon *self, GSourceFunc done, gpointer user_data)
{
	self->stop_done = done;
	self->stop_data = user_data;
	for (guint i = 0; i < self->drivers->len; i++)
		kith_driver_stop (g_ptr_array_index (self->drivers, i));
	if (self->identities->len == 0 && self->router == NULL) {
		kith_daemon_finish_stop (self);
		return;
	}
	/* component mode: every device says goodbye, then the one stream closes */
	self->stopping = self->identities->len + (self->router != NULL ? 1 : 0);
	self->stop_timer = g_timeout_add_seconds (KITH_DAEMON_STOP_TIMEOUT_S,
	                                          kith_daemon_stop_timeout_cb, self);
	for (guint i = 0; i < self->identities->len; i++)
		kith_identity_stop (g_ptr_array_index (self->identities, i),
		                    kith_daemon_identity_stopped_cb, self);
	if (self->router != NULL)
		kith_router_stop (self->router, kith_daemon_router_stopped_cb, self);
}
