/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-sim"

#include "sim.h"

#include <math.h>

#include "config.h"
#include "kith-error.h"

struct _KithSimDriver {
	KithDriver parent_instance;
	guint thermometers;
	guint relays;
	guint dimmers;
	guint interval;      /* seconds between value updates; 0 = only on read */
	GHashTable *failing; /* device ids whose reads fail */
	guint timer_id;
};

G_DEFINE_FINAL_TYPE (KithSimDriver, kith_sim_driver, KITH_TYPE_DRIVER)

static const gchar *const kith_sim_keys[] = {
	"Driver", "Thermometers", "Relays", "Dimmers", "Interval", "FailReads", NULL,
};

gdouble
kith_sim_temperature (guint index, gint64 unix_seconds)
{
	gdouble t = (gdouble)unix_seconds;
	return 21.0 + 0.7 * index + 1.5 * sin (2 * G_PI * t / 900.0 + index);
}

gdouble
kith_sim_humidity (guint index, gint64 unix_seconds)
{
	gdouble t = (gdouble)unix_seconds;
	return 45.0 + 3.0 * index + 6.0 * sin (2 * G_PI * t / 1800.0 + 2.0 * index);
}

static gboolean
kith_sim_get_count (GKeyFile *keyfile, const gchar *group, const gchar *key, guint max, guint *out,
                    GError **error)
{
	g_autofree gchar *value = g_key_file_get_value (keyfile, group, key, NULL);
	g_autofree gchar *why = NULL;
	guint64 number;

	if (value == NULL)
		return TRUE;
	g_strstrip (value);
	if (!kith_config_parse_uint (value, 0, max, &number, &why)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] %s: %s", group, key, why);
		return FALSE;
	}
	*out = (guint)number;
	return TRUE;
}

/* a simulated device of a class: "thermometer" gives NAME-thermometer-N, "Thermometer N on
 * NAME", model "kith sim thermometer"; the Model identity field is added last by the caller */
static KithDevice *
kith_sim_new_device (KithSimDriver *self, const gchar *kind, const gchar *class_name, guint index)
{
	const gchar *bus = kith_driver_get_bus_name (KITH_DRIVER (self));
	g_autofree gchar *id = g_strdup_printf ("%s-%s-%u", bus, kind, index);
	g_autofree gchar *label = g_strdup_printf ("%s %u on %s", class_name, index, bus);
	g_autofree gchar *model = g_strdup_printf ("kith sim %s", kind);
	KithDevice *device = kith_device_new (id, label);

	kith_device_set_model (device, model);
	kith_device_set_manufacturer (device, "kith.sim");
	kith_device_set_class (device, class_name);
	return device;
}

/* the identity field, and the device handed to the driver */
static void
kith_sim_add_device (KithSimDriver *self, KithDevice *device)
{
	KithField *field = kith_field_new ("Model", KITH_VALUE_STRING, NULL);
	field->categories = KITH_FIELD_IDENTITY;
	kith_device_add_field (device, field);
	kith_driver_add_device (KITH_DRIVER (self), device);
}

/* a writable field that also shows in the presence status */
static KithField *
kith_sim_control_field (const gchar *name, KithValueType type, const gchar *unit)
{
	KithField *field = kith_field_new (name, type, unit);
	field->writable = TRUE;
	field->in_status = TRUE;
	field->categories = KITH_FIELD_MOMENTARY | KITH_FIELD_STATUS;
	return field;
}

static void
kith_sim_add_thermometer (KithSimDriver *self, guint index)
{
	g_autoptr (KithDevice) device =
	        kith_sim_new_device (self, "thermometer", "Thermometer", index);
	KithField *field;

	field = kith_field_new ("Temperature", KITH_VALUE_NUMERIC, "°C");
	field->decimals = 2;
	field->status_decimals = 1;
	field->presence_step = 0.5;
	field->in_status = TRUE;
	kith_device_add_field (device, field);
	field = kith_field_new ("Humidity", KITH_VALUE_NUMERIC, "%");
	field->decimals = 1;
	field->status_decimals = 0;
	field->presence_step = 2.0;
	field->in_status = TRUE;
	kith_device_add_field (device, field);
	g_object_set_data (G_OBJECT (device), "kith-sim-index", GUINT_TO_POINTER (index));
	kith_sim_add_device (self, device);
}

static void
kith_sim_add_relay (KithSimDriver *self, guint index)
{
	g_autoptr (KithDevice) device = kith_sim_new_device (self, "relay", "Relay", index);

	kith_device_add_field (device, kith_sim_control_field ("Relay", KITH_VALUE_BOOLEAN, NULL));
	kith_device_set_boolean (device, "Relay", FALSE, g_get_real_time ());
	kith_sim_add_device (self, device);
}

static void
kith_sim_add_dimmer (KithSimDriver *self, guint index)
{
	g_autoptr (KithDevice) device = kith_sim_new_device (self, "dimmer", "Dimmer", index);
	gint64 now = g_get_real_time ();
	KithField *field;

	kith_device_add_field (device, kith_sim_control_field ("On", KITH_VALUE_BOOLEAN, NULL));
	field = kith_sim_control_field ("Level", KITH_VALUE_NUMERIC, "%");
	field->presence_step = 1;
	field->min = 0;
	field->max = 100;
	kith_device_add_field (device, field);
	kith_device_set_boolean (device, "On", FALSE, now);
	kith_device_set_number (device, "Level", 100, now);
	kith_sim_add_device (self, device);
}

static gboolean
kith_sim_setup (KithDriver *driver, GKeyFile *keyfile, const gchar *group, GError **error)
{
	KithSimDriver *self = KITH_SIM_DRIVER (driver);
	g_auto (GStrv) failing = NULL;

	if (!kith_sim_get_count (keyfile, group, "Thermometers", 100000, &self->thermometers,
	                         error))
		return FALSE;
	if (!kith_sim_get_count (keyfile, group, "Relays", 100000, &self->relays, error))
		return FALSE;
	if (!kith_sim_get_count (keyfile, group, "Dimmers", 100000, &self->dimmers, error))
		return FALSE;
	if (!kith_sim_get_count (keyfile, group, "Interval", 86400, &self->interval, error))
		return FALSE;
	failing = g_key_file_get_string_list (keyfile, group, "FailReads", NULL, NULL);
	for (guint i = 0; failing != NULL && failing[i] != NULL; i++) {
		g_strstrip (failing[i]);
		if (failing[i][0] != '\0')
			g_hash_table_add (self->failing, g_strdup (failing[i]));
	}
	for (guint i = 1; i <= self->thermometers; i++)
		kith_sim_add_thermometer (self, i);
	for (guint i = 1; i <= self->relays; i++)
		kith_sim_add_relay (self, i);
	for (guint i = 1; i <= self->dimmers; i++)
		kith_sim_add_dimmer (self, i);
	return TRUE;
}

/* recompute the simulated values of a device for now; FALSE if it is a failing device */
static gboolean
kith_sim_sample (KithSimDriver *self, KithDevice *device, gint64 now)
{
	guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (device), "kith-sim-index"));
	KithValue model = { .type = KITH_VALUE_STRING,
		            .valid = TRUE,
		            .string = (gchar *)kith_device_get_model (device),
		            .timestamp = now };

	if (g_hash_table_contains (self->failing, kith_device_get_id (device)))
		return FALSE;
	kith_device_set_value (device, "Model", &model);
	if (index == 0) {
		/* an actuator: its state only changes when written; refresh the timestamps */
		GPtrArray *fields = kith_device_get_fields (device);
		for (guint i = 0; i < fields->len; i++) {
			const KithField *field = g_ptr_array_index (fields, i);
			KithValue value = { 0 };
			if (!field->writable)
				continue;
			kith_value_copy (&value, kith_device_get_value (device, field->name));
			value.timestamp = now;
			kith_device_set_value (device, field->name, &value);
			kith_value_clear (&value);
		}
		return TRUE;
	}
	kith_device_set_number (device, "Temperature",
	                        kith_sim_temperature (index, now / G_USEC_PER_SEC), now);
	kith_device_set_number (device, "Humidity", kith_sim_humidity (index, now / G_USEC_PER_SEC),
	                        now);
	return TRUE;
}

static gboolean
kith_sim_tick_cb (gpointer user_data)
{
	KithSimDriver *self = KITH_SIM_DRIVER (user_data);
	GPtrArray *devices = kith_driver_get_devices (KITH_DRIVER (self));
	gint64 now = g_get_real_time ();

	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		if (GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (device), "kith-sim-index")) == 0)
			continue;
		if (kith_sim_sample (self, device, now))
			kith_device_emit_changed (device);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
kith_sim_start (KithDriver *driver, GError **error)
{
	KithSimDriver *self = KITH_SIM_DRIVER (driver);
	GPtrArray *devices = kith_driver_get_devices (driver);
	gint64 now = g_get_real_time ();

	for (guint i = 0; i < devices->len; i++)
		kith_sim_sample (self, g_ptr_array_index (devices, i), now);
	if (self->interval > 0 && self->thermometers > 0)
		self->timer_id = g_timeout_add_seconds (self->interval, kith_sim_tick_cb, self);
	return TRUE;
}

typedef struct {
	KithSimDriver *self;
	KithDevice *device;
	GPtrArray *params;
	KithReadFunc done;
	gpointer user_data;
} KithSimJob;

static void
kith_sim_job_free (KithSimJob *job)
{
	g_object_unref (job->device);
	g_object_unref (job->self);
	if (job->params != NULL)
		g_ptr_array_unref (job->params);
	g_free (job);
}

/* results are delivered from an idle callback, as a real bus would deliver them later */
static gboolean
kith_sim_read_cb (gpointer user_data)
{
	KithSimJob *job = user_data;
	g_autoptr (GError) error = NULL;

	if (!kith_sim_sample (job->self, job->device, g_get_real_time ()))
		error = g_error_new (KITH_ERROR, KITH_ERROR_BUS,
		                     "no answer from %s (simulated bus failure)",
		                     kith_device_get_id (job->device));
	job->done (job->device, error, job->user_data);
	kith_sim_job_free (job);
	return G_SOURCE_REMOVE;
}

static void
kith_sim_read (KithDriver *driver, KithDevice *device, KithReadFunc done, gpointer user_data)
{
	KithSimJob *job = g_new0 (KithSimJob, 1);
	job->self = g_object_ref (KITH_SIM_DRIVER (driver));
	job->device = g_object_ref (device);
	job->done = done;
	job->user_data = user_data;
	g_idle_add (kith_sim_read_cb, job);
}

static gboolean
kith_sim_write_cb (gpointer user_data)
{
	KithSimJob *job = user_data;
	g_autoptr (GError) error = NULL;
	gint64 now = g_get_real_time ();

	if (g_hash_table_contains (job->self->failing, kith_device_get_id (job->device))) {
		error = g_error_new (KITH_ERROR, KITH_ERROR_BUS,
		                     "no answer from %s (simulated bus failure)",
		                     kith_device_get_id (job->device));
	} else {
		for (guint i = 0; i < job->params->len; i++) {
			KithParam *param = g_ptr_array_index (job->params, i);
			param->value.timestamp = now;
			param->value.valid = TRUE;
			kith_device_set_value (job->device, param->name, &param->value);
		}
		kith_device_emit_changed (job->device);
	}
	((KithWriteFunc)job->done) (job->device, error, job->user_data);
	kith_sim_job_free (job);
	return G_SOURCE_REMOVE;
}

static void
kith_sim_write (KithDriver *driver, KithDevice *device, GPtrArray *params, KithWriteFunc done,
                gpointer user_data)
{
	KithSimJob *job = g_new0 (KithSimJob, 1);
	job->self = g_object_ref (KITH_SIM_DRIVER (driver));
	job->device = g_object_ref (device);
	job->params = g_ptr_array_ref (params);
	job->done = (KithReadFunc)done;
	job->user_data = user_data;
	g_idle_add (kith_sim_write_cb, job);
}

static void
kith_sim_stop (KithDriver *driver)
{
	KithSimDriver *self = KITH_SIM_DRIVER (driver);
	g_clear_handle_id (&self->timer_id, g_source_remove);
}

static void
kith_sim_driver_finalize (GObject *object)
{
	KithSimDriver *self = KITH_SIM_DRIVER (object);
	g_clear_handle_id (&self->timer_id, g_source_remove);
	g_hash_table_unref (self->failing);
	G_OBJECT_CLASS (kith_sim_driver_parent_class)->finalize (object);
}

static void
kith_sim_driver_class_init (KithSimDriverClass *klass)
{
	KithDriverClass *driver_class = KITH_DRIVER_CLASS (klass);
	G_OBJECT_CLASS (klass)->finalize = kith_sim_driver_finalize;
	driver_class->setup = kith_sim_setup;
	driver_class->start = kith_sim_start;
	driver_class->read = kith_sim_read;
	driver_class->write = kith_sim_write;
	driver_class->stop = kith_sim_stop;
	driver_class->keys = kith_sim_keys;
}

static void
kith_sim_driver_init (KithSimDriver *self)
{
	self->failing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->interval = 10;
}
