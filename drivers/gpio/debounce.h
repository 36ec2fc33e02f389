/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Software debounce on the kernel's edge timestamps (the v1 uAPI has no debounce of its own).
 * A level is accepted once the line held it for the whole period after its last edge: edges
 * closer together than the period are bounces. With a period of 0 every edge is a change.
 * Pure: the caller reads events, runs the settle timer and passes the times in.
 */
typedef struct {
	gint64 period_ns;
	gboolean stable;     /* the accepted (debounced) level */
	gboolean pending;    /* an edge arrived since the last accepted level */
	gboolean last_level; /* the level of the last edge */
	gint64 last_edge_ns; /* the time of the last edge */
	guint64 rising;      /* accepted changes to the active level */
	guint64 falling;     /* accepted changes to the inactive level */
} KithGpioDebounce;

void kith_gpio_debounce_init (KithGpioDebounce *self, gint64 period_ns, gboolean level);
/* an edge to level at time t; returns TRUE if the level changed at once (a period of 0),
 * FALSE if the caller waits until kith_gpio_debounce_deadline () and settles then */
gboolean kith_gpio_debounce_edge (KithGpioDebounce *self, gboolean level, gint64 t_ns);
/* when the pending level can be settled (0: nothing pending) */
gint64 kith_gpio_debounce_deadline (KithGpioDebounce *self);
/* at time now, with the line's current level: TRUE if the stable level changed (then *when
 * is the time of the edge that started the new level) */
gboolean kith_gpio_debounce_settle (KithGpioDebounce *self, gint64 now_ns, gboolean level,
                                    gint64 *when_ns);

/* pulses per second over an interval: count difference / elapsed, 0 for no time */
gdouble kith_gpio_rate (guint64 count_then, guint64 count_now, gint64 then_ns, gint64 now_ns);

G_END_DECLS
