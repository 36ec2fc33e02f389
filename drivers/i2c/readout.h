/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "chips.h"
#include "device.h"
#include "worker.h"

G_BEGIN_DECLS

/*
 * One chip at one address and its device: readouts run as steps on the bus's worker thread,
 * with the waits a chip needs between them (a conversion) on main-loop timers. A chip that
 * does not answer makes its device not answering; the next readout that succeeds brings it
 * back (the chip is identified and configured again first).
 */
typedef struct _KithI2cReadout KithI2cReadout;

typedef void (*KithI2cReadoutDone) (KithDevice *device, const GError *error, gpointer user_data);

KithI2cReadout *kith_i2c_readout_new (KithDevice *device, const KithI2cChip *chip, guint adapter,
                                      guint address);
KithI2cReadout *kith_i2c_readout_ref (KithI2cReadout *self);
void kith_i2c_readout_unref (KithI2cReadout *self);
KithDevice *kith_i2c_readout_get_device (KithI2cReadout *self);
/* starts a readout on worker (or joins the one running); done: NULL for a poll */
void kith_i2c_readout_run (KithI2cReadout *self, KithWorker *worker, KithI2cReadoutDone done,
                           gpointer user_data);
/* no more timers or device updates (the bus stops) */
void kith_i2c_readout_stop (KithI2cReadout *self);
/* the device's fields for a chip */
void kith_i2c_readout_add_fields (const KithI2cChip *chip, KithDevice *device);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithI2cReadout, kith_i2c_readout_unref)

G_END_DECLS
