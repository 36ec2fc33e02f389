/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "modbus.h"

#include "ident.h"
#include "kith-error.h"
#include "planner.h"
#include "poller.h"
#include "settings.h"

struct _KithModbusDriver {
	KithDriver parent_instance;
	KithModbusSettings settings;
	gchar **profile_dirs;  /* Profiles=, then the shipped profiles */
	GHashTable *profiles;  /* name -> KithModbusProfile loaded for a unit */
	GPtrArray *configured; /* KithDevice of Units=, until start */
	GPtrArray *known;      /* every profile, for matching what the sweep finds */
	KithModbusLink *link;
	KithModbusPoller *poller;
};

G_DEFINE_FINAL_TYPE (KithModbusDriver, kith_modbus_driver, KITH_TYPE_DRIVER)

#define KITH_MODBUS_PROFILE_KEY "kith-modbus-profile"

static KithModbusProfile *
kith_modbus_driver_profile (KithModbusDriver *self, const gchar *name, GError **error)
{
	KithModbusProfile *profile = g_hash_table_lookup (self->profiles, name);

	if (profile != NULL)
		return profile;
	profile = kith_modbus_profile_find ((const gchar *const *)self->profile_dirs, name, error);
	if (profile != NULL)
		g_hash_table_insert (self->profiles, g_strdup (name), profile);
	return profile;
}

/* the device of a unit, with its profile's fields (or, without a profile, none yet) */
static KithDevice *
kith_modbus_driver_new_device (KithModbusDriver *self, guint8 unit, KithModbusProfile *profile)
{
	const gchar *bus = kith_driver_get_bus_name (KITH_DRIVER (self));
	g_autofree gchar *number = g_strdup_printf ("%u", unit);
	g_autofree gchar *id = kith_device_make_id (bus, number);
	g_autofree gchar *key =
	        g_strdup_printf ("%u:%s", unit, profile != NULL ? profile->name : "");
	g_autofree gchar *label = NULL;
	KithDevice *device;

	if (profile != NULL)
		label = g_strdup_printf ("%s%s%s (unit %u on %s)", profile->manufacturer,
		                         profile->manufacturer[0] != '\0' ? " " : "",
		                         profile->model, unit, bus);
	else
		label = g_strdup_printf ("Modbus unit %u on %s (no profile)", unit, bus);
	device = kith_device_new (id, label);
	kith_device_set_key (device, key);
	if (profile != NULL) {
		kith_device_set_model (device, profile->model);
		kith_device_set_manufacturer (device, profile->manufacturer);
		kith_device_set_class (device, profile->class_name);
		kith_modbus_unit_add_fields (device, profile);
		g_object_set_data_full (G_OBJECT (device), KITH_MODBUS_PROFILE_KEY,
		                        kith_modbus_profile_ref (profile),
		                        (GDestroyNotify)kith_modbus_profile_unref);
	}
	return device;
}

static gboolean
kith_modbus_driver_setup (KithDriver *driver, GKeyFile *keyfile, const gchar *group, GError **error)
{
	KithModbusDriver *self = KITH_MODBUS_DRIVER (driver);
	g_autoptr (GStrvBuilder) dirs = g_strv_builder_new ();
	g_autofree gchar *shipped = kith_modbus_profile_shipped_dir ();

	if (!kith_modbus_settings_load (&self->settings, keyfile, group, error))
		return FALSE;
	/* only a sweep finds units at runtime: a bus of Units= alone has just those */
	kith_driver_set_discovers (driver, self->settings.discover != NULL);
	if (self->settings.profiles != NULL)
		g_strv_builder_add (dirs, self->settings.profiles);
	g_strv_builder_add (dirs, shipped);
	self->profile_dirs = g_strv_builder_end (dirs);
	for (guint i = 0; i < self->settings.units->len; i++) {
		KithModbusUnitConfig *config = g_ptr_array_index (self->settings.units, i);
		g_autoptr (KithDevice) device = NULL;
		KithModbusProfile *profile =
		        kith_modbus_driver_profile (self, config->profile, error);
		if (profile == NULL) {
			g_prefix_error (error, "[%s] Units: unit %u: ", group, config->id);
			return FALSE;
		}
		device = kith_modbus_driver_new_device (self, config->id, profile);
		if (kith_driver_add_device (driver, device))
			g_ptr_array_add (self->configured, g_object_ref (device));
	}
	return TRUE;
}

/* a unit's plan, and what it costs an RTU line per second */
static gdouble
kith_modbus_driver_log_plan (KithModbusDriver *self, KithModbusUnit *unit)
{
	const KithModbusLinkSettings *link = &self->settings.link;
	gdouble load = 0;

	for (guint i = 0; i < unit->blocks->len; i++) {
		const KithModbusBlock *block = g_ptr_array_index (unit->blocks, i);
		guint request, response;
		kith_modbus_block_frames (block->table, block->count, &request, &response);
		if (link->rtu)
			load += (gdouble)kith_modbus_line_time (
			                link->baud, kith_modbus_link_bits_per_char (link), request,
			                response, 0) /
			        (gdouble)block->period;
	}
	g_info ("%s: unit %u, profile %s: %u fields in %u requests", kith_modbus_unit_get_id (unit),
	        unit->id, unit->profile->name, unit->profile->fields->len, unit->blocks->len);
	return load;
}

static KithModbusUnit *
kith_modbus_driver_add_unit (KithModbusDriver *self, guint8 id, KithDevice *device,
                             KithModbusProfile *profile)
{
	KithModbusUnit *unit = kith_modbus_unit_new (
	        id, device, profile, &self->settings.quirks, self->settings.interval,
	        &self->settings.backoff, g_get_monotonic_time ());
	kith_modbus_poller_add_unit (self->poller, unit);
	return unit;
}

/* "17:eastron-sdm120" (or "17:" for a unit without a profile) */
static gboolean
kith_modbus_driver_parse_key (const gchar *key, guint8 *unit, gchar **profile)
{
	g_auto (GStrv) parts = key != NULL ? g_strsplit (key, ":", 2) : NULL;
	guint64 value;

	if (parts == NULL || parts[0] == NULL || parts[1] == NULL ||
	    !g_ascii_string_to_unsigned (parts[0], 10, 0, 255, &value, NULL))
		return FALSE;
	*unit = (guint8)value;
	*profile = g_strdup (parts[1]);
	return TRUE;
}

static gboolean
kith_modbus_driver_sweeps (KithModbusDriver *self, guint8 unit)
{
	GArray *ids = self->settings.discover;
	for (guint i = 0; ids != NULL && i < ids->len; i++)
		if (g_array_index (ids, guint8, i) == unit)
			return TRUE;
	return FALSE;
}

/* the devices the core gave back from an earlier run (units the sweep found): their units
 * are probed again at once; one the sweep would no longer look for is gone */
static void
kith_modbus_driver_adopt_known (KithModbusDriver *self)
{
	GPtrArray *all = kith_driver_get_devices (KITH_DRIVER (self));
	g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);

	/* a copy: removing a device changes the driver's list */
	for (guint i = 0; i < all->len; i++)
		g_ptr_array_add (devices, g_object_ref (g_ptr_array_index (all, i)));
	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		g_autofree gchar *name = NULL;
		g_autoptr (GError) error = NULL;
		KithModbusProfile *profile;
		guint8 unit;

		if (g_ptr_array_find (self->configured, device, NULL))
			continue;
		if (!kith_modbus_driver_parse_key (kith_device_get_key (device), &unit, &name) ||
		    !kith_modbus_driver_sweeps (self, unit)) {
			g_info ("%s: neither in Units= nor in Discover= any more",
			        kith_device_get_id (device));
			kith_driver_remove_device (KITH_DRIVER (self), device);
			continue;
		}
		if (kith_modbus_poller_find_unit (self->poller, unit) != NULL || name[0] == '\0')
			continue;
		profile = kith_modbus_driver_profile (self, name, &error);
		if (profile == NULL) {
			g_warning ("%s: %s; the sweep may find it again",
			           kith_device_get_id (device), error->message);
			continue;
		}
		kith_modbus_unit_add_fields (device, profile);
		kith_modbus_driver_add_unit (self, unit, device, profile);
	}
}

static gboolean
kith_modbus_driver_skip_cb (guint8 unit, gpointer user_data)
{
	KithModbusDriver *self = user_data;
	return kith_modbus_poller_find_unit (self->poller, unit) != NULL;
}

/* what the unit said of itself as identity fields; without a profile, also its maker and
 * model */
static void
kith_modbus_driver_set_identity (KithDevice *device, const KithModbusIdentity *identity,
                                 gboolean meta)
{
	const struct {
		const gchar *name;
		const gchar *value;
	} fields[] = {
		{ "Vendor", identity->vendor },
		{ "Product", identity->product },
		{ "Revision", identity->revision },
		{ "ServerId", identity->server_id },
	};
	gint64 now = g_get_real_time ();

	for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
		KithValue value = { .type = KITH_VALUE_STRING, .timestamp = now };
		if (fields[i].value == NULL)
			continue;
		if (kith_device_find_field (device, fields[i].name) == NULL) {
			KithField *field = kith_field_new (fields[i].name, KITH_VALUE_STRING, NULL);
			field->categories = KITH_FIELD_IDENTITY;
			kith_device_add_field (device, field);
		}
		value.valid = TRUE;
		value.string = (gchar *)fields[i].value;
		kith_device_set_value (device, fields[i].name, &value);
	}
	if (meta && identity->vendor != NULL)
		kith_device_set_manufacturer (device, identity->vendor);
	if (meta && identity->product != NULL)
		kith_device_set_model (device, identity->product);
}

static void
kith_modbus_driver_found_cb (guint8 unit, KithModbusIdentity *identity, gpointer user_data)
{
	KithModbusDriver *self = user_data;
	KithDriver *driver = KITH_DRIVER (self);
	g_autofree gchar *number = g_strdup_printf ("%u", unit);
	g_autofree gchar *id = kith_device_make_id (kith_driver_get_bus_name (driver), number);
	KithModbusProfile *profile;
	KithDevice *device = kith_driver_find_device (driver, id);
	g_autoptr (KithDevice) created = NULL;

	if (self->known == NULL)
		self->known =
		        kith_modbus_profile_list ((const gchar *const *)self->profile_dirs, NULL);
	profile = kith_modbus_identity_match (identity, self->known);
	g_message ("bus %s: unit %u answers (vendor '%s', product '%s', server id '%s'): %s%s",
	           kith_driver_get_bus_name (driver), unit,
	           identity->vendor != NULL ? identity->vendor : "",
	           identity->product != NULL ? identity->product : "",
	           identity->server_id != NULL ? identity->server_id : "",
	           profile != NULL ? "profile " : "no profile names it",
	           profile != NULL ? profile->name : "");
	if (device == NULL) {
		created = kith_modbus_driver_new_device (self, unit, profile);
		kith_modbus_driver_set_identity (created, identity, profile == NULL);
		if (!kith_driver_add_device (driver, created))
			return;
		device = created;
	} else {
		if (profile != NULL) {
			g_autofree gchar *key = g_strdup_printf ("%u:%s", unit, profile->name);
			kith_device_set_key (device, key);
			kith_device_set_model (device, profile->model);
			kith_device_set_manufacturer (device, profile->manufacturer);
			kith_device_set_class (device, profile->class_name);
			kith_modbus_unit_add_fields (device, profile);
		}
		kith_modbus_driver_set_identity (device, identity, profile == NULL);
	}
	if (profile != NULL) {
		kith_modbus_driver_log_plan (
		        self, kith_modbus_driver_add_unit (self, unit, device, profile));
	} else {
		/* found, but what its registers mean is nobody's guess: listed, not polled */
		kith_device_set_answering (device, TRUE, NULL);
		kith_device_emit_changed (device);
	}
}

static void
kith_modbus_driver_check_load (KithModbusDriver *self, gdouble load)
{
	g_autofree gchar *line = kith_modbus_link_describe (&self->settings.link);

	if (load > 1.0)
		g_warning ("bus %s: the polls need %.0f %% of the line's time (%s): they will run "
		           "late; lengthen Interval= or raise the baud rate",
		           kith_driver_get_bus_name (KITH_DRIVER (self)), load * 100, line);
	else if (self->settings.link.rtu)
		g_info ("bus %s: the polls need %.1f %% of the line's time (%s)",
		        kith_driver_get_bus_name (KITH_DRIVER (self)), load * 100, line);
}

static gboolean
kith_modbus_driver_start (KithDriver *driver, GError **error)
{
	KithModbusDriver *self = KITH_MODBUS_DRIVER (driver);
	KithModbusPollerSettings settings = {
		.quirks = self->settings.quirks,
		.backoff = self->settings.backoff,
		.discover_timeout = self->settings.discover_timeout,
	};
	GPtrArray *units;
	gdouble load = 0;

	self->link = kith_modbus_link_new (&self->settings.link);
	self->poller =
	        kith_modbus_poller_new (kith_driver_get_bus_name (driver),
	                                kith_driver_get_worker (driver), self->link, &settings);
	for (guint i = 0; i < self->configured->len; i++) {
		KithDevice *device = g_ptr_array_index (self->configured, i);
		KithModbusProfile *profile =
		        g_object_get_data (G_OBJECT (device), KITH_MODBUS_PROFILE_KEY);
		g_autofree gchar *name = NULL;
		guint8 unit;
		if (kith_modbus_driver_parse_key (kith_device_get_key (device), &unit, &name))
			kith_modbus_driver_add_unit (self, unit, device, profile);
	}
	kith_modbus_driver_adopt_known (self);
	units = kith_modbus_poller_get_units (self->poller);
	for (guint i = 0; i < units->len; i++)
		load += kith_modbus_driver_log_plan (self, g_ptr_array_index (units, i));
	kith_modbus_driver_check_load (self, load);
	if (self->settings.discover != NULL)
		kith_modbus_poller_set_discovery (
		        self->poller,
		        kith_modbus_discovery_new (
		                self->settings.discover, self->settings.discover_budget,
		                self->settings.discover_interval, g_get_monotonic_time ()),
		        kith_modbus_driver_skip_cb, kith_modbus_driver_found_cb, self);
	kith_modbus_poller_start (self->poller);
	return TRUE;
}

static KithModbusUnit *
kith_modbus_driver_find_unit (KithModbusDriver *self, KithDevice *device)
{
	GPtrArray *units =
	        self->poller != NULL ? kith_modbus_poller_get_units (self->poller) : NULL;
	for (guint i = 0; units != NULL && i < units->len; i++) {
		KithModbusUnit *unit = g_ptr_array_index (units, i);
		if (unit->device == device)
			return unit;
	}
	return NULL;
}

static void
kith_modbus_driver_read (KithDriver *driver, KithDevice *device, KithReadFunc done,
                         gpointer user_data)
{
	KithModbusDriver *self = KITH_MODBUS_DRIVER (driver);
	KithModbusUnit *unit = kith_modbus_driver_find_unit (self, device);
	g_autoptr (GError) error = NULL;

	if (unit != NULL) {
		kith_modbus_poller_read (self->poller, unit, done, user_data);
		return;
	}
	/* a unit found without a profile holds what it said of itself */
	if (self->poller == NULL || !kith_device_is_answering (device))
		error = g_error_new (KITH_ERROR, KITH_ERROR_BUS, "%s does not answer",
		                     kith_device_get_id (device));
	done (device, error, user_data);
}

static void
kith_modbus_driver_write (KithDriver *driver, KithDevice *device, GPtrArray *params,
                          KithWriteFunc done, gpointer user_data)
{
	KithModbusDriver *self = KITH_MODBUS_DRIVER (driver);
	KithModbusUnit *unit = kith_modbus_driver_find_unit (self, device);

	if (unit == NULL) {
		g_autoptr (GError) error =
		        g_error_new (KITH_ERROR, KITH_ERROR_INVALID, "%s has nothing writable",
		                     kith_device_get_id (device));
		done (device, error, user_data);
		return;
	}
	kith_modbus_poller_write (self->poller, unit, params, done, user_data);
}

static void
kith_modbus_driver_stop (KithDriver *driver)
{
	KithModbusDriver *self = KITH_MODBUS_DRIVER (driver);
	if (self->poller != NULL)
		kith_modbus_poller_stop (self->poller);
}

static void
kith_modbus_driver_describe_profiles (KithModbusDriver *self, GString *out)
{
	g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) profiles =
	        kith_modbus_profile_list ((const gchar *const *)self->profile_dirs, errors);
	g_autofree gchar *dirs = g_strjoinv (", ", self->profile_dirs);

	g_string_append_printf (out, "  profiles (from %s):\n", dirs);
	for (guint i = 0; i < profiles->len; i++) {
		KithModbusProfile *profile = g_ptr_array_index (profiles, i);
		g_string_append_printf (out, "    %-24s %s %s (%s), %u fields\n", profile->name,
		                        profile->manufacturer, profile->model, profile->class_name,
		                        profile->fields->len);
	}
	for (guint i = 0; i < errors->len; i++)
		g_string_append_printf (out, "    not usable: %s\n",
		                        (const gchar *)g_ptr_array_index (errors, i));
}

static void
kith_modbus_driver_describe (KithDriver *driver, GString *out)
{
	KithModbusDriver *self = KITH_MODBUS_DRIVER (driver);
	g_autofree gchar *line = kith_modbus_link_describe (&self->settings.link);

	g_string_append_printf (out, "  line: %s, polled every %g s, timeout %g s\n", line,
	                        self->settings.interval / 1e6, self->settings.link.timeout / 1e6);
	for (guint i = 0; i < self->configured->len; i++) {
		KithDevice *device = g_ptr_array_index (self->configured, i);
		KithModbusProfile *profile =
		        g_object_get_data (G_OBJECT (device), KITH_MODBUS_PROFILE_KEY);
		KithModbusLimits limits;
		KithModbusQuirks quirks;
		g_autoptr (GPtrArray) blocks = NULL;
		g_autofree KithModbusPlanItem *items =
		        g_new0 (KithModbusPlanItem, profile->fields->len);

		kith_modbus_quirks_merge (&quirks, &self->settings.quirks, &profile->quirks);
		kith_modbus_limits_from_quirks (&limits, &quirks);
		for (guint j = 0; j < profile->fields->len; j++) {
			const KithModbusField *field = g_ptr_array_index (profile->fields, j);
			items[j] = (KithModbusPlanItem){ field->table, field->address,
				                         (guint16)field->count,
				                         field->interval > 0
				                                 ? (gint64)(field->interval * 1e6)
				                                 : self->settings.interval };
		}
		blocks = kith_modbus_plan (items, profile->fields->len, NULL, &limits, NULL);
		g_string_append_printf (out, "  %s: profile %s, %u fields in %u requests\n",
		                        kith_device_get_id (device), profile->name,
		                        profile->fields->len, blocks->len);
	}
	if (self->settings.discover != NULL)
		g_string_append_printf (
		        out, "  discovery: %u unit ids, at most %u %% of the line\n",
		        self->settings.discover->len, self->settings.discover_budget);
	kith_modbus_driver_describe_profiles (self, out);
}

static void
kith_modbus_driver_finalize (GObject *object)
{
	KithModbusDriver *self = KITH_MODBUS_DRIVER (object);

	kith_modbus_poller_free (self->poller);
	kith_modbus_link_unref (self->link);
	g_ptr_array_unref (self->configured);
	if (self->known != NULL)
		g_ptr_array_unref (self->known);
	g_hash_table_unref (self->profiles);
	g_strfreev (self->profile_dirs);
	kith_modbus_settings_clear (&self->settings);
	G_OBJECT_CLASS (kith_modbus_driver_parent_class)->finalize (object);
}

static void
kith_modbus_driver_class_init (KithModbusDriverClass *klass)
{
	KithDriverClass *driver_class = KITH_DRIVER_CLASS (klass);
	G_OBJECT_CLASS (klass)->finalize = kith_modbus_driver_finalize;
	driver_class->setup = kith_modbus_driver_setup;
	driver_class->start = kith_modbus_driver_start;
	driver_class->read = kith_modbus_driver_read;
	driver_class->write = kith_modbus_driver_write;
	driver_class->stop = kith_modbus_driver_stop;
	driver_class->describe = kith_modbus_driver_describe;
	driver_class->keys = kith_modbus_settings_keys;
	driver_class->discovers = TRUE;
}

static void
kith_modbus_driver_init (KithModbusDriver *self)
{
	self->profiles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
	                                        (GDestroyNotify)kith_modbus_profile_unref);
	self->configured = g_ptr_array_new_with_free_func (g_object_unref);
}
