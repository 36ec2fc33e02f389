/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <string.h>

#include "drivers/modbus/ident.h"

/* a Read Device Identification reply PDU with objects 0.. of values */
static GByteArray *
make_pdu (gboolean more, guint8 next, const gchar *const *values)
{
	GByteArray *pdu = g_byte_array_new ();
	guint8 header[] = { 0x2B, 0x0E, 0x01, 0x81, more ? 0xFF : 0x00, next, 0 };
	guint count = 0;

	g_byte_array_append (pdu, header, sizeof header);
	for (guint i = 0; values[i] != NULL; i++) {
		guint8 object[2] = { (guint8)(next + i), (guint8)strlen (values[i]) };
		g_byte_array_append (pdu, object, 2);
		g_byte_array_append (pdu, (const guint8 *)values[i], (guint)strlen (values[i]));
		count++;
	}
	pdu->data[6] = (guint8)count;
	return pdu;
}

static GByteArray *
make_rtu (guint8 unit, GByteArray *pdu)
{
	GByteArray *frame = g_byte_array_new ();
	guint16 crc;
	guint8 tail[2];

	g_byte_array_append (frame, &unit, 1);
	g_byte_array_append (frame, pdu->data, pdu->len);
	crc = kith_modbus_crc16 (frame->data, frame->len);
	tail[0] = crc & 0xff;
	tail[1] = crc >> 8;
	g_byte_array_append (frame, tail, 2);
	return frame;
}

static GByteArray *
make_tcp (guint8 unit, GByteArray *pdu)
{
	GByteArray *frame = g_byte_array_new ();
	guint8 header[] = { 0, 0, 0, 0, 0, (guint8)(pdu->len + 1), unit };
	g_byte_array_append (frame, header, sizeof header);
	g_byte_array_append (frame, pdu->data, pdu->len);
	return frame;
}

static void
test_crc (void)
{
	/* the XY-MD02 read of its measurements: 01 04 00 01 00 02, CRC 20 0B */
	const guint8 read[] = { 0x01, 0x04, 0x00, 0x01, 0x00, 0x02 };
	const guint8 holding[] = { 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A };

	g_assert_cmphex (kith_modbus_crc16 (read, sizeof read), ==, 0x0B20);
	g_assert_cmphex (kith_modbus_crc16 (holding, sizeof holding), ==, 0xCDC5);
}

/* however the reply trickles in, the reader asks for exactly what is missing */
static void
test_missing (void)
{
	const gchar *values[] = { "ACME Sensors", "TH-42", "1.2.3", NULL };
	g_autoptr (GByteArray) pdu = make_pdu (FALSE, 0, values);
	const guint8 exception_pdu[] = { 0xAB, 0x01 };
	g_autoptr (GByteArray) exception = g_byte_array_new ();

	g_byte_array_append (exception, exception_pdu, 2);
	for (guint transport = 0; transport < 2; transport++) {
		GByteArray *frames[2];
		frames[0] = transport == 0 ? make_rtu (7, pdu) : make_tcp (7, pdu);
		frames[1] = transport == 0 ? make_rtu (7, exception) : make_tcp (7, exception);
		for (guint f = 0; f < 2; f++) {
			GByteArray *frame = frames[f];
			for (guint length = 0; length < frame->len; length++) {
				gssize missing = kith_modbus_ident_missing (frame->data, length,
				                                            transport == 0);
				g_assert_cmpint (missing, >, 0);
				g_assert_cmpint (length + (gsize)missing, <=, frame->len);
			}
			g_assert_cmpint (
			        kith_modbus_ident_missing (frame->data, frame->len, transport == 0),
			        ==, 0);
			g_byte_array_unref (frame);
		}
	}
}

static void
test_missing_malformed (void)
{
	const guint8 other_function[] = { 0x01, 0x03, 0x02 };
	const guint8 other_mei[] = { 0x01, 0x2B, 0x0D, 0, 0, 0, 0, 0 };
	const guint8 tcp_protocol[] = { 0, 0, 0, 1, 0, 3, 1 };
	const guint8 tcp_length[] = { 0, 0, 0, 0, 1, 0, 1 };

	g_assert_cmpint (kith_modbus_ident_missing (other_function, 3, TRUE), ==, -1);
	g_assert_cmpint (kith_modbus_ident_missing (other_mei, 8, TRUE), ==, -1);
	g_assert_cmpint (kith_modbus_ident_missing (tcp_protocol, 7, FALSE), ==, -1);
	g_assert_cmpint (kith_modbus_ident_missing (tcp_length, 7, FALSE), ==, -1);
}

static void
test_parse (void)
{
	const gchar *values[] = { "ACME Sensors ", "TH-42", "1.2.3", NULL };
	g_autoptr (GByteArray) pdu = make_pdu (FALSE, 0, values);

	for (guint transport = 0; transport < 2; transport++) {
		g_autoptr (GByteArray) frame =
		        transport == 0 ? make_rtu (7, pdu) : make_tcp (7, pdu);
		g_autoptr (KithModbusIdentity) identity = g_new0 (KithModbusIdentity, 1);
		KithModbusIdentReply reply;
		g_autoptr (GError) error = NULL;

		g_assert_true (kith_modbus_ident_parse (frame->data, frame->len, transport == 0, 7,
		                                        identity, &reply, &error));
		g_assert_no_error (error);
		g_assert_true (identity->answered);
		g_assert_cmpstr (identity->vendor, ==, "ACME Sensors");
		g_assert_cmpstr (identity->product, ==, "TH-42");
		g_assert_cmpstr (identity->revision, ==, "1.2.3");
		g_assert_false (reply.more);
		g_assert_cmpint (reply.exception, ==, 0);

		/* another unit's reply is not this unit's */
		g_clear_pointer (&identity, kith_modbus_identity_free);
		identity = g_new0 (KithModbusIdentity, 1);
		g_assert_false (kith_modbus_ident_parse (frame->data, frame->len, transport == 0, 8,
		                                         identity, &reply, &error));
		g_assert_nonnull (strstr (error->message, "from unit 7, not 8"));
	}
}

static void
test_parse_more (void)
{
	const gchar *first[] = { "ACME", NULL };
	const gchar *second[] = { "TH-42", "2.0", NULL };
	g_autoptr (GByteArray) pdu1 = make_pdu (TRUE, 0, first);
	g_autoptr (GByteArray) pdu2 = make_pdu (FALSE, 1, second);
	g_autoptr (GByteArray) frame1 = make_rtu (3, pdu1);
	g_autoptr (GByteArray) frame2 = make_rtu (3, pdu2);
	g_autoptr (KithModbusIdentity) identity = g_new0 (KithModbusIdentity, 1);
	KithModbusIdentReply reply;

	/* the first part says more follows, from object 0 (rewritten to 1 here) */
	frame1->data[6] = 1;
	{
		guint16 crc = kith_modbus_crc16 (frame1->data, frame1->len - 2);
		frame1->data[frame1->len - 2] = crc & 0xff;
		frame1->data[frame1->len - 1] = crc >> 8;
	}
	g_assert_true (kith_modbus_ident_parse (frame1->data, frame1->len, TRUE, 3, identity,
	                                        &reply, NULL));
	g_assert_true (reply.more);
	g_assert_cmpint (reply.next_object, ==, 1);
	g_assert_true (kith_modbus_ident_parse (frame2->data, frame2->len, TRUE, 3, identity,
	                                        &reply, NULL));
	g_assert_false (reply.more);
	g_assert_cmpstr (identity->vendor, ==, "ACME");
	g_assert_cmpstr (identity->product, ==, "TH-42");
	g_assert_cmpstr (identity->revision, ==, "2.0");
}

static void
test_parse_errors (void)
{
	const gchar *values[] = { "ACME", NULL };
	g_autoptr (GByteArray) pdu = make_pdu (FALSE, 0, values);
	g_autoptr (GByteArray) frame = make_rtu (1, pdu);
	const guint8 exception_pdu[] = { 0xAB, 0x01 };
	g_autoptr (GByteArray) exception = g_byte_array_new ();
	g_autoptr (GByteArray) exception_frame = NULL;
	g_autoptr (KithModbusIdentity) identity = g_new0 (KithModbusIdentity, 1);
	KithModbusIdentReply reply;
	g_autoptr (GError) error = NULL;

	/* a bad CRC */
	frame->data[3] ^= 0x01;
	g_assert_false (kith_modbus_ident_parse (frame->data, frame->len, TRUE, 1, identity, &reply,
	                                         &error));
	g_assert_nonnull (strstr (error->message, "bad CRC"));
	g_clear_error (&error);
	/* an incomplete frame */
	g_assert_false (
	        kith_modbus_ident_parse (frame->data, 4, TRUE, 1, identity, &reply, &error));
	g_clear_error (&error);
	/* an exception: the unit is there but does not identify itself */
	g_byte_array_append (exception, exception_pdu, 2);
	exception_frame = make_rtu (1, exception);
	g_assert_true (kith_modbus_ident_parse (exception_frame->data, exception_frame->len, TRUE,
	                                        1, identity, &reply, &error));
	g_assert_cmpint (reply.exception, ==, 1);
	g_assert_true (identity->answered);
	g_assert_null (identity->vendor);
}

static void
test_server_id (void)
{
	const guint8 data[] = { 0x11, 'W', 'S', 0x01, ' ', 'r', 0xFF };
	const guint8 binary[] = { 0x01, 0xFF };
	g_autofree gchar *text = kith_modbus_server_id_text (data, sizeof data);
	g_autofree gchar *empty = kith_modbus_server_id_text (binary, sizeof binary);
	g_assert_cmpstr (text, ==, "WS. r");
	g_assert_cmpstr (empty, ==, "");
}

static KithModbusProfile *
profile (const gchar *name, const gchar *match)
{
	g_autofree gchar *data = g_strdup_printf ("[profile]\nModel=%s\n%s\n"
	                                          "[field:x]\nTable=input\nAddress=0\n",
	                                          name, match);
	return kith_modbus_profile_load_data (name, "/p", data, NULL);
}

/* a profile is chosen only when what the unit says names it */
static void
test_match (void)
{
	g_autoptr (GPtrArray) profiles =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_modbus_profile_unref);
	KithModbusIdentity identity = { 0 };

	g_ptr_array_add (profiles, profile ("any-acme", "MatchVendor=ACME*"));
	g_ptr_array_add (profiles, profile ("th42", "MatchVendor=acme*\nMatchProduct=TH-42"));
	g_ptr_array_add (profiles, profile ("relay", "MatchServerId=WS relay*"));
	g_ptr_array_add (profiles, profile ("none", ""));

	/* the first that matches; case does not matter */
	identity.vendor = (gchar *)"Acme Sensors";
	identity.product = (gchar *)"TH-42";
	g_assert_cmpstr (kith_modbus_identity_match (&identity, profiles)->name, ==, "any-acme");
	g_ptr_array_remove_index (profiles, 0);
	g_assert_cmpstr (kith_modbus_identity_match (&identity, profiles)->name, ==, "th42");
	identity.product = (gchar *)"TH-43";
	g_assert_null (kith_modbus_identity_match (&identity, profiles));
	identity.product = NULL;
	g_assert_null (kith_modbus_identity_match (&identity, profiles));
	/* the server id when the identification names nothing */
	identity.server_id = (gchar *)"WS relay v1.";
	g_assert_cmpstr (kith_modbus_identity_match (&identity, profiles)->name, ==, "relay");
	identity.vendor = NULL;
	identity.server_id = (gchar *)"Pymodbus";
	g_assert_null (kith_modbus_identity_match (&identity, profiles));
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/modbus/ident/crc", test_crc);
	g_test_add_func ("/kith/modbus/ident/missing", test_missing);
	g_test_add_func ("/kith/modbus/ident/missing-malformed", test_missing_malformed);
	g_test_add_func ("/kith/modbus/ident/parse", test_parse);
	g_test_add_func ("/kith/modbus/ident/parse-more", test_parse_more);
	g_test_add_func ("/kith/modbus/ident/parse-errors", test_parse_errors);
	g_test_add_func ("/kith/modbus/ident/server-id", test_server_id);
	g_test_add_func ("/kith/modbus/ident/match", test_match);
	return g_test_run ();
}
