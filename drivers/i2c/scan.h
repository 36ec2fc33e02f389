/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the addresses a scan probes: 0x00-0x07 and 0x78-0x7F are reserved by the I2C specification */
#define KITH_I2C_FIRST_ADDRESS 0x08
#define KITH_I2C_LAST_ADDRESS 0x77

/* how an address is probed, by i2cdetect's rules */
typedef enum {
	KITH_I2C_PROBE_NONE,         /* not probed: reserved, or the adapter cannot do it */
	KITH_I2C_PROBE_QUICK_WRITE,  /* most addresses: a read can lock up write-only chips */
	KITH_I2C_PROBE_RECEIVE_BYTE, /* 0x30-0x37, 0x50-0x5F: a quick write can corrupt EEPROMs */
} KithI2cProbe;

KithI2cProbe kith_i2c_scan_probe (guint address, gulong funcs);
const gchar *kith_i2c_probe_to_string (KithI2cProbe probe);

/* one entry of Addresses=: "0x76" (scan it), "0x40-0x47" (scan those) or "0x76:bme280" (a
 * chip named there: used as named, never probed) */
typedef struct {
	guint address;
	gchar *chip; /* NULL: an address to scan */
} KithI2cNamed;

/* parses Addresses= (a ;-list). scan: set to TRUE for the addresses to probe (all of
 * 0x08-0x77 when the list names none); named: KithI2cNamed of the chips named;
 * chips: the chip names known, to check the names against */
gboolean kith_i2c_parse_addresses (const gchar *text, const gchar *const *chips, gboolean scan[128],
                                   GPtrArray *named, GError **error);
/* one "0x76:bme280" (also a device key); FALSE if it is not one */
gboolean kith_i2c_parse_named (const gchar *text, guint *address, gchar **chip);
void kith_i2c_named_free (KithI2cNamed *named);

G_END_DECLS
