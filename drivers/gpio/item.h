/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "device.h"
#include "gpio-config.h"

G_BEGIN_DECLS

/*
 * One configured line or group of lines and its device: requests the lines, watches their
 * event fds on the main loop, debounces, counts, and drives outputs and their pulses.
 */
typedef struct _KithGpioItem KithGpioItem;

/* takes config; device: the item's device (a reference is taken) */
KithGpioItem *kith_gpio_item_new (KithGpioItemConfig *config, KithDevice *device);
void kith_gpio_item_free (KithGpioItem *self);
KithDevice *kith_gpio_item_get_device (KithGpioItem *self);
KithGpioItemConfig *kith_gpio_item_get_config (KithGpioItem *self);
/* requests the lines; on failure the device does not answer, with the reason */
gboolean kith_gpio_item_open (KithGpioItem *self, GError **error);
void kith_gpio_item_close (KithGpioItem *self, const gchar *reason);
gboolean kith_gpio_item_is_open (KithGpioItem *self);
/* reads the lines again (a readout); on failure the item is closed */
gboolean kith_gpio_item_refresh (KithGpioItem *self, GError **error);
/* params: KithParam, validated against the device's fields */
gboolean kith_gpio_item_write (KithGpioItem *self, GPtrArray *params, GError **error);
/* the fields of a device for this configuration */
void kith_gpio_item_add_fields (KithGpioItemConfig *config, KithDevice *device);
/* called when the item closed itself (its chip went away) */
void kith_gpio_item_set_closed_func (KithGpioItem *self, GFunc func, gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithGpioItem, kith_gpio_item_free)

G_END_DECLS
