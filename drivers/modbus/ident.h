/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "profile.h"

G_BEGIN_DECLS

/*
 * What a unit says of itself: Read Device Identification (0x2B / MEI 0x0E) replies, read from
 * the socket by hand because libmodbus cannot size them, and Report Server ID (0x11) data; and
 * which profile that names. Pure.
 */

typedef struct {
	gchar *vendor;     /* object 0, VendorName */
	gchar *product;    /* object 1, ProductCode */
	gchar *revision;   /* object 2, MajorMinorRevision */
	gchar *server_id;  /* Report Server ID data, non-printable bytes as '.'; NULL: no answer */
	gboolean answered; /* the unit answered something (a reply or an exception) */
} KithModbusIdentity;

void kith_modbus_identity_free (KithModbusIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithModbusIdentity, kith_modbus_identity_free)

/* the Modbus RTU CRC (poly 0xA001, init 0xFFFF); sent low byte first */
guint16 kith_modbus_crc16 (const guint8 *data, gsize length);

/*
 * how many more bytes a 0x2B reply needs, from what was received so far: 0 when it is
 * complete, -1 when it cannot be one. rtu: an RTU frame (unit, PDU, CRC); else a TCP frame
 * (MBAP header, then unit and PDU)
 */
gssize kith_modbus_ident_missing (const guint8 *frame, gsize length, gboolean rtu);

typedef struct {
	guint8 exception; /* non-zero: the unit answered with this exception */
	gboolean more;    /* more follows: ask again from next_object */
	guint8 next_object;
} KithModbusIdentReply;

/*
 * parses a complete 0x2B reply frame of unit (checks the CRC of an RTU frame, the MBAP of a TCP
 * frame) and stores objects 0-2 into identity. FALSE with an error for a frame that is not a
 * reply of that unit.
 */
gboolean kith_modbus_ident_parse (const guint8 *frame, gsize length, gboolean rtu, guint8 unit,
                                  KithModbusIdentity *identity, KithModbusIdentReply *reply,
                                  GError **error);

/* Report Server ID data (after the byte count) as text: non-printable bytes as '.', those at
 * either end (the run indicator) dropped */
gchar *kith_modbus_server_id_text (const guint8 *data, gsize length);

/* the first profile whose MatchVendor/MatchProduct match the identification, else the first
 * whose MatchServerId matches the server id; NULL: no profile names this unit */
KithModbusProfile *kith_modbus_identity_match (const KithModbusIdentity *identity,
                                               GPtrArray *profiles);

G_END_DECLS
