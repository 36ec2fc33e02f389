/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-i2c"

#include "readout.h"

#include "kith-error.h"

/* no chip needs more steps than this for one readout */
#define KITH_I2C_MAX_STEPS 16

typedef struct {
	KithI2cReadoutDone done;
	gpointer user_data;
} KithI2cWaiter;

struct _KithI2cReadout {
	gint ref_count;
	KithDevice *device;
	const KithI2cChip *chip;
	KithI2cState *state; /* atomic refcounted box: the worker's */
	KithWorker *worker;  /* while a readout runs */
	gboolean running;
	gboolean stopped;
	guint step;
	guint timer_id;
	KithI2cReading reading;
	GArray *waiters; /* KithI2cWaiter */
};

typedef struct {
	KithI2cState *state;
	const KithI2cChip *chip;
	guint step;
	KithI2cReading reading;
} KithI2cStepJob;

typedef struct {
	gint wait_ms;
	KithI2cReading reading;
} KithI2cStepResult;

static void
kith_i2c_readout_log (KithI2cReadout *self, GLogLevelFlags level, const gchar *message)
{
	g_log_structured (G_LOG_DOMAIN, level, "KITH_DEVICE", kith_device_get_id (self->device),
	                  "MESSAGE", "%s: %s", kith_device_get_id (self->device), message);
}

KithI2cReadout *
kith_i2c_readout_new (KithDevice *device, const KithI2cChip *chip, guint adapter, guint address)
{
	KithI2cReadout *self = g_new0 (KithI2cReadout, 1);
	self->ref_count = 1;
	self->device = g_object_ref (device);
	self->chip = chip;
	self->state = g_atomic_rc_box_new0 (KithI2cState);
	self->state->adapter = adapter;
	self->state->address = address;
	self->waiters = g_array_new (FALSE, FALSE, sizeof (KithI2cWaiter));
	return self;
}

KithI2cReadout *
kith_i2c_readout_ref (KithI2cReadout *self)
{
	self->ref_count++;
	return self;
}

void
kith_i2c_readout_unref (KithI2cReadout *self)
{
	if (self == NULL || --self->ref_count > 0)
		return;
	g_clear_handle_id (&self->timer_id, g_source_remove);
	g_atomic_rc_box_release (self->state);
	g_array_unref (self->waiters);
	g_object_unref (self->device);
	g_free (self);
}

KithDevice *
kith_i2c_readout_get_device (KithI2cReadout *self)
{
	return self->device;
}

void
kith_i2c_readout_add_fields (const KithI2cChip *chip, KithDevice *device)
{
	for (guint i = 0; chip->fields != NULL && chip->fields[i].name != NULL; i++) {
		KithField *field = kith_field_new (chip->fields[i].name, KITH_VALUE_NUMERIC,
		                                   chip->fields[i].unit);
		field->decimals = chip->fields[i].decimals;
		field->status_decimals = MIN (chip->fields[i].decimals, 1);
		field->presence_step = chip->fields[i].presence_step;
		field->in_status = TRUE;
		kith_device_add_field (device, field);
	}
}

/* on the worker thread: opens the adapter for this step only, so an adapter that goes away
 * (a module unloaded, a USB adapter unplugged) is found again when it is back */
static gpointer
kith_i2c_step_run (gpointer data, GCancellable *cancellable, GError **error)
{
	KithI2cStepJob *job = data;
	g_autoptr (KithI2cAdapter) adapter = kith_i2c_adapter_open (job->state->adapter, error);
	KithI2cStepResult *result;
	gint wait_ms;

	if (adapter == NULL || !kith_i2c_adapter_select (adapter, job->state->address, error)) {
		job->state->ready = FALSE;
		return NULL;
	}
	wait_ms = job->chip->step (job->state, adapter, job->step, &job->reading, error);
	if (wait_ms < 0) {
		job->state->ready = FALSE;
		if (error != NULL && *error == NULL)
			g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "readout failed");
		return NULL;
	}
	result = g_new0 (KithI2cStepResult, 1);
	result->wait_ms = wait_ms;
	result->reading = job->reading;
	return result;
}

static void
kith_i2c_step_job_free (gpointer data)
{
	KithI2cStepJob *job = data;
	g_atomic_rc_box_release (job->state);
	g_free (job);
}

static void
kith_i2c_readout_finish (KithI2cReadout *self, const GError *error)
{
	g_autoptr (GArray) waiters = self->waiters;
	gint64 now = g_get_real_time ();

	self->waiters = g_array_new (FALSE, FALSE, sizeof (KithI2cWaiter));
	self->running = FALSE;
	self->worker = NULL;
	if (!self->stopped && error != NULL &&
	    !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		if (kith_device_is_answering (self->device))
			kith_i2c_readout_log (self, G_LOG_LEVEL_WARNING, error->message);
		kith_device_set_answering (self->device, FALSE, error->message);
	} else if (!self->stopped && error == NULL) {
		for (guint i = 0; self->chip->fields[i].name != NULL; i++)
			kith_device_set_number (self->device, self->chip->fields[i].name,
			                        self->reading.values[i], now);
		if (!kith_device_is_answering (self->device))
			kith_i2c_readout_log (self, G_LOG_LEVEL_MESSAGE, "answers");
		kith_device_set_answering (self->device, TRUE, NULL);
		kith_device_emit_changed (self->device);
	}
	for (guint i = 0; i < waiters->len; i++) {
		KithI2cWaiter *waiter = &g_array_index (waiters, KithI2cWaiter, i);
		waiter->done (self->device, error, waiter->user_data);
	}
}

static void kith_i2c_readout_push (KithI2cReadout *self);

static gboolean
kith_i2c_readout_timer_cb (gpointer user_data)
{
	KithI2cReadout *self = user_data;
	self->timer_id = 0;
	kith_i2c_readout_push (self);
	return G_SOURCE_REMOVE;
}

static void
kith_i2c_step_done_cb (gpointer result, const GError *error, gpointer user_data)
{
	g_autoptr (KithI2cReadout) self = user_data;
	g_autofree KithI2cStepResult *step = result;

	if (error != NULL || self->stopped) {
		g_autoptr (GError) cancelled = NULL;
		if (error == NULL)
			error = cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
			                                         "the bus stopped");
		kith_i2c_readout_finish (self, error);
		return;
	}
	self->reading = step->reading;
	if (step->wait_ms == 0) {
		kith_i2c_readout_finish (self, NULL);
		return;
	}
	if (++self->step >= KITH_I2C_MAX_STEPS) {
		g_autoptr (GError) error_local = g_error_new (
		        KITH_ERROR, KITH_ERROR_BUS, "%s: readout of more than %u steps",
		        self->chip->model, KITH_I2C_MAX_STEPS);
		kith_i2c_readout_finish (self, error_local);
		return;
	}
	self->timer_id = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint)step->wait_ms,
	                                     kith_i2c_readout_timer_cb, kith_i2c_readout_ref (self),
	                                     (GDestroyNotify)kith_i2c_readout_unref);
}

static void
kith_i2c_readout_push (KithI2cReadout *self)
{
	KithI2cStepJob *job = g_new0 (KithI2cStepJob, 1);
	job->state = g_atomic_rc_box_acquire (self->state);
	job->chip = self->chip;
	job->step = self->step;
	job->reading = self->reading;
	kith_worker_push (self->worker, kith_i2c_step_run, job, kith_i2c_step_job_free, g_free,
	                  NULL, kith_i2c_step_done_cb, kith_i2c_readout_ref (self));
}

void
kith_i2c_readout_run (KithI2cReadout *self, KithWorker *worker, KithI2cReadoutDone done,
                      gpointer user_data)
{
	if (done != NULL) {
		KithI2cWaiter waiter = { done, user_data };
		g_array_append_val (self->waiters, waiter);
	}
	if (self->running)
		return;
	if (self->stopped) {
		g_autoptr (GError) error =
		        g_error_new (KITH_ERROR, KITH_ERROR_BUS, "the bus of %s stopped",
		                     kith_device_get_id (self->device));
		kith_i2c_readout_finish (self, error);
		return;
	}
	self->running = TRUE;
	self->worker = worker;
	self->step = 0;
	self->reading = (KithI2cReading){ 0 };
	kith_i2c_readout_push (self);
}

void
kith_i2c_readout_stop (KithI2cReadout *self)
{
	self->stopped = TRUE;
	if (self->timer_id != 0) {
		g_autoptr (GError) error =
		        g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "the bus stopped");
		g_clear_handle_id (&self->timer_id, g_source_remove);
		kith_i2c_readout_finish (self, error);
	}
}
