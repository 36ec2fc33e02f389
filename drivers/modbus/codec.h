/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "device.h"
#include "profile.h"

G_BEGIN_DECLS

/*
 * Register codec: a profile field's registers (or bit) to a KithValue and back, for every type,
 * word order and byte order, with value = raw * Scale + Offset. Pure.
 */

/* boolean for bits, string for strings, int for integer types without Scale/Offset (but u64,
 * which may not fit), numeric otherwise */
KithValueType kith_modbus_field_value_type (const KithModbusField *field);

/* registers: the field's count registers as they came off the bus. A float that is not a
 * number (NaN, infinite) gives an invalid value. */
void kith_modbus_decode (const KithModbusField *field, const guint16 *registers, gint64 timestamp,
                         KithValue *out);
void kith_modbus_decode_bit (const KithModbusField *field, gboolean bit, gint64 timestamp,
                             KithValue *out);

/* the field's count registers to write for value; FALSE with an error naming the field when
 * the value does not fit the type after Scale and Offset */
gboolean kith_modbus_encode (const KithModbusField *field, const KithValue *value,
                             guint16 *registers, GError **error);

G_END_DECLS
