/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "device.h"
#include "worker.h"

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
	/* optional: what kithd --check-config prints about the bus beyond its devices (the
	 * profiles a Modbus bus can use, the chips an I2C scan knows); lines indented by two */
	void (*describe) (KithDriver *self, GString *out);
	/* the config keys the driver accepts in its group, NULL-terminated (Driver and MaxDevices
	 * are the core's and always accepted) */
	const gchar *const *keys;
	/* the keys of its [bus:NAME:ITEM] groups (NULL: the driver takes no such groups); an entry
	 * with '*' is a pattern (g_pattern_match_simple: "*.Unit" accepts "Temperature.Unit"); the
	 * driver finds them with g_key_file_get_groups () and the "bus:NAME:" prefix */
	const gchar *const *item_keys;
	/* TRUE for a driver that finds its devices on the bus at runtime (MQTT discovery, a Modbus
	 * sweep, an I2C scan): the devices it announced in earlier runs are given back to it
	 * (kith_driver_add_device before start, not answering, with their key, fields and last
	 * values, but none of the driver's own data) until the bus confirms them, so their
	 * identities and friendships hold across a restart or an outage of the bus */
	gboolean discovers;
};

/*
 * Devices come and go. A driver adds a device during setup or at any time after start, and
 * removes it when the bus says it is gone; the core may refuse a device (an id another bus
 * uses, MaxDevices reached): kith_driver_add_device then returns FALSE and the driver drops it.
 * ::device-added and ::device-removed (both with the KithDevice) tell the core.
 */
typedef gboolean (*KithDriverAdmitFunc) (KithDriver *driver, KithDevice *device,
                                         gpointer user_data);

/* the drivers compiled in */
const gchar *const *kith_driver_names (void);
KithDriver *kith_driver_new (const gchar *driver_name, const gchar *bus_name, GError **error);
const gchar *const *kith_driver_get_keys (KithDriver *self);
const gchar *const *kith_driver_get_item_keys (KithDriver *self);

const gchar *kith_driver_get_bus_name (KithDriver *self);
GPtrArray *kith_driver_get_devices (KithDriver *self);
KithDevice *kith_driver_find_device (KithDriver *self, const gchar *id);
KithDevice *kith_driver_find_device_by_key (KithDriver *self, const gchar *key);
/* takes a reference when admitted; FALSE if the core refused the device (already logged) */
gboolean kith_driver_add_device (KithDriver *self, KithDevice *device);
/* the bus says the device is gone: friends are told, the identity ends */
void kith_driver_remove_device (KithDriver *self, KithDevice *device);
/* the core's admission check, called by kith_driver_add_device */
void kith_driver_set_admission (KithDriver *self, KithDriverAdmitFunc admit, gpointer user_data);
gboolean kith_driver_discovers (KithDriver *self);
/* for a driver whose configuration decides whether it discovers (call in setup) */
void kith_driver_set_discovers (KithDriver *self, gboolean discovers);
/* the bus's thread for blocking I/O, made on first use and ended with the driver (its jobs are
 * cancelled on stop) */
KithWorker *kith_driver_get_worker (KithDriver *self);

gboolean kith_driver_setup (KithDriver *self, GKeyFile *keyfile, const gchar *group,
                            GError **error);
gboolean kith_driver_start (KithDriver *self, GError **error);
void kith_driver_read (KithDriver *self, KithDevice *device, KithReadFunc done, gpointer user_data);
void kith_driver_write (KithDriver *self, KithDevice *device, GPtrArray *params, KithWriteFunc done,
                        gpointer user_data);
void kith_driver_stop (KithDriver *self);
void kith_driver_describe (KithDriver *self, GString *out);

G_END_DECLS
