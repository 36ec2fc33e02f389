/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "ident.h"

#include <string.h>

#include "kith-error.h"

#define KITH_MODBUS_FC_MEI 0x2B
#define KITH_MODBUS_MEI_DEVICE_ID 0x0E
#define KITH_MODBUS_TCP_HEADER 7

void
kith_modbus_identity_free (KithModbusIdentity *identity)
{
	if (identity == NULL)
		return;
	g_free (identity->vendor);
	g_free (identity->product);
	g_free (identity->revision);
	g_free (identity->server_id);
	g_free (identity);
}

guint16
kith_modbus_crc16 (const guint8 *data, gsize length)
{
	guint16 crc = 0xFFFF;
	for (gsize i = 0; i < length; i++) {
		crc ^= data[i];
		for (guint bit = 0; bit < 8; bit++)
			crc = (crc & 1) ? (guint16)((crc >> 1) ^ 0xA001) : (guint16)(crc >> 1);
	}
	return crc;
}

/* bytes still missing from a reply PDU that starts at pdu, length bytes so far; the total is
 * written to *total */
static gssize
kith_modbus_ident_pdu_missing (const guint8 *pdu, gsize length, gsize *total)
{
	gsize position;

	if (length < 1)
		return 1;
	if (pdu[0] == (KITH_MODBUS_FC_MEI | 0x80)) {
		*total = 2;
		return length >= 2 ? 0 : 1;
	}
	if (pdu[0] != KITH_MODBUS_FC_MEI)
		return -1;
	if (length < 7)
		return (gssize)(7 - length);
	if (pdu[1] != KITH_MODBUS_MEI_DEVICE_ID)
		return -1;
	position = 7;
	for (guint i = 0; i < pdu[6]; i++) {
		if (position + 2 > length)
			return (gssize)(position + 2 - length);
		position += 2 + pdu[position + 1];
		if (position > 253)
			return -1;
	}
	*total = position;
	return position > length ? (gssize)(position - length) : 0;
}

gssize
kith_modbus_ident_missing (const guint8 *frame, gsize length, gboolean rtu)
{
	gsize pdu_total = 0;
	gssize missing;

	if (rtu) {
		if (length < 1)
			return 1;
		missing = kith_modbus_ident_pdu_missing (frame + 1, length - 1, &pdu_total);
		if (missing != 0)
			return missing;
		/* unit, PDU, CRC */
		return (gssize)(1 + pdu_total + 2) - (gssize)length;
	}
	if (length < KITH_MODBUS_TCP_HEADER)
		return (gssize)(KITH_MODBUS_TCP_HEADER - length);
	{
		/* the MBAP length counts the unit and the PDU */
		guint frame_length = ((guint)frame[4] << 8) | frame[5];
		if (frame_length < 3 || frame_length > 254 || frame[2] != 0 || frame[3] != 0)
			return -1;
		return (gssize)(6 + frame_length) - (gssize)length;
	}
}

static gchar *
kith_modbus_ident_string (const guint8 *data, gsize length)
{
	g_autofree gchar *text = g_strndup ((const gchar *)data, length);
	gchar *valid = g_utf8_make_valid (text, -1);
	return g_strstrip (valid);
}

static gboolean
kith_modbus_ident_objects (const guint8 *pdu, gsize length, KithModbusIdentity *identity,
                           KithModbusIdentReply *reply, GError **error)
{
	gsize position = 7;

	reply->more = pdu[4] == 0xFF;
	reply->next_object = pdu[5];
	for (guint i = 0; i < pdu[6]; i++) {
		guint8 id, size;
		gchar **slot = NULL;
		if (position + 2 > length || position + 2 + pdu[position + 1] > length) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_BUS,
			             "device identification: object %u runs past the reply", i);
			return FALSE;
		}
		id = pdu[position];
		size = pdu[position + 1];
		if (id == 0)
			slot = &identity->vendor;
		else if (id == 1)
			slot = &identity->product;
		else if (id == 2)
			slot = &identity->revision;
		if (slot != NULL) {
			g_free (*slot);
			*slot = kith_modbus_ident_string (pdu + position + 2, size);
		}
		position += 2 + size;
	}
	return TRUE;
}

gboolean
kith_modbus_ident_parse (const guint8 *frame, gsize length, gboolean rtu, guint8 unit,
                         KithModbusIdentity *identity, KithModbusIdentReply *reply, GError **error)
{
	const guint8 *pdu;
	gsize pdu_length;
	guint8 from;

	memset (reply, 0, sizeof *reply);
	if (kith_modbus_ident_missing (frame, length, rtu) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS,
		             "device identification: incomplete reply (%" G_GSIZE_FORMAT " bytes)",
		             length);
		return FALSE;
	}
	if (rtu) {
		guint16 crc = (guint16)(frame[length - 2] | (frame[length - 1] << 8));
		if (kith_modbus_crc16 (frame, length - 2) != crc) {
			g_set_error_literal (error, KITH_ERROR, KITH_ERROR_BUS,
			                     "device identification: bad CRC");
			return FALSE;
		}
		from = frame[0];
		pdu = frame + 1;
		pdu_length = length - 3;
	} else {
		from = frame[6];
		pdu = frame + KITH_MODBUS_TCP_HEADER;
		pdu_length = length - KITH_MODBUS_TCP_HEADER;
	}
	if (from != unit) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS,
		             "device identification: reply from unit %u, not %u", from, unit);
		return FALSE;
	}
	identity->answered = TRUE;
	if (pdu_length >= 2 && pdu[0] == (KITH_MODBUS_FC_MEI | 0x80)) {
		reply->exception = pdu[1];
		return TRUE;
	}
	if (pdu_length < 7 || pdu[0] != KITH_MODBUS_FC_MEI || pdu[1] != KITH_MODBUS_MEI_DEVICE_ID) {
		g_set_error_literal (error, KITH_ERROR, KITH_ERROR_BUS,
		                     "device identification: not a device identification reply");
		return FALSE;
	}
	return kith_modbus_ident_objects (pdu, pdu_length, identity, reply, error);
}

gchar *
kith_modbus_server_id_text (const guint8 *data, gsize length)
{
	gsize start = 0, end = length;
	gchar *text;

	/* the run indicator (0x00 or 0xFF) and binary ids at either end say nothing to a glob */
	while (start < end && !g_ascii_isprint (data[start]))
		start++;
	while (end > start && !g_ascii_isprint (data[end - 1]))
		end--;
	text = g_new (gchar, end - start + 1);
	for (gsize i = start; i < end; i++)
		text[i - start] = g_ascii_isprint (data[i]) ? (gchar)data[i] : '.';
	text[end - start] = '\0';
	return text;
}

static gboolean
kith_modbus_glob (const gchar *pattern, const gchar *text)
{
	g_autofree gchar *pattern_down = NULL;
	g_autofree gchar *text_down = NULL;
	g_autoptr (GPatternSpec) spec = NULL;

	if (pattern == NULL)
		return TRUE;
	if (text == NULL)
		return FALSE;
	pattern_down = g_utf8_strdown (pattern, -1);
	text_down = g_utf8_strdown (text, -1);
	spec = g_pattern_spec_new (pattern_down);
	return g_pattern_spec_match_string (spec, text_down);
}

KithModbusProfile *
kith_modbus_identity_match (const KithModbusIdentity *identity, GPtrArray *profiles)
{
	for (guint i = 0; identity->vendor != NULL && i < profiles->len; i++) {
		KithModbusProfile *profile = g_ptr_array_index (profiles, i);
		if (profile->match_vendor != NULL &&
		    kith_modbus_glob (profile->match_vendor, identity->vendor) &&
		    kith_modbus_glob (profile->match_product, identity->product))
			return profile;
	}
	for (guint i = 0; identity->server_id != NULL && i < profiles->len; i++) {
		KithModbusProfile *profile = g_ptr_array_index (profiles, i);
		if (profile->match_server_id != NULL &&
		    kith_modbus_glob (profile->match_server_id, identity->server_id))
			return profile;
	}
	return NULL;
}
