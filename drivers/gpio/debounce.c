/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "debounce.h"

void
kith_gpio_debounce_init (KithGpioDebounce *self, gint64 period_ns, gboolean level)
{
	*self = (KithGpioDebounce){ 0 };
	self->period_ns = MAX (period_ns, 0);
	self->stable = level;
	self->last_level = level;
}

static void
kith_gpio_debounce_accept (KithGpioDebounce *self, gboolean level)
{
	if (level == self->stable)
		return;
	self->stable = level;
	if (level)
		self->rising++;
	else
		self->falling++;
}

gboolean
kith_gpio_debounce_edge (KithGpioDebounce *self, gboolean level, gint64 t_ns)
{
	self->last_level = level;
	self->last_edge_ns = t_ns;
	if (self->period_ns == 0) {
		gboolean before = self->stable;
		/* an edge the kernel dropped in between: two of the same kind are two changes */
		if (level == self->stable) {
			kith_gpio_debounce_accept (self, !level);
			kith_gpio_debounce_accept (self, level);
			return TRUE;
		}
		kith_gpio_debounce_accept (self, level);
		return before != self->stable;
	}
	self->pending = TRUE;
	return FALSE;
}

gint64
kith_gpio_debounce_deadline (KithGpioDebounce *self)
{
	return self->pending ? self->last_edge_ns + self->period_ns : 0;
}

gboolean
kith_gpio_debounce_settle (KithGpioDebounce *self, gint64 now_ns, gboolean level, gint64 *when_ns)
{
	gboolean before = self->stable;

	if (!self->pending || now_ns < self->last_edge_ns + self->period_ns)
		return FALSE;
	self->pending = FALSE;
	kith_gpio_debounce_accept (self, level);
	if (when_ns != NULL)
		*when_ns = self->last_edge_ns;
	return before != self->stable;
}

gdouble
kith_gpio_rate (guint64 count_then, guint64 count_now, gint64 then_ns, gint64 now_ns)
{
	if (now_ns <= then_ns || count_now < count_then)
		return 0;
	return (gdouble)(count_now - count_then) * 1e9 / (gdouble)(now_ns - then_ns);
}
