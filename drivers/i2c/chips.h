/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "adapter.h"
#include "compensate.h"

G_BEGIN_DECLS

#define KITH_I2C_MAX_FIELDS 4

typedef struct {
	const gchar *name;
	const gchar *unit;
	guint decimals;
	gdouble presence_step;
} KithI2cFieldSpec;

/* what one chip at one address needs between readouts; only the bus's worker touches it */
typedef struct {
	guint adapter;
	guint address;
	gboolean ready; /* identified again and configured since the last failure */
	union {
		KithBme280Calibration bme280;
	} calibration;
} KithI2cState;

typedef struct {
	gdouble values[KITH_I2C_MAX_FIELDS];
} KithI2cReading;

/* one step of a readout, on the worker thread: returns the milliseconds to wait before the
 * next step (the main loop waits, not the worker), 0 once reading is filled, -1 on error */
typedef gint (*KithI2cStepFunc) (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                                 KithI2cReading *reading, GError **error);

typedef struct {
	const gchar *name;         /* the id's last part and the Addresses= name */
	const gchar *model;        /* XEP-0347 MODEL */
	const gchar *manufacturer; /* XEP-0347 MAN */
	const guint8 *addresses;   /* where the chip can be, 0-terminated */
	/* the chip-id check, run on an address that answered a scan; NULL: the chip has no id
	 * registers and is only used where Addresses= names it */
	gboolean (*identify) (KithI2cAdapter *adapter, GError **error);
	const KithI2cFieldSpec *fields; /* NULL-named end */
	KithI2cStepFunc step;           /* NULL: identified, but kith has no driver for it */
} KithI2cChip;

/* every chip kith knows, in the order a scan tries them */
const KithI2cChip *const *kith_i2c_chips (void);
const KithI2cChip *kith_i2c_chip_find (const gchar *name);
/* the names of the chips kith can read (for Addresses= and the messages) */
const gchar *const *kith_i2c_chip_names (void);
gboolean kith_i2c_chip_can_live_at (const KithI2cChip *chip, guint address);
/* the chip a scan found at an address that answered: the first whose id registers match;
 * NULL if none (an unknown chip: listed, never guessed) */
const KithI2cChip *kith_i2c_chip_identify (KithI2cAdapter *adapter, guint address);

G_END_DECLS
