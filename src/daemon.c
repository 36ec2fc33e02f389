/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "daemon.h"

#include <string.h>

#include "device-list.h"
#include "driver.h"
#include "identity.h"
#include "iot/policy.h"
#include "kith-error.h"
#include "router.h"
#include "store.h"
#include "transport-client.h"
#include "xmpp/session.h"

#define KITH_DAEMON_STOP_TIMEOUT_S 5

/* one bus of the configuration */
typedef struct {
	gchar *name;
	gchar *driver_name;
	gchar *signature; /* its groups' keys and values: a reload compares them */
	guint max_devices;
	KithDriver *driver;
	gboolean started;
} KithBus;

struct _KithDaemon {
	KithConfig *config;
	GPtrArray *configs; /* every configuration loaded (the first, then reloads): kept */
	GPtrArray *buses;   /* KithBus */
	KithDeviceList *devices;
	GHashTable *identities; /* device id -> KithIdentity */
	GHashTable *leaving;    /* KithIdentity saying goodbye for a device that is gone */
	KithStore *store;
	KithHistory *history;
	KithPolicy *policy;
	KithConnectGate *gate;
	KithRouter *router; /* component mode */
	gchar *clash;       /* while buses are set up: the first id two buses want */
	gboolean started;
	guint stopping;
	GHashTable *seen_online; /* identities online at least once since start */
	gint64 started_at;
	guint stop_timer;
	GSourceFunc stop_done;
	gpointer stop_data;
	KithDaemonDeviceFunc device_func;
	gpointer device_data;
};

static void
kith_bus_free (KithBus *bus)
{
	if (bus->driver != NULL) {
		kith_driver_stop (bus->driver);
		g_object_unref (bus->driver);
	}
	g_free (bus->name);
	g_free (bus->driver_name);
	g_free (bus->signature);
	g_free (bus);
}

/* -- identities: one per device, for as long as the device is there -------------------- */

static void
kith_daemon_online_cb (KithIdentity *identity, gpointer user_data)
{
	KithDaemon *self = user_data;
	guint total = g_hash_table_size (self->identities);

	if (!g_hash_table_add (self->seen_online, (gpointer)kith_identity_get_id (identity)))
		return;
	if (g_hash_table_size (self->seen_online) == total)
		g_message ("all %u devices online after %.0f ms", total,
		           (g_get_monotonic_time () - self->started_at) / 1000.0);
}

static void
kith_daemon_add_identity (KithDaemon *self, KithDevice *device)
{
	KithTransport *transport;
	KithIdentity *identity;

	if (g_hash_table_contains (self->identities, kith_device_get_id (device)))
		return;
	transport = self->router != NULL
	                    ? kith_router_add_device (self->router, device)
	                    : kith_client_transport_new (self->config, self->gate, self->store,
	                                                 kith_device_get_id (device));
	identity = kith_identity_new (self->config, self->store, self->history, self->policy,
	                              transport, device, kith_daemon_online_cb, self);
	g_hash_table_insert (self->identities, (gpointer)kith_identity_get_id (identity), identity);
	kith_identity_start (identity);
}

static gboolean
kith_daemon_free_identity_cb (gpointer user_data)
{
	kith_identity_free (user_data);
	return G_SOURCE_REMOVE;
}

static void
kith_daemon_identity_left_cb (KithIdentity *identity, gpointer user_data)
{
	KithDaemon *self = user_data;

	if (!g_hash_table_steal (self->leaving, identity))
		return;
	if (self->router != NULL)
		kith_router_remove_device (self->router, kith_identity_get_id (identity));
	/* not from inside the transport's own callback */
	g_idle_add (kith_daemon_free_identity_cb, identity);
}

static void
kith_daemon_device_added_cb (KithDevice *device, gpointer user_data)
{
	KithDaemon *self = user_data;

	/* before start, identities come all at once when the gateway starts */
	if (!self->started)
		return;
	g_message ("%s: a new device on bus %s", kith_device_get_id (device),
	           kith_driver_get_bus_name (kith_device_get_driver (device)));
	kith_daemon_add_identity (self, device);
	if (self->device_func != NULL)
		self->device_func (device, self->device_data);
}

static void
kith_daemon_device_removed_cb (KithDevice *device, gpointer user_data)
{
	KithDaemon *self = user_data;
	const gchar *id = kith_device_get_id (device);
	KithIdentity *identity = g_hash_table_lookup (self->identities, id);

	if (identity == NULL)
		return;
	g_hash_table_steal (self->identities, id);
	g_hash_table_remove (self->seen_online, id);
	if (self->stopping > 0) {
		/* kithd stops: the goodbye to everyone is under way */
		g_hash_table_insert (self->identities, (gpointer)kith_identity_get_id (identity),
		                     identity);
		return;
	}
	/* friends hear unavailable, then the identity ends */
	g_hash_table_add (self->leaving, identity);
	kith_identity_stop (identity, kith_daemon_identity_left_cb, self);
}

static void
kith_daemon_device_replaced_cb (KithDevice *old_device, KithDevice *device, gpointer user_data)
{
	KithDaemon *self = user_data;
	KithIdentity *identity =
	        g_hash_table_lookup (self->identities, kith_device_get_id (device));

	if (identity != NULL)
		kith_identity_set_device (identity, device);
	if (self->router != NULL)
		kith_router_set_device (self->router, device);
	if (self->started && self->device_func != NULL)
		self->device_func (device, self->device_data);
}

static const KithDeviceListCallbacks kith_daemon_device_callbacks = {
	.added = kith_daemon_device_added_cb,
	.removed = kith_daemon_device_removed_cb,
	.replaced = kith_daemon_device_replaced_cb,
};

/* -- buses ------------------------------------------------------------------------------ */

/* a key a driver accepts: listed, or matched by a listed pattern with '*' (e.g. "*.Topic": an
 * MQTT device's per-field keys, named after fields the user chooses) */
static gboolean
kith_daemon_key_known (const gchar *const *known, const gchar *key)
{
	for (guint i = 0; known != NULL && known[i] != NULL; i++) {
		if (strchr (known[i], '*') != NULL ? g_pattern_match_simple (known[i], key)
		                                   : g_strcmp0 (known[i], key) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean
kith_daemon_check_group_keys (KithConfig *config, const gchar *group, const gchar *const *known,
                              const gchar *const *core, const gchar *driver_name, GError **error)
{
	g_auto (GStrv) keys = g_key_file_get_keys (config->keyfile, group, NULL, NULL);

	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if ((core != NULL && g_strv_contains (core, keys[i])) ||
		    kith_daemon_key_known (known, keys[i]))
			continue;
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "unknown key for driver %s",
		             driver_name);
		kith_config_prefix_error (config, error, group, keys[i]);
		return FALSE;
	}
	return TRUE;
}

static gboolean
kith_daemon_check_driver_keys (KithConfig *config, KithDriver *driver, KithBusConfig *bus,
                               GError **error)
{
	static const gchar *const core_keys[] = { "Driver", "MaxDevices", NULL };
	const gchar *const *item_keys = kith_driver_get_item_keys (driver);

	if (!kith_daemon_check_group_keys (config, bus->group, kith_driver_get_keys (driver),
	                                   core_keys, bus->driver, error))
		return FALSE;
	for (guint i = 0; i < bus->items->len; i++) {
		const gchar *group = g_ptr_array_index (bus->items, i);
		if (item_keys == NULL) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
			             "driver %s takes no [bus:NAME:ITEM] groups", bus->driver);
			kith_config_prefix_error (config, error, group, NULL);
			return FALSE;
		}
		if (!kith_daemon_check_group_keys (config, group, item_keys, NULL, bus->driver,
		                                   error))
			return FALSE;
	}
	return TRUE;
}

/* the keys and values of a bus's groups, in order: equal means unchanged */
static gchar *
kith_daemon_bus_signature (KithConfig *config, KithBusConfig *bus)
{
	g_autoptr (GString) text = g_string_new (NULL);
	g_autoptr (GPtrArray) groups = g_ptr_array_new ();

	g_ptr_array_add (groups, bus->group);
	for (guint i = 0; i < bus->items->len; i++)
		g_ptr_array_add (groups, g_ptr_array_index (bus->items, i));
	for (guint i = 0; i < groups->len; i++) {
		const gchar *group = g_ptr_array_index (groups, i);
		g_auto (GStrv) keys = g_key_file_get_keys (config->keyfile, group, NULL, NULL);
		g_string_append_printf (text, "[%s]\n", group);
		for (guint j = 0; keys != NULL && keys[j] != NULL; j++) {
			g_autofree gchar *value =
			        g_key_file_get_value (config->keyfile, group, keys[j], NULL);
			g_string_append_printf (text, "%s=%s\n", keys[j], value);
		}
	}
	return g_string_free (g_steal_pointer (&text), FALSE);
}

static gboolean
kith_daemon_max_devices (KithConfig *config, KithBusConfig *bus, guint *out, GError **error)
{
	g_autofree gchar *value =
	        g_key_file_get_value (config->keyfile, bus->group, "MaxDevices", NULL);
	g_autofree gchar *why = NULL;
	guint64 number;

	*out = 0;
	if (value == NULL)
		return TRUE;
	g_strstrip (value);
	if (!kith_config_parse_uint (value, 1, 1000000, &number, &why)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "%s", why);
		kith_config_prefix_error (config, error, bus->group, "MaxDevices");
		return FALSE;
	}
	*out = (guint)number;
	return TRUE;
}

/* a bus from its configuration: the driver made, checked and set up, its devices admitted by
 * the device list; replacing: the bus it takes over from (a reload), or NULL */
static KithBus *
kith_daemon_make_bus (KithDaemon *self, KithConfig *config, KithBusConfig *bus_config,
                      KithBus *replacing, GError **error)
{
	g_autoptr (KithDriver) driver =
	        kith_driver_new (bus_config->driver, bus_config->name, error);
	KithBus *bus;
	guint max_devices;

	if (driver == NULL) {
		kith_config_prefix_error (config, error, bus_config->group, "Driver");
		return NULL;
	}
	if (!kith_daemon_check_driver_keys (config, driver, bus_config, error) ||
	    !kith_daemon_max_devices (config, bus_config, &max_devices, error))
		return NULL;
	if (replacing != NULL)
		kith_device_list_replace_bus (self->devices, replacing->driver, driver,
		                              max_devices);
	else
		kith_device_list_add_bus (self->devices, driver, max_devices);
	g_clear_pointer (&self->clash, g_free);
	if (!kith_driver_setup (driver, config->keyfile, bus_config->group, error)) {
		g_prefix_error (error,
		                "%s: ", kith_config_origin (config, bus_config->group, NULL));
		kith_device_list_remove_bus (self->devices, driver, FALSE);
		return NULL;
	}
	kith_device_list_bus_ready (self->devices, driver);
	bus = g_new0 (KithBus, 1);
	bus->name = g_strdup (bus_config->name);
	bus->driver_name = g_strdup (bus_config->driver);
	bus->signature = kith_daemon_bus_signature (config, bus_config);
	bus->max_devices = max_devices;
	bus->driver = g_steal_pointer (&driver);
	return bus;
}

static gboolean
kith_daemon_start_bus (KithDaemon *self, KithBus *bus)
{
	g_autoptr (GError) error = NULL;

	kith_device_list_restore (self->devices, bus->driver);
	/* one broken bus does not take the others down */
	if (!kith_driver_start (bus->driver, &error)) {
		g_warning ("bus %s: %s; its devices stay offline", bus->name, error->message);
		return FALSE;
	}
	bus->started = TRUE;
	return TRUE;
}

static void
kith_daemon_clash_cb (const gchar *message, gpointer user_data)
{
	KithDaemon *self = user_data;
	if (self->clash == NULL)
		self->clash = g_strdup (message);
}

static KithDaemon *
kith_daemon_new_full (KithConfig *config, gboolean trial, GError **error)
{
	g_autoptr (KithDaemon) self = g_new0 (KithDaemon, 1);

	self->config = config;
	self->configs = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_config_free);
	self->buses = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_bus_free);
	self->devices = kith_device_list_new (&kith_daemon_device_callbacks, self);
	kith_device_list_set_quiet (self->devices, trial);
	kith_device_list_set_clash_func (self->devices, kith_daemon_clash_cb, self);
	self->identities = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
	                                          (GDestroyNotify)kith_identity_free);
	self->leaving = g_hash_table_new (g_direct_hash, g_direct_equal);
	self->seen_online = g_hash_table_new (g_str_hash, g_str_equal);
	for (guint i = 0; i < config->buses->len; i++) {
		KithBusConfig *bus_config = g_ptr_array_index (config->buses, i);
		KithBus *bus = kith_daemon_make_bus (self, config, bus_config, NULL, error);
		if (bus == NULL)
			return NULL;
		g_ptr_array_add (self->buses, bus);
		/* two buses naming the same device is a mistake in the configuration */
		if (self->clash != NULL) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "%s", self->clash);
			kith_config_prefix_error (config, error, bus_config->group, NULL);
			return NULL;
		}
	}
	return g_steal_pointer (&self);
}

KithDaemon *
kith_daemon_new (KithConfig *config, GError **error)
{
	return kith_daemon_new_full (config, FALSE, error);
}

void
kith_daemon_free (KithDaemon *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id (&self->stop_timer, g_source_remove);
	for (guint i = 0; i < self->buses->len; i++)
		kith_driver_stop (((KithBus *)g_ptr_array_index (self->buses, i))->driver);
	g_hash_table_unref (self->identities);
	{
		g_autoptr (GList) leaving = g_hash_table_get_keys (self->leaving);
		for (GList *l = leaving; l != NULL; l = l->next)
			kith_identity_free (l->data);
		g_hash_table_unref (self->leaving);
	}
	kith_router_free (self->router);
	kith_device_list_free (self->devices);
	g_ptr_array_unref (self->buses);
	kith_history_free (self->history);
	g_hash_table_unref (self->seen_online);
	kith_connect_gate_free (self->gate);
	kith_policy_free (self->policy);
	kith_store_free (self->store);
	g_free (self->clash);
	g_ptr_array_unref (self->configs);
	g_free (self);
}

void
kith_daemon_describe (KithDaemon *self, GString *out)
{
	for (guint i = 0; i < self->buses->len; i++) {
		KithBus *bus = g_ptr_array_index (self->buses, i);
		GPtrArray *devices = kith_driver_get_devices (bus->driver);

		g_string_append_printf (out, "bus %s (driver %s): %u device%s\n", bus->name,
		                        bus->driver_name, devices->len,
		                        devices->len == 1 ? "" : "s");
		for (guint j = 0; j < devices->len; j++) {
			KithDevice *device = g_ptr_array_index (devices, j);
			g_string_append_printf (out, "  %s@%s/%s  %s\n",
			                        kith_device_get_id (device),
			                        self->config->device_domain, self->config->resource,
			                        kith_device_get_label (device));
		}
		kith_driver_describe (bus->driver, out);
	}
}

guint
kith_daemon_get_device_count (KithDaemon *self)
{
	return kith_device_list_get_count (self->devices);
}

GPtrArray *
kith_daemon_get_devices (KithDaemon *self)
{
	return kith_device_list_get_devices (self->devices);
}

gboolean
kith_daemon_start (KithDaemon *self, GError **error)
{
	g_autoptr (GPtrArray) devices = NULL;

	self->store = kith_store_open (self->config->state_directory, error);
	if (self->store == NULL)
		return FALSE;
	if (self->config->history_days > 0) {
		KithHistoryLimits limits = { self->config->history_days,
			                     self->config->history_max_mb,
			                     self->config->history_write_minutes * 60 };
		g_autoptr (GError) error_local = NULL;
		/* without its history the gateway still runs: said, and on it goes */
		self->history =
		        kith_history_open (self->config->state_directory, &limits, &error_local);
		if (self->history == NULL)
			g_warning ("no history: %s", error_local->message);
		kith_device_list_set_history (self->devices, self->history);
	}
	kith_session_global_init (self->config);
	self->policy = kith_policy_new (self->config);
	self->gate = kith_connect_gate_new (self->config->max_connecting);
	if (self->config->mode == KITH_MODE_COMPONENT)
		self->router = kith_router_new (self->config, self->store);
	self->started_at = g_get_monotonic_time ();
	/* devices are remembered from now on; those known from before come back */
	kith_device_list_open (self->devices, self->store);
	devices = kith_device_list_get_devices (self->devices);
	for (guint i = 0; i < devices->len; i++)
		kith_daemon_add_identity (self, g_ptr_array_index (devices, i));
	self->started = TRUE;
	for (guint i = 0; i < self->buses->len; i++)
		kith_daemon_start_bus (self, g_ptr_array_index (self->buses, i));
	g_message ("kithd %s: %u devices as %s@%s (%s mode), state in %s", KITH_VERSION,
	           g_hash_table_size (self->identities), "<device-id>", self->config->device_domain,
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

/* -- reload ----------------------------------------------------------------------------- */

static KithBus *
kith_daemon_find_bus (KithDaemon *self, const gchar *name)
{
	for (guint i = 0; i < self->buses->len; i++) {
		KithBus *bus = g_ptr_array_index (self->buses, i);
		if (g_strcmp0 (bus->name, name) == 0)
			return bus;
	}
	return NULL;
}

/* the groups outside the buses, as text: a change there needs a restart */
static gchar *
kith_daemon_core_signature (KithConfig *config, const gchar *group)
{
	g_auto (GStrv) keys = g_key_file_get_keys (config->keyfile, group, NULL, NULL);
	g_autoptr (GString) text = g_string_new (NULL);

	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_autofree gchar *value =
		        g_key_file_get_value (config->keyfile, group, keys[i], NULL);
		g_string_append_printf (text, "%s=%s\n", keys[i], value);
	}
	return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
kith_daemon_remove_bus (KithDaemon *self, KithBus *bus)
{
	g_message ("bus %s: removed from the configuration; its devices are gone", bus->name);
	kith_device_list_remove_bus (self->devices, bus->driver, TRUE);
	g_ptr_array_remove (self->buses, bus);
}

gboolean
kith_daemon_reload (KithDaemon *self, const gchar *path, GError **error)
{
	g_autoptr (KithConfig) config = kith_config_load (path, error);
	g_autoptr (KithDaemon) trial = NULL;
	static const gchar *const core_groups[] = { "kith", "xmpp", "friendship" };
	guint added = 0, removed = 0, changed = 0, kept = 0;

	if (config == NULL)
		return FALSE;
	/* the whole new configuration must hold before anything changes */
	trial = kith_daemon_new_full (config, TRUE, error);
	if (trial == NULL)
		return FALSE;
	g_clear_pointer (&trial, kith_daemon_free);
	for (guint i = 0; i < G_N_ELEMENTS (core_groups); i++) {
		g_autofree gchar *was = kith_daemon_core_signature (self->config, core_groups[i]);
		g_autofree gchar *now = kith_daemon_core_signature (config, core_groups[i]);
		if (g_strcmp0 (was, now) != 0)
			g_message ("%s: changes in [%s] take effect when kithd starts again; the "
			           "buses are reloaded",
			           path, core_groups[i]);
	}
	/* buses that left the configuration */
	for (guint i = self->buses->len; i > 0; i--) {
		KithBus *bus = g_ptr_array_index (self->buses, i - 1);
		gboolean still = FALSE;
		for (guint j = 0; j < config->buses->len && !still; j++)
			still = g_strcmp0 (((KithBusConfig *)g_ptr_array_index (config->buses, j))
			                           ->name,
			                   bus->name) == 0;
		if (!still) {
			kith_daemon_remove_bus (self, bus);
			removed++;
		}
	}
	for (guint i = 0; i < config->buses->len; i++) {
		KithBusConfig *bus_config = g_ptr_array_index (config->buses, i);
		KithBus *old = kith_daemon_find_bus (self, bus_config->name);
		g_autofree gchar *signature = kith_daemon_bus_signature (config, bus_config);
		KithBus *bus;
		g_autoptr (GError) error_local = NULL;

		/* unchanged: its driver, devices and identities stay as they are */
		if (old != NULL && g_strcmp0 (old->signature, signature) == 0) {
			kept++;
			continue;
		}
		/* another driver under the same name: a new bus */
		if (old != NULL && g_strcmp0 (old->driver_name, bus_config->driver) != 0) {
			kith_daemon_remove_bus (self, old);
			old = NULL;
			removed++;
		}
		bus = kith_daemon_make_bus (self, config, bus_config, old, &error_local);
		if (bus == NULL) {
			g_warning ("bus %s: %s", bus_config->name, error_local->message);
			continue;
		}
		if (old != NULL) {
			/* the devices it still has moved over already; the others are gone */
			kith_device_list_replaced (self->devices, old->driver);
			g_ptr_array_remove (self->buses, old);
			changed++;
		} else {
			added++;
		}
		g_ptr_array_add (self->buses, bus);
		if (self->started)
			kith_daemon_start_bus (self, bus);
	}
	g_ptr_array_add (self->configs, g_steal_pointer (&config));
	g_message ("%s: reloaded: %u buses added, %u changed, %u removed, %u unchanged; %u "
	           "devices",
	           path, added, changed, removed, kept, kith_device_list_get_count (self->devices));
	return TRUE;
}

/* -- stopping --------------------------------------------------------------------------- */

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
	g_autoptr (GList) identities = g_hash_table_get_values (self->identities);

	self->stop_done = done;
	self->stop_data = user_data;
	for (guint i = 0; i < self->buses->len; i++)
		kith_driver_stop (((KithBus *)g_ptr_array_index (self->buses, i))->driver);
	kith_device_list_flush (self->devices);
	if (self->history != NULL)
		kith_history_flush (self->history);
	if (identities == NULL && self->router == NULL) {
		kith_daemon_finish_stop (self);
		return;
	}
	/* component mode: every device says goodbye, then the one stream closes */
	self->stopping = g_list_length (identities) + (self->router != NULL ? 1 : 0);
	self->stop_timer = g_timeout_add_seconds (KITH_DAEMON_STOP_TIMEOUT_S,
	                                          kith_daemon_stop_timeout_cb, self);
	for (GList *l = identities; l != NULL; l = l->next)
		kith_identity_stop (l->data, kith_daemon_identity_stopped_cb, self);
	if (self->router != NULL)
		kith_router_stop (self->router, kith_daemon_router_stopped_cb, self);
}

KithIdentity *
kith_daemon_get_identity (KithDaemon *self, const gchar *device_id)
{
	return g_hash_table_lookup (self->identities, device_id);
}

KithConfig *
kith_daemon_get_config (KithDaemon *self)
{
	return self->config;
}

KithStore *
kith_daemon_get_store (KithDaemon *self)
{
	return self->store;
}

void
kith_daemon_set_device_func (KithDaemon *self, KithDaemonDeviceFunc func, gpointer user_data)
{
	self->device_func = func;
	self->device_data = user_data;
}
