/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "device.h"
#include "driver.h"
#include "history.h"
#include "store.h"

G_BEGIN_DECLS

/*
 * Every device of every bus, and its life: known (remembered from an earlier run, not
 * confirmed by its bus yet) -> present -> answering <-> not answering -> gone.
 *
 * A bus joins with its driver; from then on each device the driver adds (at setup or at any
 * time later) is admitted here or refused (an id another bus uses, MaxDevices reached: one
 * log line each), remembered in the store (id, bus, the driver's key, fields and units, last
 * values, first and last seen), and handed to whoever gives devices their identities. A device
 * leaves only when its bus says it is gone, or when its bus leaves the configuration.
 */
typedef struct _KithDeviceList KithDeviceList;

typedef struct {
	void (*added) (KithDevice *device, gpointer user_data);
	void (*removed) (KithDevice *device, gpointer user_data);
	/* a reload: the device's object is now another one with the same id (the identity stays) */
	void (*replaced) (KithDevice *old_device, KithDevice *device, gpointer user_data);
} KithDeviceListCallbacks;

/* when MaxDevices= is not set: this, or the number of devices the bus's own configuration
 * names when that is more */
#define KITH_DEVICE_LIST_MAX_DEVICES 1000

KithDeviceList *kith_device_list_new (const KithDeviceListCallbacks *callbacks, gpointer user_data);
void kith_device_list_free (KithDeviceList *self);

/* a bus joins before its driver's setup, so that its devices are admitted here.
 * max_devices: MaxDevices=, 0 when not set */
void kith_device_list_add_bus (KithDeviceList *self, KithDriver *driver, guint max_devices);
/* after the driver's setup: the default limit counts the devices its configuration names */
void kith_device_list_bus_ready (KithDeviceList *self, KithDriver *driver);
/* a bus leaves: its devices go (removed for each); forget: also from the store (the bus left
 * the configuration), else they stay known (kithd stops) */
void kith_device_list_remove_bus (KithDeviceList *self, KithDriver *driver, gboolean forget);

/* a reload changed a bus: the new driver (before its setup) takes over the devices of the old
 * one with the same ids (::replaced), then kith_device_list_replaced () lets the old one go
 * with what the new one does not have */
void kith_device_list_replace_bus (KithDeviceList *self, KithDriver *old_driver,
                                   KithDriver *new_driver, guint max_devices);
void kith_device_list_replaced (KithDeviceList *self, KithDriver *old_driver);

/* from now on devices are remembered: what the buses set up is written, what the store knows
 * of buses that are gone is forgotten, and the known devices of discovering buses come back
 * (not answering until their bus confirms them) */
void kith_device_list_open (KithDeviceList *self, KithStore *store);
/* the known devices of one discovering bus come back (after a reload added the bus) */
void kith_device_list_restore (KithDeviceList *self, KithDriver *driver);
/* writes what changed since the last time (last values, last seen) in one transaction */
void kith_device_list_flush (KithDeviceList *self);

/* from now on every reading of every device is kept there */
void kith_device_list_set_history (KithDeviceList *self, KithHistory *history);
/* a trial of a configuration (a reload checks it first): refusals are not logged */
void kith_device_list_set_quiet (KithDeviceList *self, gboolean quiet);
/* told when two buses want the same device id (the second is refused) */
typedef void (*KithDeviceListClashFunc) (const gchar *message, gpointer user_data);
void kith_device_list_set_clash_func (KithDeviceList *self, KithDeviceListClashFunc func,
                                      gpointer user_data);

KithDevice *kith_device_list_find (KithDeviceList *self, const gchar *id);
/* every device, in the order they came (a new array with references) */
GPtrArray *kith_device_list_get_devices (KithDeviceList *self);
guint kith_device_list_get_count (KithDeviceList *self);

G_END_DECLS
