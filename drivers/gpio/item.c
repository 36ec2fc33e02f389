/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-gpio"

#include "item.h"

#include <glib-unix.h>
#include <string.h>

#include "debounce.h"
#include "kith-error.h"

#define KITH_GPIO_CONSUMER "kith"
#define KITH_GPIO_MAX_LINES 64

struct _KithGpioItem {
	KithGpioItemConfig *config;
	KithDevice *device;
	guint n_lines;
	KithGpioChip *chip;
	KithGpioRequest *request;
	guint offsets[KITH_GPIO_MAX_LINES];
	guint watches[KITH_GPIO_MAX_LINES];
	guint n_watches;
	KithGpioDebounce debounce[KITH_GPIO_MAX_LINES];
	gint values[KITH_GPIO_MAX_LINES]; /* outputs: the levels set */
	guint settle_id;
	guint rate_id;
	guint64 rate_count; /* Count at the last Rate update */
	gint64 rate_ns;
	guint pulse_id;
	GFunc closed_func;
	gpointer closed_data;
};

static void
kith_gpio_item_log (KithGpioItem *self, GLogLevelFlags level, const gchar *message)
{
	g_log_structured (G_LOG_DOMAIN, level, "KITH_DEVICE", kith_device_get_id (self->device),
	                  "MESSAGE", "%s: %s", kith_device_get_id (self->device), message);
}

KithGpioItem *
kith_gpio_item_new (KithGpioItemConfig *config, KithDevice *device)
{
	KithGpioItem *self = g_new0 (KithGpioItem, 1);
	self->config = config;
	self->device = g_object_ref (device);
	self->n_lines = g_strv_length (config->lines);
	return self;
}

void
kith_gpio_item_free (KithGpioItem *self)
{
	if (self == NULL)
		return;
	self->closed_func = NULL;
	kith_gpio_item_close (self, NULL);
	g_object_unref (self->device);
	kith_gpio_item_config_free (self->config);
	g_free (self);
}

KithDevice *
kith_gpio_item_get_device (KithGpioItem *self)
{
	return self->device;
}

KithGpioItemConfig *
kith_gpio_item_get_config (KithGpioItem *self)
{
	return self->config;
}

void
kith_gpio_item_set_closed_func (KithGpioItem *self, GFunc func, gpointer user_data)
{
	self->closed_func = func;
	self->closed_data = user_data;
}

gboolean
kith_gpio_item_is_open (KithGpioItem *self)
{
	return self->request != NULL;
}

static KithField *
kith_gpio_field (const gchar *name, KithValueType type, const gchar *unit, gboolean writable)
{
	KithField *field = kith_field_new (name, type, unit);
	field->writable = writable;
	field->in_status = TRUE;
	field->categories = KITH_FIELD_MOMENTARY | KITH_FIELD_STATUS;
	return field;
}

void
kith_gpio_item_add_fields (KithGpioItemConfig *config, KithDevice *device)
{
	KithField *field;

	if (config->mode == KITH_GPIO_MODE_COUNTER) {
		field = kith_gpio_field ("Count", KITH_VALUE_INT, NULL, FALSE);
		field->in_status = FALSE;
		kith_device_add_field (device, field);
		field = kith_gpio_field ("Rate", KITH_VALUE_NUMERIC, "Hz", FALSE);
		field->decimals = 3;
		field->status_decimals = 2;
		field->presence_step = 0.01;
		kith_device_add_field (device, field);
		return;
	}
	for (guint i = 0; config->fields[i] != NULL; i++)
		kith_device_add_field (device,
		                       kith_gpio_field (config->fields[i], KITH_VALUE_BOOLEAN, NULL,
		                                        config->direction == KITH_GPIO_OUTPUT));
	if (config->direction == KITH_GPIO_OUTPUT && config->fields[1] == NULL) {
		/* a timed pulse: the output is active for that many milliseconds */
		field = kith_gpio_field ("Pulse", KITH_VALUE_INT, "ms", TRUE);
		field->in_status = FALSE;
		field->categories = KITH_FIELD_STATUS;
		field->min = 1;
		field->max = 3600000;
		kith_device_add_field (device, field);
	}
}

/* a kernel timestamp (CLOCK_MONOTONIC, ns) as wall-clock microseconds */
static gint64
kith_gpio_wall_time (gint64 monotonic_ns)
{
	gint64 age_us = g_get_monotonic_time () - monotonic_ns / 1000;
	return g_get_real_time () - MAX (age_us, 0);
}

static gint64
kith_gpio_now_ns (void)
{
	return g_get_monotonic_time () * 1000;
}

static guint64
kith_gpio_item_count (KithGpioItem *self)
{
	KithGpioDebounce *debounce = &self->debounce[0];
	guint64 count = 0;
	if (self->config->count_edge & KITH_GPIO_EDGE_RISING)
		count += debounce->rising;
	if (self->config->count_edge & KITH_GPIO_EDGE_FALLING)
		count += debounce->falling;
	return count;
}

/* the device's values from the debounced levels (inputs) or the levels set (outputs) */
static void
kith_gpio_item_publish (KithGpioItem *self, gint64 timestamp)
{
	if (self->config->mode == KITH_GPIO_MODE_COUNTER) {
		KithValue value = { .type = KITH_VALUE_INT,
			            .valid = TRUE,
			            .integer = (gint64)kith_gpio_item_count (self),
			            .timestamp = timestamp };
		kith_device_set_value (self->device, "Count", &value);
	} else {
		for (guint i = 0; i < self->n_lines; i++) {
			gboolean level = self->config->direction == KITH_GPIO_OUTPUT
			                         ? self->values[i] != 0
			                         : self->debounce[i].stable;
			kith_device_set_boolean (self->device, self->config->fields[i], level,
			                         timestamp);
		}
	}
	kith_device_emit_changed (self->device);
}

static gboolean kith_gpio_item_settle_cb (gpointer user_data);

/* (re)arms the settle timer for the earliest pending line */
static void
kith_gpio_item_arm_settle (KithGpioItem *self)
{
	gint64 deadline = 0;
	gint64 wait_ms;

	for (guint i = 0; i < self->n_lines; i++) {
		gint64 line_deadline = kith_gpio_debounce_deadline (&self->debounce[i]);
		if (line_deadline != 0 && (deadline == 0 || line_deadline < deadline))
			deadline = line_deadline;
	}
	g_clear_handle_id (&self->settle_id, g_source_remove);
	if (deadline == 0)
		return;
	wait_ms = (deadline - kith_gpio_now_ns () + 999999) / 1000000;
	self->settle_id =
	        g_timeout_add ((guint)CLAMP (wait_ms, 0, G_MAXINT), kith_gpio_item_settle_cb, self);
}

static gboolean
kith_gpio_item_settle_cb (gpointer user_data)
{
	KithGpioItem *self = user_data;
	g_autoptr (GError) error = NULL;
	gint levels[KITH_GPIO_MAX_LINES];
	gint64 now = kith_gpio_now_ns (), when = 0, latest = 0;
	gboolean changed = FALSE;

	self->settle_id = 0;
	/* the line's level now, in case the kernel dropped an edge of a burst */
	if (!kith_gpio_request_get_values (self->request, levels, &error)) {
		for (guint i = 0; i < self->n_lines; i++)
			levels[i] = self->debounce[i].last_level;
	}
	for (guint i = 0; i < self->n_lines; i++) {
		if (kith_gpio_debounce_settle (&self->debounce[i], now, levels[i] != 0, &when)) {
			changed = TRUE;
			latest = MAX (latest, when);
		}
	}
	if (changed)
		kith_gpio_item_publish (self, kith_gpio_wall_time (latest));
	kith_gpio_item_arm_settle (self);
	return G_SOURCE_REMOVE;
}

static gboolean
kith_gpio_item_event_cb (gint fd, GIOCondition condition, gpointer user_data)
{
	KithGpioItem *self = user_data;
	g_autoptr (GError) error = NULL;
	KithGpioEvent events[16];
	gboolean changed = FALSE, pending = FALSE;
	gint64 latest = 0;
	gint n;

	if (condition & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) {
		kith_gpio_item_close (self, "the GPIO chip went away");
		return G_SOURCE_REMOVE;
	}
	/* the fd is level-triggered: what is not read now comes in the next dispatch */
	n = kith_gpio_request_read_events (self->request, fd, events, G_N_ELEMENTS (events),
	                                   &error);
	if (n < 0) {
		kith_gpio_item_close (self, error->message);
		return G_SOURCE_REMOVE;
	}
	for (gint i = 0; i < n; i++) {
		KithGpioDebounce *debounce = &self->debounce[events[i].line];
		if (kith_gpio_debounce_edge (debounce, events[i].rising, events[i].timestamp_ns)) {
			changed = TRUE;
			latest = MAX (latest, events[i].timestamp_ns);
		}
		pending |= debounce->pending;
	}
	if (changed)
		kith_gpio_item_publish (self, kith_gpio_wall_time (latest));
	if (pending)
		kith_gpio_item_arm_settle (self);
	return G_SOURCE_CONTINUE;
}

static gboolean
kith_gpio_item_rate_cb (gpointer user_data)
{
	KithGpioItem *self = user_data;
	guint64 count = kith_gpio_item_count (self);
	gint64 now = kith_gpio_now_ns ();

	kith_device_set_number (self->device, "Rate",
	                        kith_gpio_rate (self->rate_count, count, self->rate_ns, now),
	                        g_get_real_time ());
	self->rate_count = count;
	self->rate_ns = now;
	kith_device_emit_changed (self->device);
	return G_SOURCE_CONTINUE;
}

/* the chip and the offsets of the item's lines */
static gboolean
kith_gpio_item_resolve (KithGpioItem *self, GError **error)
{
	KithGpioItemConfig *config = self->config;
	guint first = 0;

	if (config->chip != NULL) {
		self->chip = kith_gpio_chip_open (config->chip, error);
	} else {
		self->chip =
		        kith_gpio_chip_open_by_line (config->lines[0], &self->offsets[0], error);
		first = 1;
	}
	if (self->chip == NULL)
		return FALSE;
	for (guint i = first; i < self->n_lines; i++) {
		if (kith_gpio_line_is_offset (config->lines[i], &self->offsets[i])) {
			if (self->offsets[i] >= kith_gpio_chip_get_num_lines (self->chip)) {
				g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
				             "GPIO chip %s has no line %u (it has %u)",
				             kith_gpio_chip_get_name (self->chip), self->offsets[i],
				             kith_gpio_chip_get_num_lines (self->chip));
				return FALSE;
			}
		} else if (!kith_gpio_chip_find_line (self->chip, config->lines[i],
		                                      &self->offsets[i], error)) {
			if (config->chip == NULL)
				g_prefix_error (error, "the lines of a group are on one chip: ");
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
kith_gpio_item_request (KithGpioItem *self, GError **error)
{
	KithGpioItemConfig *config = self->config;
	gint fds[KITH_GPIO_MAX_LINES];
	guint n_fds;

	if (config->direction == KITH_GPIO_OUTPUT) {
		for (guint i = 0; i < self->n_lines; i++)
			self->values[i] = config->initial ? 1 : 0;
		self->request = kith_gpio_request_output (self->chip, self->offsets, self->n_lines,
		                                          KITH_GPIO_CONSUMER, config->bias,
		                                          config->active_low, self->values, error);
		return self->request != NULL;
	}
	self->request = kith_gpio_request_input (self->chip, self->offsets, self->n_lines,
	                                         KITH_GPIO_CONSUMER, config->bias,
	                                         config->active_low, error);
	if (self->request == NULL)
		return FALSE;
	if (!kith_gpio_request_get_values (self->request, self->values, error))
		return FALSE;
	for (guint i = 0; i < self->n_lines; i++)
		kith_gpio_debounce_init (&self->debounce[i], (gint64)config->debounce_ms * 1000000,
		                         self->values[i] != 0);
	n_fds = kith_gpio_request_get_fds (self->request, fds, G_N_ELEMENTS (fds));
	for (guint i = 0; i < n_fds; i++)
		self->watches[self->n_watches++] = g_unix_fd_add (
		        fds[i], G_IO_IN | G_IO_ERR | G_IO_HUP, kith_gpio_item_event_cb, self);
	return TRUE;
}

gboolean
kith_gpio_item_open (KithGpioItem *self, GError **error)
{
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *lines = g_strjoinv (",", self->config->lines);

	if (self->request != NULL)
		return TRUE;
	if (!kith_gpio_item_resolve (self, &error_local) ||
	    !kith_gpio_item_request (self, &error_local)) {
		kith_gpio_item_close (self, error_local->message);
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	if (self->config->mode == KITH_GPIO_MODE_COUNTER) {
		self->rate_count = 0;
		self->rate_ns = kith_gpio_now_ns ();
		kith_device_set_number (self->device, "Rate", 0, g_get_real_time ());
		self->rate_id = g_timeout_add_seconds (self->config->rate_interval,
		                                       kith_gpio_item_rate_cb, self);
	}
	message = g_strdup_printf ("%s line%s %s on %s (%s)",
	                           self->config->direction == KITH_GPIO_OUTPUT ? "output" : "input",
	                           self->n_lines > 1 ? "s" : "", lines,
	                           kith_gpio_chip_get_name (self->chip),
	                           kith_gpio_chip_get_label (self->chip));
	if (kith_device_find_field (self->device, "Pulse") != NULL) {
		KithValue value = { .type = KITH_VALUE_INT,
			            .valid = TRUE,
			            .timestamp = g_get_real_time () };
		kith_device_set_value (self->device, "Pulse", &value);
	}
	kith_gpio_item_log (self, G_LOG_LEVEL_INFO, message);
	kith_gpio_item_publish (self, g_get_real_time ());
	kith_device_set_answering (self->device, TRUE, NULL);
	return TRUE;
}

void
kith_gpio_item_close (KithGpioItem *self, const gchar *reason)
{
	gboolean was_open = self->request != NULL;

	for (guint i = 0; i < self->n_watches; i++)
		g_source_remove (self->watches[i]);
	self->n_watches = 0;
	g_clear_handle_id (&self->settle_id, g_source_remove);
	g_clear_handle_id (&self->rate_id, g_source_remove);
	g_clear_handle_id (&self->pulse_id, g_source_remove);
	g_clear_pointer (&self->request, kith_gpio_request_release);
	g_clear_pointer (&self->chip, kith_gpio_chip_close);
	if (reason == NULL)
		return;
	if (kith_device_is_answering (self->device))
		kith_gpio_item_log (self, G_LOG_LEVEL_WARNING, reason);
	kith_device_set_answering (self->device, FALSE, reason);
	if (was_open && self->closed_func != NULL)
		self->closed_func (self, self->closed_data);
}

gboolean
kith_gpio_item_refresh (KithGpioItem *self, GError **error)
{
	gint levels[KITH_GPIO_MAX_LINES];
	gint64 now = g_get_real_time ();

	if (self->request == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "%s does not answer: %s",
		             kith_device_get_id (self->device),
		             kith_device_get_silent_reason (self->device));
		return FALSE;
	}
	if (!kith_gpio_request_get_values (self->request, levels, error)) {
		kith_gpio_item_close (self, (*error)->message);
		return FALSE;
	}
	/* an input's value is what its events said (debounced); the read proves the line is
	 * there and dates the values */
	kith_gpio_item_publish (self, now);
	return TRUE;
}

static gboolean
kith_gpio_item_pulse_end_cb (gpointer user_data)
{
	KithGpioItem *self = user_data;
	g_autoptr (GError) error = NULL;
	KithValue value = { .type = KITH_VALUE_INT,
		            .valid = TRUE,
		            .timestamp = g_get_real_time () };

	self->pulse_id = 0;
	self->values[0] = 0;
	if (!kith_gpio_request_set_values (self->request, self->values, &error)) {
		kith_gpio_item_close (self, error->message);
		return G_SOURCE_REMOVE;
	}
	kith_device_set_value (self->device, "Pulse", &value);
	kith_gpio_item_publish (self, value.timestamp);
	return G_SOURCE_REMOVE;
}

gboolean
kith_gpio_item_write (KithGpioItem *self, GPtrArray *params, GError **error)
{
	gint values[KITH_GPIO_MAX_LINES];
	gint64 pulse_ms = 0;

	if (self->config->direction != KITH_GPIO_OUTPUT) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "%s has nothing writable",
		             kith_device_get_id (self->device));
		return FALSE;
	}
	if (self->request == NULL)
		return kith_gpio_item_refresh (self, error);
	memcpy (values, self->values, sizeof (values));
	for (guint i = 0; i < params->len; i++) {
		KithParam *param = g_ptr_array_index (params, i);
		if (g_strcmp0 (param->name, "Pulse") == 0) {
			pulse_ms = param->value.integer;
			continue;
		}
		for (guint j = 0; j < self->n_lines; j++) {
			if (g_strcmp0 (param->name, self->config->fields[j]) == 0)
				values[j] = param->value.boolean ? 1 : 0;
		}
	}
	if (pulse_ms > 0)
		values[0] = 1;
	if (!kith_gpio_request_set_values (self->request, values, error)) {
		kith_gpio_item_close (self, (*error)->message);
		return FALSE;
	}
	memcpy (self->values, values, sizeof (values));
	g_clear_handle_id (&self->pulse_id, g_source_remove);
	if (pulse_ms > 0) {
		KithValue value = { .type = KITH_VALUE_INT,
			            .valid = TRUE,
			            .integer = pulse_ms,
			            .timestamp = g_get_real_time () };
		kith_device_set_value (self->device, "Pulse", &value);
		self->pulse_id = g_timeout_add ((guint)pulse_ms, kith_gpio_item_pulse_end_cb, self);
	}
	kith_gpio_item_publish (self, g_get_real_time ());
	return TRUE;
}
