/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "poller.h"

#include "kith-error.h"

typedef enum {
	KITH_MODBUS_OP_READ,
	KITH_MODBUS_OP_WRITE,
} KithModbusOpKind;

/* a read a friend asked for, or a write: several requests, one answer */
typedef struct {
	KithModbusOpKind kind;
	KithModbusUnit *unit;
	GPtrArray *params; /* KithParam (writes) */
	guint next;        /* the next block or parameter */
	guint restarts;
	KithReadFunc read_done;
	KithWriteFunc write_done;
	gpointer user_data;
} KithModbusOp;

typedef enum {
	KITH_MODBUS_JOB_CONNECT,
	KITH_MODBUS_JOB_POLL,
	KITH_MODBUS_JOB_OP,
	KITH_MODBUS_JOB_IDENTIFY,
} KithModbusJobKind;

/* the request on the worker */
typedef struct {
	KithModbusPoller *poller; /* NULL once the poller is gone */
	KithModbusJobKind kind;
	KithModbusUnit *unit;
	guint block;
	KithModbusOp *op;
	guint8 unit_id;
} KithModbusJob;

struct _KithModbusPoller {
	gchar *bus_name;
	KithWorker *worker;
	KithModbusLink *link;
	KithModbusPollerSettings settings;
	GPtrArray *units; /* KithModbusUnit */
	GQueue writes;    /* KithModbusOp */
	GQueue reads;     /* KithModbusOp */
	KithModbusJob *inflight;
	gboolean started;
	gboolean stopped;
	gboolean line_up;
	gboolean line_failed; /* the line broke since it was last up */
	gint64 line_step;
	gint64 line_retry_at;
	guint timer_id;
	gint last_unit;
	KithModbusDiscovery *discovery;
	KithModbusDiscoverySkipFunc discovery_skip;
	KithModbusFoundFunc found;
	gpointer found_data;
};

static void kith_modbus_poller_schedule (KithModbusPoller *self);

KithModbusPoller *
kith_modbus_poller_new (const gchar *bus_name, KithWorker *worker, KithModbusLink *link,
                        const KithModbusPollerSettings *settings)
{
	KithModbusPoller *self = g_new0 (KithModbusPoller, 1);
	self->bus_name = g_strdup (bus_name);
	self->worker = worker;
	self->link = kith_modbus_link_ref (link);
	self->settings = *settings;
	self->units = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_modbus_unit_free);
	g_queue_init (&self->writes);
	g_queue_init (&self->reads);
	self->last_unit = -1;
	return self;
}

static void
kith_modbus_op_finish (KithModbusOp *op, const gchar *failure)
{
	g_autoptr (GError) error = NULL;

	if (failure != NULL)
		error = g_error_new_literal (KITH_ERROR, KITH_ERROR_BUS, failure);
	if (op->kind == KITH_MODBUS_OP_READ)
		op->read_done (op->unit->device, error, op->user_data);
	else
		op->write_done (op->unit->device, error, op->user_data);
	if (op->params != NULL)
		g_ptr_array_unref (op->params);
	g_free (op);
}

static void
kith_modbus_poller_fail_ops (KithModbusPoller *self, const gchar *failure)
{
	KithModbusOp *op;
	while ((op = g_queue_pop_head (&self->writes)) != NULL)
		kith_modbus_op_finish (op, failure);
	while ((op = g_queue_pop_head (&self->reads)) != NULL)
		kith_modbus_op_finish (op, failure);
}

void
kith_modbus_poller_free (KithModbusPoller *self)
{
	if (self == NULL)
		return;
	kith_modbus_poller_stop (self);
	if (self->inflight != NULL)
		self->inflight->poller = NULL;
	g_ptr_array_unref (self->units);
	kith_modbus_discovery_free (self->discovery);
	kith_modbus_link_unref (self->link);
	g_free (self->bus_name);
	g_free (self);
}

void
kith_modbus_poller_add_unit (KithModbusPoller *self, KithModbusUnit *unit)
{
	g_ptr_array_add (self->units, unit);
	if (!self->line_up && self->started)
		kith_modbus_unit_line_down (unit, "the bus is down");
	kith_modbus_poller_schedule (self);
}

KithModbusUnit *
kith_modbus_poller_find_unit (KithModbusPoller *self, guint8 id)
{
	for (guint i = 0; i < self->units->len; i++) {
		KithModbusUnit *unit = g_ptr_array_index (self->units, i);
		if (unit->id == id)
			return unit;
	}
	return NULL;
}

GPtrArray *
kith_modbus_poller_get_units (KithModbusPoller *self)
{
	return self->units;
}

void
kith_modbus_poller_set_discovery (KithModbusPoller *self, KithModbusDiscovery *discovery,
                                  KithModbusDiscoverySkipFunc skip, KithModbusFoundFunc found,
                                  gpointer user_data)
{
	kith_modbus_discovery_free (self->discovery);
	self->discovery = discovery;
	self->discovery_skip = skip;
	self->found = found;
	self->found_data = user_data;
}

static gint64
kith_modbus_seconds_to_us (gdouble seconds)
{
	return seconds > 0 ? (gint64)(seconds * G_USEC_PER_SEC) : 0;
}

static void kith_modbus_poller_done_cb (gpointer result, const GError *error, gpointer user_data);

static void
kith_modbus_poller_send (KithModbusPoller *self, KithModbusJobKind kind, KithModbusUnit *unit,
                         KithModbusRequest *request)
{
	KithModbusJob *job = g_new0 (KithModbusJob, 1);
	const KithModbusQuirks *quirks = unit != NULL ? &unit->quirks : &self->settings.quirks;

	job->poller = self;
	job->kind = kind;
	job->unit = unit;
	job->unit_id = request->unit;
	request->pause = kith_modbus_seconds_to_us (quirks->request_pause);
	request->switch_delay = kith_modbus_seconds_to_us (quirks->switch_delay);
	self->inflight = job;
	if (kind != KITH_MODBUS_JOB_CONNECT)
		self->last_unit = request->unit;
	kith_modbus_link_push (self->link, self->worker, request, kith_modbus_poller_done_cb, job);
}

static void
kith_modbus_poller_line_down (KithModbusPoller *self, const gchar *message, gint64 now)
{
	g_autofree gchar *reason = g_strdup_printf ("the bus is down: %s", message);

	self->line_step = self->line_step == 0
	                          ? self->settings.backoff.first
	                          : MIN (self->line_step * 2, self->settings.backoff.max);
	self->line_retry_at = now + self->line_step;
	if (self->line_up || !self->line_failed)
		g_warning ("bus %s: %s; trying again every %.1f s at most", self->bus_name, message,
		           self->settings.backoff.max / 1e6);
	else
		g_debug ("bus %s: %s", self->bus_name, message);
	self->line_up = FALSE;
	self->line_failed = TRUE;
	for (guint i = 0; i < self->units->len; i++)
		kith_modbus_unit_line_down (g_ptr_array_index (self->units, i), reason);
	kith_modbus_poller_fail_ops (self, reason);
}

static void
kith_modbus_poller_line_up (KithModbusPoller *self, gint64 now)
{
	if (self->line_up)
		return;
	if (self->line_failed)
		g_message ("bus %s: the line is open again", self->bus_name);
	self->line_up = TRUE;
	self->line_step = 0;
	for (guint i = 0; i < self->units->len; i++)
		kith_modbus_unit_line_up (g_ptr_array_index (self->units, i), now);
}

static void
kith_modbus_poller_poll_done (KithModbusPoller *self, KithModbusUnit *unit, guint block,
                              KithModbusRequest *request, gint64 now)
{
	kith_modbus_unit_read_done (unit, block, request, now);
	/* the end of the unit's cycle: friends hear of it once */
	if (kith_modbus_unit_pick (unit, now) < 0)
		kith_modbus_unit_flush (unit);
}

static void
kith_modbus_poller_finish_op (KithModbusPoller *self, GQueue *queue, const gchar *failure)
{
	KithModbusOp *op = g_queue_pop_head (queue);
	kith_modbus_unit_flush (op->unit);
	kith_modbus_op_finish (op, failure);
}

static void
kith_modbus_poller_read_step_done (KithModbusPoller *self, KithModbusOp *op,
                                   KithModbusRequest *request, gint64 now)
{
	GPtrArray *blocks = op->unit->blocks;
	KithModbusUnitReadResult result =
	        kith_modbus_unit_read_done (op->unit, op->next, request, now);

	if (result == KITH_MODBUS_UNIT_READ_FAILED) {
		kith_modbus_poller_finish_op (self, &self->reads, request->message);
		return;
	}
	/* a split changed the plan: read it again from its start */
	if (op->unit->blocks != blocks && op->restarts++ < 16)
		op->next = 0;
	else
		op->next++;
	if (op->next >= op->unit->blocks->len)
		kith_modbus_poller_finish_op (self, &self->reads, NULL);
}

static void
kith_modbus_poller_write_step_done (KithModbusPoller *self, KithModbusOp *op,
                                    KithModbusRequest *request, gint64 now)
{
	KithParam *param = g_ptr_array_index (op->params, op->next);
	g_autofree gchar *failure = NULL;
	const KithValue *old;
	KithValue value = { 0 };

	switch (request->status) {
	case KITH_MODBUS_STATUS_OK:
		kith_modbus_unit_answered (op->unit, now);
		break;
	case KITH_MODBUS_STATUS_EXCEPTION:
		kith_modbus_unit_answered (op->unit, now);
		failure = g_strdup_printf ("%s: the unit refused the write (%s)", param->name,
		                           request->message);
		kith_modbus_poller_finish_op (self, &self->writes, failure);
		return;
	default:
		kith_modbus_unit_failed (op->unit, request->message, now);
		failure = g_strdup_printf ("%s: %s", param->name, request->message);
		kith_modbus_poller_finish_op (self, &self->writes, failure);
		return;
	}
	kith_value_copy (&value, &param->value);
	value.valid = TRUE;
	value.timestamp = g_get_real_time ();
	old = kith_device_get_value (op->unit->device, param->name);
	if (old == NULL || !kith_value_equal (old, &value))
		op->unit->dirty = TRUE;
	kith_device_set_value (op->unit->device, param->name, &value);
	kith_value_clear (&value);
	if (++op->next >= op->params->len)
		kith_modbus_poller_finish_op (self, &self->writes, NULL);
}

static void
kith_modbus_poller_identify_done (KithModbusPoller *self, KithModbusRequest *request, gint64 now)
{
	KithModbusDiscovery *discovery = self->discovery;
	gboolean answered = request->identity != NULL && request->identity->answered;

	if (discovery == NULL)
		return;
	kith_modbus_discovery_done (discovery, answered, request->bus_time, now);
	if (answered && self->found != NULL)
		self->found (request->unit, request->identity, self->found_data);
}

static void
kith_modbus_poller_done_cb (gpointer result, const GError *error, gpointer user_data)
{
	KithModbusJob *job = user_data;
	g_autoptr (KithModbusRequest) request = result;
	KithModbusPoller *self = job->poller;
	gint64 now = g_get_monotonic_time ();

	if (self == NULL || error != NULL) {
		if (self != NULL)
			self->inflight = NULL;
		g_free (job);
		return;
	}
	self->inflight = NULL;
	if (request->status == KITH_MODBUS_STATUS_LINK) {
		kith_modbus_poller_line_down (self, request->message, now);
	} else {
		kith_modbus_poller_line_up (self, now);
		switch (job->kind) {
		case KITH_MODBUS_JOB_POLL:
			kith_modbus_poller_poll_done (self, job->unit, job->block, request, now);
			break;
		case KITH_MODBUS_JOB_OP:
			if (job->op->kind == KITH_MODBUS_OP_READ)
				kith_modbus_poller_read_step_done (self, job->op, request, now);
			else
				kith_modbus_poller_write_step_done (self, job->op, request, now);
			break;
		case KITH_MODBUS_JOB_IDENTIFY:
			kith_modbus_poller_identify_done (self, request, now);
			break;
		case KITH_MODBUS_JOB_CONNECT:
			break;
		}
	}
	g_free (job);
	kith_modbus_poller_schedule (self);
}

static gboolean
kith_modbus_poller_timer_cb (gpointer user_data)
{
	KithModbusPoller *self = user_data;
	self->timer_id = 0;
	kith_modbus_poller_schedule (self);
	return G_SOURCE_REMOVE;
}

/* the next request of the op at the head of a queue; FALSE if there is none */
static gboolean
kith_modbus_poller_send_op (KithModbusPoller *self, GQueue *queue)
{
	KithModbusOp *op = g_queue_peek_head (queue);
	KithModbusRequest *request;
	g_autoptr (GError) error = NULL;

	if (op == NULL)
		return FALSE;
	if (op->kind == KITH_MODBUS_OP_READ) {
		if (op->next >= op->unit->blocks->len) {
			kith_modbus_poller_finish_op (self, queue, NULL);
			return FALSE;
		}
		request = kith_modbus_unit_read_request (op->unit, op->next);
	} else {
		KithParam *param = g_ptr_array_index (op->params, op->next);
		request = kith_modbus_unit_write_request (op->unit, param->name, &param->value,
		                                          &error);
		if (request == NULL) {
			kith_modbus_poller_finish_op (self, queue, error->message);
			return FALSE;
		}
	}
	kith_modbus_poller_send (self, KITH_MODBUS_JOB_OP, op->unit, request);
	self->inflight->op = op;
	return TRUE;
}

/* the unit with the most urgent due request; the last unit first, to keep its requests
 * together (no switch delay in between, one ::changed per cycle) */
static KithModbusUnit *
kith_modbus_poller_pick (KithModbusPoller *self, gint64 now, gint *block)
{
	KithModbusUnit *best = NULL;
	gint64 best_due = G_MAXINT64;

	for (guint i = 0; i < self->units->len; i++) {
		KithModbusUnit *unit = g_ptr_array_index (self->units, i);
		gint index = kith_modbus_unit_pick (unit, now);
		gint64 due;
		if (index < 0)
			continue;
		due = unit->id == self->last_unit ? G_MININT64 : kith_modbus_unit_next_due (unit);
		if (best == NULL || due < best_due) {
			best = unit;
			best_due = due;
			*block = index;
		}
	}
	return best;
}

static gboolean
kith_modbus_poller_send_probe (KithModbusPoller *self, gint64 now)
{
	KithModbusRequest *request;
	guint sweeps;
	gint unit;

	if (self->discovery == NULL || kith_modbus_discovery_due (self->discovery) > now)
		return FALSE;
	sweeps = self->discovery->sweeps;
	unit = kith_modbus_discovery_next (self->discovery, now, self->discovery_skip,
	                                   self->found_data);
	if (self->discovery->sweeps != sweeps)
		g_message ("bus %s: sweep of %u unit ids done in %.1f s (%.1f s of line time), "
		           "%u answered",
		           self->bus_name, self->discovery->ids->len,
		           (now - self->discovery->started) / 1e6, self->discovery->bus_time / 1e6,
		           self->discovery->found);
	if (unit < 0)
		return FALSE;
	request = kith_modbus_request_new (KITH_MODBUS_REQUEST_IDENTIFY, (guint8)unit);
	request->timeout = self->settings.discover_timeout;
	kith_modbus_poller_send (self, KITH_MODBUS_JOB_IDENTIFY, NULL, request);
	return TRUE;
}

static void
kith_modbus_poller_arm (KithModbusPoller *self, gint64 now)
{
	gint64 next = G_MAXINT64;

	for (guint i = 0; i < self->units->len; i++) {
		KithModbusUnit *unit = g_ptr_array_index (self->units, i);
		kith_modbus_unit_flush (unit);
		next = MIN (next, kith_modbus_unit_next_due (unit));
	}
	if (self->discovery != NULL)
		next = MIN (next, kith_modbus_discovery_due (self->discovery));
	if (!self->line_up)
		next = self->line_retry_at;
	if (next == G_MAXINT64)
		return;
	self->timer_id = g_timeout_add ((guint)CLAMP ((next - now + 999) / 1000, 0, G_MAXINT),
	                                kith_modbus_poller_timer_cb, self);
}

static void
kith_modbus_poller_schedule (KithModbusPoller *self)
{
	gint64 now = g_get_monotonic_time ();
	KithModbusUnit *unit;
	gint block = -1;

	if (!self->started || self->stopped || self->inflight != NULL)
		return;
	g_clear_handle_id (&self->timer_id, g_source_remove);
	if (!self->line_up) {
		if (now >= self->line_retry_at) {
			kith_modbus_poller_send (
			        self, KITH_MODBUS_JOB_CONNECT, NULL,
			        kith_modbus_request_new (KITH_MODBUS_REQUEST_CONNECT, 0));
			return;
		}
		kith_modbus_poller_arm (self, now);
		return;
	}
	while (!g_queue_is_empty (&self->writes))
		if (kith_modbus_poller_send_op (self, &self->writes))
			return;
	while (!g_queue_is_empty (&self->reads))
		if (kith_modbus_poller_send_op (self, &self->reads))
			return;
	unit = kith_modbus_poller_pick (self, now, &block);
	if (unit != NULL) {
		kith_modbus_poller_send (self, KITH_MODBUS_JOB_POLL, unit,
		                         kith_modbus_unit_read_request (unit, (guint)block));
		self->inflight->block = (guint)block;
		return;
	}
	if (kith_modbus_poller_send_probe (self, now))
		return;
	kith_modbus_poller_arm (self, now);
}

void
kith_modbus_poller_start (KithModbusPoller *self)
{
	self->started = TRUE;
	self->line_retry_at = g_get_monotonic_time ();
	kith_modbus_poller_schedule (self);
}

void
kith_modbus_poller_stop (KithModbusPoller *self)
{
	if (self->stopped)
		return;
	self->stopped = TRUE;
	g_clear_handle_id (&self->timer_id, g_source_remove);
	kith_modbus_poller_fail_ops (self, "the bus stopped");
}

static void
kith_modbus_poller_queue (KithModbusPoller *self, GQueue *queue, KithModbusOp *op)
{
	if (self->stopped || !self->started) {
		kith_modbus_op_finish (op, "the bus is not running");
		return;
	}
	if (!self->line_up && self->line_failed) {
		kith_modbus_op_finish (op, kith_device_get_silent_reason (op->unit->device));
		return;
	}
	g_queue_push_tail (queue, op);
	kith_modbus_poller_schedule (self);
}

void
kith_modbus_poller_read (KithModbusPoller *self, KithModbusUnit *unit, KithReadFunc done,
                         gpointer user_data)
{
	KithModbusOp *op = g_new0 (KithModbusOp, 1);

	op->kind = KITH_MODBUS_OP_READ;
	op->unit = unit;
	op->read_done = done;
	op->user_data = user_data;
	/* a unit in backoff is probed on its schedule; a read now would only cost a timeout */
	if (unit->state == KITH_MODBUS_UNIT_SILENT) {
		g_autofree gchar *failure =
		        g_strdup_printf ("%s does not answer (%s)", kith_modbus_unit_get_id (unit),
		                         kith_device_get_silent_reason (unit->device));
		kith_modbus_op_finish (op, failure);
		return;
	}
	kith_modbus_poller_queue (self, &self->reads, op);
}

void
kith_modbus_poller_write (KithModbusPoller *self, KithModbusUnit *unit, GPtrArray *params,
                          KithWriteFunc done, gpointer user_data)
{
	KithModbusOp *op = g_new0 (KithModbusOp, 1);

	op->kind = KITH_MODBUS_OP_WRITE;
	op->unit = unit;
	op->params = g_ptr_array_ref (params);
	op->write_done = done;
	op->user_data = user_data;
	if (params->len == 0) {
		kith_modbus_op_finish (op, NULL);
		return;
	}
	kith_modbus_poller_queue (self, &self->writes, op);
}
