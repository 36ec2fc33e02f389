/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The GPIO character device as the driver sees it. Every libgpiod call is behind this header,
 * in one file per libgpiod API: gpiod-v1.c (libgpiod 1.6, Debian and Raspberry Pi OS
 * bookworm); a port to the v2 API (trixie) is one more file with the same functions.
 */

typedef struct _KithGpioChip KithGpioChip;
typedef struct _KithGpioRequest KithGpioRequest;

typedef enum {
	KITH_GPIO_BIAS_AS_IS,
	KITH_GPIO_BIAS_DISABLE,
	KITH_GPIO_BIAS_PULL_UP,
	KITH_GPIO_BIAS_PULL_DOWN,
} KithGpioBias;

typedef struct {
	guint line;          /* index of the line in its request */
	gboolean rising;     /* to the active level (active-low already applied) */
	gint64 timestamp_ns; /* the kernel's timestamp, CLOCK_MONOTONIC */
} KithGpioEvent;

/* spec: a path (/dev/gpiochip0), a name (gpiochip0) or a label (pinctrl-rp1) */
KithGpioChip *kith_gpio_chip_open (const gchar *spec, GError **error);
/* the chip that has a line of this name, searching every chip; offset: the line's */
KithGpioChip *kith_gpio_chip_open_by_line (const gchar *line_name, guint *offset, GError **error);
void kith_gpio_chip_close (KithGpioChip *chip);
const gchar *kith_gpio_chip_get_name (KithGpioChip *chip);
const gchar *kith_gpio_chip_get_label (KithGpioChip *chip);
guint kith_gpio_chip_get_num_lines (KithGpioChip *chip);
/* the offset of a named line of this chip */
gboolean kith_gpio_chip_find_line (KithGpioChip *chip, const gchar *name, guint *offset,
                                   GError **error);

/* inputs with edge events on both edges */
KithGpioRequest *kith_gpio_request_input (KithGpioChip *chip, const guint *offsets, guint n,
                                          const gchar *consumer, KithGpioBias bias,
                                          gboolean active_low, GError **error);
KithGpioRequest *kith_gpio_request_output (KithGpioChip *chip, const guint *offsets, guint n,
                                           const gchar *consumer, KithGpioBias bias,
                                           gboolean active_low, const gint *values, GError **error);
void kith_gpio_request_release (KithGpioRequest *request);
/* the file descriptors to watch for events (v1: one per line, v2: one per request) */
guint kith_gpio_request_get_fds (KithGpioRequest *request, gint *fds, guint max);
/* the events pending on fd (never blocks); returns how many were read, -1 on error */
gint kith_gpio_request_read_events (KithGpioRequest *request, gint fd, KithGpioEvent *events,
                                    guint max, GError **error);
/* logical values (active-low applied), one per line of the request */
gboolean kith_gpio_request_get_values (KithGpioRequest *request, gint *values, GError **error);
gboolean kith_gpio_request_set_values (KithGpioRequest *request, const gint *values,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithGpioChip, kith_gpio_chip_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithGpioRequest, kith_gpio_request_release)

G_END_DECLS
