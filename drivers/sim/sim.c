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
	gdouble read_delay;  /* seconds a read blocks (on the bus's worker thread) */
	gint announce;       /* seconds after start the bus announces its devices; -1: at setup */
	guint timer_id;
	guint announce_id;
};

G_DEFINE_FINAL_TYPE (KithSimDriver, kith_sim_driver, KITH_TYPE_DRIVER)

static const gchar *const kith_sim_keys[] = {
	"Driver",    "Thermometers", "Relays",   "Dimmers", "Interval",
	"FailReads", "ReadDelay",    "Announce", NULL,
};

#define KITH_SIM_FAILURE "no answer (simulated bus failure)"

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

/* the identity field, and the device handed to the driver; a device known from an earlier run
 * (the core gave it back, not answering) is confirmed instead */
static void
kith_sim_add_device (KithSimDriver *self, KithDevice *device)
{
	KithDevice *known =
	        kith_driver_find_device (KITH_DRIVER (self), kith_device_get_id (device));
	KithField *field;
	gboolean failing = g_hash_table_contains (self->failing, kith_device_get_id (device));

	if (known != NULL) {
		g_object_set_data (G_OBJECT (known), "kith-sim-index",
		                   g_object_get_data (G_OBJECT (device), "kith-sim-index"));
		kith_device_set_answering (known, !failing, KITH_SIM_FAILURE);
		return;
	}
	field = kith_field_new ("Model", KITH_VALUE_STRING, NULL);
	field->categories = KITH_FIELD_IDENTITY;
	kith_device_add_field (device, field);
	if (failing)
		kith_device_set_answering (device, FALSE, KITH_SIM_FAILURE);
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

static void
kith_sim_add_devices (KithSimDriver *self)
{
	for (guint i = 1; i <= self->thermometers; i++)
		kith_sim_add_thermometer (self, i);
	for (guint i = 1; i <= self->relays; i++)
		kith_sim_add_relay (self, i);
	for (guint i = 1; i <= self->dimmers; i++)
		kith_sim_add_dimmer (self, i);
}

/* a number of seconds, fractions allowed: 0.5 */
static gboolean
kith_sim_get_seconds (GKeyFile *keyfile, const gchar *group, const gchar *key, gdouble *out,
                      GError **error)
{
	g_autofree gchar *value = g_key_file_get_value (keyfile, group, key, NULL);
	gchar *end = NULL;
	gdouble seconds;

	if (value == NULL)
		return TRUE;
	g_strstrip (value);
	seconds = g_ascii_strtod (value, &end);
	if (value[0] == '\0' || end == NULL || *end != '\0' || !g_ascii_isdigit (value[0])) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] %s: '%s' is not a number",
		             group, key, value);
		return FALSE;
	}
	if (seconds > 600) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
		             "[%s] %s: %s is out of range 0..600", group, key, value);
		return FALSE;
	}
	*out = seconds;
	return TRUE;
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
	if (!kith_sim_get_seconds (keyfile, group, "ReadDelay", &self->read_delay, error))
		return FALSE;
	if (g_key_file_has_key (keyfile, group, "Announce", NULL)) {
		guint announce = 0;
		if (!kith_sim_get_count (keyfile, group, "Announce", 86400, &announce, error))
			return FALSE;
		self->announce = (gint)announce;
		/* its devices come from the bus, like a broker's retained announcements */
		kith_driver_set_discovers (driver, TRUE);
	}
	failing = g_key_file_get_string_list (keyfile, group, "FailReads", NULL, NULL);
	for (guint i = 0; failing != NULL && failing[i] != NULL; i++) {
		g_strstrip (failing[i]);
		if (failing[i][0] != '\0')
			g_hash_table_add (self->failing, g_strdup (failing[i]));
	}
	if (self->announce < 0)
		kith_sim_add_devices (self);
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
	/* known from an earlier run and not announced yet: the bus has not confirmed it */
	if (!kith_device_is_answering (device))
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

static void
kith_sim_sample_all (KithSimDriver *self)
{
	GPtrArray *devices = kith_driver_get_devices (KITH_DRIVER (self));
	gint64 now = g_get_real_time ();

	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		if (kith_sim_sample (self, device, now))
			kith_device_emit_changed (device);
	}
}

/* the bus announces its devices (Announce=): new ones appear, known ones answer again */
static gboolean
kith_sim_announce_cb (gpointer user_data)
{
	KithSimDriver *self = user_data;

	self->announce_id = 0;
	kith_sim_add_devices (self);
	kith_sim_sample_all (self);
	return G_SOURCE_REMOVE;
}

static gboolean
kith_sim_start (KithDriver *driver, GError **error)
{
	KithSimDriver *self = KITH_SIM_DRIVER (driver);

	kith_sim_sample_all (self);
	if (self->announce >= 0)
		self->announce_id =
		        g_timeout_add_seconds ((guint)self->announce, kith_sim_announce_cb, self);
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

/* a read finished: the values now, or the failure (the device is then not answering) */
static void
kith_sim_read_finish (KithSimJob *job, const GError *worker_error)
{
	g_autoptr (GError) error = NULL;

	if (worker_error != NULL) {
		error = g_error_copy (worker_error);
	} else if (!kith_sim_sample (job->self, job->device, g_get_real_time ())) {
		error = g_error_new (
		        KITH_ERROR, KITH_ERROR_BUS, "no answer from %s (%s)",
		        kith_device_get_id (job->device),
		        g_hash_table_contains (job->self->failing, kith_device_get_id (job->device))
		                ? "simulated bus failure"
		                : "not announced by its bus yet");
		if (g_hash_table_contains (job->self->failing, kith_device_get_id (job->device)))
			kith_device_set_answering (job->device, FALSE, KITH_SIM_FAILURE);
	}
	job->done (job->device, error, job->user_data);
	kith_sim_job_free (job);
}

/* results are delivered from an idle callback, as a real bus would deliver them later */
static gboolean
kith_sim_read_cb (gpointer user_data)
{
	kith_sim_read_finish (user_data, NULL);
	return G_SOURCE_REMOVE;
}

/* on the bus's worker thread: the bus is slow (ReadDelay=) */
static gpointer
kith_sim_slow_read_run (gpointer data, GCancellable *cancellable, GError **error)
{
	gint64 until = g_get_monotonic_time () + (gint64)(*(gdouble *)data * G_USEC_PER_SEC);

	while (g_get_monotonic_time () < until) {
		if (g_cancellable_set_error_if_cancelled (cancellable, error))
			return NULL;
		g_usleep (MIN (20000, MAX (0, until - g_get_monotonic_time ())));
	}
	return NULL;
}

static void
kith_sim_slow_read_done (gpointer result, const GError *error, gpointer user_data)
{
	kith_sim_read_finish (user_data, error);
}

static void
kith_sim_read (KithDriver *driver, KithDevice *device, KithReadFunc done, gpointer user_data)
{
	KithSimDriver *self = KITH_SIM_DRIVER (driver);
	KithSimJob *job = g_new0 (KithSimJob, 1);

	job->self = g_object_ref (self);
	job->device = g_object_ref (device);
	job->done = done;
	job->user_data = user_data;
	if (self->read_delay > 0) {
		kith_worker_push (kith_driver_get_worker (driver), kith_sim_slow_read_run,
		                  g_memdup2 (&self->read_delay, sizeof self->read_delay), g_free,
		                  NULL, NULL, kith_sim_slow_read_done, job);
		return;
	}
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
	g_clear_handle_id (&self->announce_id, g_source_remove);
}

static void
kith_sim_driver_finalize (GObject *object)
{
	KithSimDriver *self = KITH_SIM_DRIVER (object);
	g_clear_handle_id (&self->timer_id, g_source_remove);
	g_clear_handle_id (&self->announce_id, g_source_remove);
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
	self->announce = -1;
}
