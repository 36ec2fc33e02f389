/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chip.h on libgpiod 1.6 (the v1 API): every libgpiod call of the driver is in this file */
#define G_LOG_DOMAIN "kith-gpio"

#include "chip.h"

#include <errno.h>
#include <gpiod.h>
#include <string.h>

#include "kith-error.h"

struct _KithGpioChip {
	struct gpiod_chip *chip;
};

struct _KithGpioRequest {
	struct gpiod_line_bulk bulk;
	gboolean events;
};

/* the one place errno from libgpiod becomes an error */
static void kith_gpio_set_errno (GError **error, gint code, const gchar *format, ...)
        G_GNUC_PRINTF (3, 4);

static void
kith_gpio_set_errno (GError **error, gint code, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *what = NULL;
	const gchar *hint = "";

	va_start (args, format);
	what = g_strdup_vprintf (format, args);
	va_end (args);
	if (code == EBUSY)
		hint = " (the line is used by another program or a kernel driver)";
	else if (code == EACCES || code == EPERM)
		hint = " (no permission: add the user to the gpio group)";
	g_set_error (error, KITH_ERROR, code == ENOENT ? KITH_ERROR_NOT_FOUND : KITH_ERROR_BUS,
	             "%s: %s%s", what, g_strerror (code), hint);
}

static KithGpioChip *
kith_gpio_chip_wrap (struct gpiod_chip *chip)
{
	KithGpioChip *self = g_new0 (KithGpioChip, 1);
	self->chip = chip;
	return self;
}

KithGpioChip *
kith_gpio_chip_open (const gchar *spec, GError **error)
{
	struct gpiod_chip_iter *iter;
	struct gpiod_chip *chip;

	if (spec[0] == '/') {
		chip = gpiod_chip_open (spec);
		if (chip == NULL) {
			kith_gpio_set_errno (error, errno, "GPIO chip %s", spec);
			return NULL;
		}
		return kith_gpio_chip_wrap (chip);
	}
	iter = gpiod_chip_iter_new ();
	if (iter == NULL) {
		kith_gpio_set_errno (error, errno, "listing the GPIO chips");
		return NULL;
	}
	gpiod_foreach_chip_noclose (iter, chip)
	{
		if (g_strcmp0 (gpiod_chip_name (chip), spec) == 0 ||
		    g_strcmp0 (gpiod_chip_label (chip), spec) == 0) {
			gpiod_chip_iter_free_noclose (iter);
			return kith_gpio_chip_wrap (chip);
		}
		gpiod_chip_close (chip);
	}
	gpiod_chip_iter_free_noclose (iter);
	g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND, "no GPIO chip named or labelled '%s'",
	             spec);
	return NULL;
}

KithGpioChip *
kith_gpio_chip_open_by_line (const gchar *line_name, guint *offset, GError **error)
{
	struct gpiod_chip_iter *iter = gpiod_chip_iter_new ();
	struct gpiod_chip *chip;

	if (iter == NULL) {
		kith_gpio_set_errno (error, errno, "listing the GPIO chips");
		return NULL;
	}
	gpiod_foreach_chip_noclose (iter, chip)
	{
		struct gpiod_line *line = gpiod_chip_find_line (chip, line_name);
		if (line != NULL) {
			*offset = gpiod_line_offset (line);
			gpiod_chip_iter_free_noclose (iter);
			return kith_gpio_chip_wrap (chip);
		}
		gpiod_chip_close (chip);
	}
	gpiod_chip_iter_free_noclose (iter);
	g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND, "no GPIO line named '%s'", line_name);
	return NULL;
}

void
kith_gpio_chip_close (KithGpioChip *chip)
{
	if (chip == NULL)
		return;
	gpiod_chip_close (chip->chip);
	g_free (chip);
}

const gchar *
kith_gpio_chip_get_name (KithGpioChip *chip)
{
	return gpiod_chip_name (chip->chip);
}

const gchar *
kith_gpio_chip_get_label (KithGpioChip *chip)
{
	return gpiod_chip_label (chip->chip);
}

guint
kith_gpio_chip_get_num_lines (KithGpioChip *chip)
{
	return gpiod_chip_num_lines (chip->chip);
}

gboolean
kith_gpio_chip_find_line (KithGpioChip *chip, const gchar *name, guint *offset, GError **error)
{
	struct gpiod_line *line = gpiod_chip_find_line (chip->chip, name);
	if (line == NULL) {
		if (errno == ENOENT)
			g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
			             "GPIO chip %s has no line named '%s'",
			             gpiod_chip_name (chip->chip), name);
		else
			kith_gpio_set_errno (error, errno, "GPIO chip %s, line '%s'",
			                     gpiod_chip_name (chip->chip), name);
		return FALSE;
	}
	*offset = gpiod_line_offset (line);
	return TRUE;
}

static gint
kith_gpio_flags (KithGpioBias bias, gboolean active_low)
{
	gint flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
	switch (bias) {
	case KITH_GPIO_BIAS_AS_IS:
		break;
	case KITH_GPIO_BIAS_DISABLE:
		flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
		break;
	case KITH_GPIO_BIAS_PULL_UP:
		flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
		break;
	case KITH_GPIO_BIAS_PULL_DOWN:
		flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
		break;
	}
	return flags;
}

static KithGpioRequest *
kith_gpio_request (KithGpioChip *chip, const guint *offsets, guint n, const gchar *consumer,
                   gint type, gint flags, const gint *values, GError **error)
{
	g_autofree KithGpioRequest *self = g_new0 (KithGpioRequest, 1);
	struct gpiod_line_request_config config = {
		.consumer = consumer,
		.request_type = type,
		.flags = flags,
	};

	if (n == 0 || n > GPIOD_LINE_BULK_MAX_LINES) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "%u lines in one request", n);
		return NULL;
	}
	gpiod_line_bulk_init (&self->bulk);
	for (guint i = 0; i < n; i++) {
		struct gpiod_line *line = gpiod_chip_get_line (chip->chip, offsets[i]);
		if (line == NULL) {
			kith_gpio_set_errno (error, errno, "GPIO chip %s, line %u",
			                     gpiod_chip_name (chip->chip), offsets[i]);
			return NULL;
		}
		gpiod_line_bulk_add (&self->bulk, line);
	}
	if (gpiod_line_request_bulk (&self->bulk, &config, values) < 0) {
		kith_gpio_set_errno (error, errno, "GPIO chip %s, requesting line %u%s",
		                     gpiod_chip_name (chip->chip), offsets[0],
		                     n > 1 ? " and the others of the group" : "");
		return NULL;
	}
	self->events = type == GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
	return g_steal_pointer (&self);
}

KithGpioRequest *
kith_gpio_request_input (KithGpioChip *chip, const guint *offsets, guint n, const gchar *consumer,
                         KithGpioBias bias, gboolean active_low, GError **error)
{
	return kith_gpio_request (chip, offsets, n, consumer, GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES,
	                          kith_gpio_flags (bias, active_low), NULL, error);
}

KithGpioRequest *
kith_gpio_request_output (KithGpioChip *chip, const guint *offsets, guint n, const gchar *consumer,
                          KithGpioBias bias, gboolean active_low, const gint *values,
                          GError **error)
{
	return kith_gpio_request (chip, offsets, n, consumer, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT,
	                          kith_gpio_flags (bias, active_low), values, error);
}

void
kith_gpio_request_release (KithGpioRequest *request)
{
	if (request == NULL)
		return;
	gpiod_line_release_bulk (&request->bulk);
	g_free (request);
}

guint
kith_gpio_request_get_fds (KithGpioRequest *request, gint *fds, guint max)
{
	guint n = 0;
	if (!request->events)
		return 0;
	for (guint i = 0; i < request->bulk.num_lines && n < max; i++)
		fds[n++] = gpiod_line_event_get_fd (request->bulk.lines[i]);
	return n;
}

gint
kith_gpio_request_read_events (KithGpioRequest *request, gint fd, KithGpioEvent *events, guint max,
                               GError **error)
{
	struct gpiod_line_event buffer[16];
	struct gpiod_line *line = NULL;
	guint index = 0;
	gint n;

	for (guint i = 0; i < request->bulk.num_lines; i++) {
		if (gpiod_line_event_get_fd (request->bulk.lines[i]) == fd) {
			line = request->bulk.lines[i];
			index = i;
		}
	}
	if (line == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "fd %d is not an event fd", fd);
		return -1;
	}
	n = gpiod_line_event_read_multiple (line, buffer, MIN (max, G_N_ELEMENTS (buffer)));
	if (n < 0) {
		kith_gpio_set_errno (error, errno, "reading events of line %u",
		                     gpiod_line_offset (line));
		return -1;
	}
	for (gint i = 0; i < n; i++) {
		events[i].line = index;
		events[i].rising = buffer[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;
		events[i].timestamp_ns =
		        (gint64)buffer[i].ts.tv_sec * G_GINT64_CONSTANT (1000000000) +
		        buffer[i].ts.tv_nsec;
	}
	return n;
}

gboolean
kith_gpio_request_get_values (KithGpioRequest *request, gint *values, GError **error)
{
	if (gpiod_line_get_value_bulk (&request->bulk, values) < 0) {
		kith_gpio_set_errno (error, errno, "reading line %u",
		                     gpiod_line_offset (request->bulk.lines[0]));
		return FALSE;
	}
	return TRUE;
}

gboolean
kith_gpio_request_set_values (KithGpioRequest *request, const gint *values, GError **error)
{
	if (gpiod_line_set_value_bulk (&request->bulk, (gint *)values) < 0) {
		kith_gpio_set_errno (error, errno, "setting line %u",
		                     gpiod_line_offset (request->bulk.lines[0]));
		return FALSE;
	}
	return TRUE;
}
