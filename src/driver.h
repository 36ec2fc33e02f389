/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "device.h"

G_BEGIN_DECLS

#define KITH_TYPE_DRIVER (kith_driver_get_type ())
G_DECLARE_DERIVABLE_TYPE (KithDriver, kith_driver, KITH, DRIVER, GObject)

/* called on the main loop once a read finished; on success the device holds the new values */
typedef void (*KithReadFunc) (KithDevice *device, const GError *error, gpointer user_data);
typedef void (*KithWriteFunc) (KithDevice *device, const GError *error, gpointer user_data);

struct _KithDriverClass {
	GObjectClass parent_class;
	/* parse the driver's keys of [bus:NAME] and create the devices it knows of */
	gboolean (*setup) (KithDriver *self, GKeyFile *keyfile, const gchar *group, GError **error);
	gboolean (*start) (KithDriver *self, GError **error);
	void (*read) (KithDriver *self, KithDevice *device, KithReadFunc done, gpointer user_data);
	/* params: KithParam, validated against the device's fields, applied in order */
	void (*write) (KithDriver *self, KithDevice *device, GPtrArray *params, KithWriteFunc done,
	               gpointer user_data);
	void (*stop) (KithDriver *self);
	/* the config keys the driver accepts in its group, NULL-terminated */
	const gchar *const *keys;
};

/* the drivers compiled in */
const gchar *const *kith_driver_names (void);
KithDriver *kith_driver_new (const gchar *driver_name, const gchar *bus_name, GError **error);
const gchar *const *kith_driver_get_keys (KithDriver *self);

const gchar *kith_driver_get_bus_name (KithDriver *self);
GPtrArray *kith_driver_get_devices (KithDriver *self);
/* for subclasses: takes a reference */
void kith_driver_add_device (KithDriver *self, KithDevice *device);

gboolean kith_driver_setup (KithDriver *self, GKeyFile *keyfile, const gchar *group,
                            GError **error);
gboolean kith_driver_start (KithDriver *self, GError **error);
void kith_driver_read (KithDriver *self, KithDevice *device, KithReadFunc done, gpointer user_data);
void kith_driver_write (KithDriver *self, KithDevice *device, GPtrArray *params, KithWriteFunc done,
                        gpointer user_data);
void kith_driver_stop (KithDriver *self);

G_END_DECLS
