/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "discovery.h"
#include "driver.h"
#include "link.h"
#include "unit.h"

G_BEGIN_DECLS

/*
 * The bus's scheduler, on the main loop: one request at a time goes to the worker thread, the
 * most urgent first: writes, then reads a friend asked for, then the polls and probes that are
 * due (earliest first, a unit's requests kept together), then, when the line has time, the
 * discovery sweep. Nothing runs while nothing is due: one timer for the next due time.
 */

typedef struct _KithModbusPoller KithModbusPoller;

/* a unit answered the sweep; identity is owned by the caller */
typedef void (*KithModbusFoundFunc) (guint8 unit, KithModbusIdentity *identity, gpointer user_data);

typedef struct {
	KithModbusQuirks quirks;   /* the bus's: pauses of requests not meant for a unit */
	KithModbusBackoff backoff; /* units' probes and the line's reopening */
	gint64 discover_timeout;   /* response timeout of a sweep probe, microseconds */
} KithModbusPollerSettings;

KithModbusPoller *kith_modbus_poller_new (const gchar *bus_name, KithWorker *worker,
                                          KithModbusLink *link,
                                          const KithModbusPollerSettings *settings);
void kith_modbus_poller_free (KithModbusPoller *self);

/* takes unit */
void kith_modbus_poller_add_unit (KithModbusPoller *self, KithModbusUnit *unit);
KithModbusUnit *kith_modbus_poller_find_unit (KithModbusPoller *self, guint8 id);
GPtrArray *kith_modbus_poller_get_units (KithModbusPoller *self);
/* takes discovery */
void kith_modbus_poller_set_discovery (KithModbusPoller *self, KithModbusDiscovery *discovery,
                                       KithModbusDiscoverySkipFunc skip, KithModbusFoundFunc found,
                                       gpointer user_data);

void kith_modbus_poller_start (KithModbusPoller *self);
/* pending reads and writes fail; no request is sent any more */
void kith_modbus_poller_stop (KithModbusPoller *self);

void kith_modbus_poller_read (KithModbusPoller *self, KithModbusUnit *unit, KithReadFunc done,
                              gpointer user_data);
void kith_modbus_poller_write (KithModbusPoller *self, KithModbusUnit *unit, GPtrArray *params,
                               KithWriteFunc done, gpointer user_data);

G_END_DECLS
