/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * /dev/i2c-N through the kernel's i2c-dev ioctls, SMBus transfers (I2C_SMBUS) as i2c-tools
 * does them: they work on a Raspberry Pi's controller and on SMBus-only adapters such as
 * i2c-stub. Blocking: only ever called on the bus's worker thread. Errors are KITH_ERROR_BUS
 * (the chip did not answer), KITH_ERROR_NOT_FOUND (no such adapter), KITH_ERROR_FORBIDDEN
 * (the address is in use by a kernel driver) or KITH_ERROR_INVALID (the adapter cannot do
 * that transfer).
 */
typedef struct _KithI2cAdapter KithI2cAdapter;

KithI2cAdapter *kith_i2c_adapter_open (guint number, GError **error);
void kith_i2c_adapter_close (KithI2cAdapter *self);
/* I2C_FUNC_* of the adapter */
gulong kith_i2c_adapter_get_funcs (KithI2cAdapter *self);
/* the chip the next transfers go to (I2C_SLAVE; never forced past a kernel driver) */
gboolean kith_i2c_adapter_select (KithI2cAdapter *self, guint address, GError **error);

gboolean kith_i2c_quick_write (KithI2cAdapter *self, GError **error);
gboolean kith_i2c_receive_byte (KithI2cAdapter *self, guint8 *value, GError **error);
gboolean kith_i2c_send_byte (KithI2cAdapter *self, guint8 value, GError **error);
gboolean kith_i2c_read_byte_data (KithI2cAdapter *self, guint8 reg, guint8 *value, GError **error);
gboolean kith_i2c_write_byte_data (KithI2cAdapter *self, guint8 reg, guint8 value, GError **error);
/* SMBus words go low byte first; *_swapped for chips that send the high byte first */
gboolean kith_i2c_read_word_swapped (KithI2cAdapter *self, guint8 reg, guint16 *value,
                                     GError **error);
gboolean kith_i2c_write_word_swapped (KithI2cAdapter *self, guint8 reg, guint16 value,
                                      GError **error);
/* an I2C block read (command, repeated start, len bytes; len <= 32) */
gboolean kith_i2c_read_block (KithI2cAdapter *self, guint8 reg, guint8 *data, guint len,
                              GError **error);
/* a plain read of len bytes without a command (needs I2C_FUNC_I2C) */
gboolean kith_i2c_read_plain (KithI2cAdapter *self, guint8 *data, guint len, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithI2cAdapter, kith_i2c_adapter_close)

G_END_DECLS
