/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <glib/gstdio.h>

#include "kith-build.h"

#include "drivers/modbus/profile.h"
#include "kith-error.h"

#include <string.h>

#define HEADER "[profile]\nManufacturer=ACME\nModel=TH-42\nClass=Thermometer\n"
#define FIELD "[field:T]\nTable=input\nAddress=1\n"

static void
test_profile_good (void)
{
	const gchar *data = HEADER "MatchVendor=ACME*\nMatchProduct=TH-*\nMaxRegisters=60\n"
	                           "MaxGap=3\nOneRequestPerField=false\nRequestPause=0.02\n"
	                           "[field:Temperature]\nTable=input\nAddress=0x0010\nType=s16\n"
	                           "Scale=0.1\nUnit=°C\nDeadband=0.2\nPresence=true\n"
	                           "[field:Setpoint]\nTable=holding\nAddress=7\nType=f32\n"
	                           "WordOrder=little\nByteOrder=little\nWritable=true\nMin=5\n"
	                           "Max=30\nInterval=60\n"
	                           "[field:Name]\nTable=holding\nAddress=100\nType=string:8\n"
	                           "[field:Alarm]\nTable=discrete\nAddress=3\n"
	                           "[field:Count]\nTable=input\nAddress=20\n";
	g_autoptr (GError) error = NULL;
	g_autoptr (KithModbusProfile) profile =
	        kith_modbus_profile_load_data ("acme", "/p/acme.conf", data, &error);
	const KithModbusField *field;

	g_assert_no_error (error);
	g_assert_cmpstr (profile->name, ==, "acme");
	g_assert_cmpstr (profile->manufacturer, ==, "ACME");
	g_assert_cmpstr (profile->model, ==, "TH-42");
	g_assert_cmpstr (profile->class_name, ==, "Thermometer");
	g_assert_cmpstr (profile->match_vendor, ==, "ACME*");
	g_assert_cmpint (profile->quirks.max_registers, ==, 60);
	g_assert_cmpint (profile->quirks.max_gap, ==, 3);
	g_assert_cmpint (profile->quirks.one_per_field, ==, 0);
	g_assert_cmpfloat (profile->quirks.request_pause, ==, 0.02);
	g_assert_cmpint (profile->quirks.write_multiple, ==, -1);
	g_assert_cmpuint (profile->fields->len, ==, 5);

	field = kith_modbus_profile_find_field (profile, "Temperature");
	g_assert_cmpint (field->table, ==, KITH_MODBUS_TABLE_INPUT);
	g_assert_cmpuint (field->address, ==, 16);
	g_assert_cmpint (field->type, ==, KITH_MODBUS_TYPE_S16);
	g_assert_cmpfloat (field->scale, ==, 0.1);
	g_assert_cmpint (field->decimals, ==, 1);
	g_assert_cmpfloat (field->deadband, ==, 0.2);
	g_assert_true (field->presence);
	g_assert_cmpstr (field->unit, ==, "°C");

	field = kith_modbus_profile_find_field (profile, "Setpoint");
	g_assert_true (field->writable && field->word_little && field->byte_little);
	g_assert_cmpuint (field->count, ==, 2);
	g_assert_cmpfloat (field->min, ==, 5);
	g_assert_cmpfloat (field->max, ==, 30);
	g_assert_cmpfloat (field->interval, ==, 60);
	g_assert_cmpint (field->decimals, ==, 2);

	field = kith_modbus_profile_find_field (profile, "Name");
	g_assert_cmpint (field->type, ==, KITH_MODBUS_TYPE_STRING);
	g_assert_cmpuint (field->count, ==, 8);

	/* a bit table without Type is a bit, a register table a u16 */
	field = kith_modbus_profile_find_field (profile, "Alarm");
	g_assert_cmpint (field->type, ==, KITH_MODBUS_TYPE_BIT);
	field = kith_modbus_profile_find_field (profile, "Count");
	g_assert_cmpint (field->type, ==, KITH_MODBUS_TYPE_U16);
	g_assert_cmpint (field->decimals, ==, 0);
	g_assert_false (field->writable);
	g_assert_cmpfloat (field->min, >, field->max);
}

typedef struct {
	const gchar *data;
	const gchar *message; /* what the error says after the file name */
} BadCase;

static const BadCase bad_cases[] = {
	{ FIELD, "[profile] missing" },
	{ "[profile]\nManufacturer=ACME\n" FIELD, "[profile] Model: missing" },
	{ HEADER "Colour=red\n" FIELD, "[profile] Colour: unknown key" },
	{ HEADER "MatchProduct=X\n" FIELD, "[profile] MatchVendor: missing" },
	{ HEADER "MaxRegisters=0\n" FIELD, "[profile] MaxRegisters: must be 1..125" },
	{ HEADER "MaxRegisters=126\n" FIELD, "[profile] MaxRegisters: 126 is out of range 0..125" },
	{ HEADER "MaxBits=2001\n" FIELD, "[profile] MaxBits: 2001 is out of range 0..2000" },
	{ HEADER "MaxGap=many\n" FIELD, "[profile] MaxGap: 'many' is not a number" },
	{ HEADER "OneRequestPerField=maybe\n" FIELD,
	  "[profile] OneRequestPerField: 'maybe' is not true or false" },
	{ HEADER "RequestPause=-1\n" FIELD,
	  "[profile] RequestPause: -1 is out of range 0..60 seconds" },
	{ HEADER, "no [field:NAME] group" },
	{ HEADER "[fields:T]\nTable=input\n", "[fields:T] unknown group" },
	{ HEADER "[field:]\nTable=input\nAddress=0\n", "[field:] a field needs a name" },
	{ HEADER "[field:T]\nAddress=1\n", "[field:T] Table: missing" },
	{ HEADER "[field:T]\nTable=inputs\nAddress=1\n",
	  "[field:T] Table: unknown table 'inputs'" },
	{ HEADER "[field:T]\nTable=input\n", "[field:T] Address: missing" },
	{ HEADER "[field:T]\nTable=input\nAddress=x1\n",
	  "[field:T] Address: 'x1' is not a number" },
	{ HEADER "[field:T]\nTable=input\nAddress=-1\n",
	  "[field:T] Address: '-1' is not a number" },
	{ HEADER "[field:T]\nTable=input\nAddress=65536\n",
	  "[field:T] Address: 65536 is out of range 0..65535" },
	{ HEADER "[field:T]\nTable=input\nAddress=65535\nType=u32\n",
	  "[field:T] Address: 2 registers from 65535 run past 65535" },
	{ HEADER FIELD "Type=f33\n", "[field:T] Type: unknown type 'f33'" },
	{ HEADER FIELD "Type=string:0\n", "[field:T] Type: unknown type 'string:0'" },
	{ HEADER FIELD "Type=string:126\n", "[field:T] Type: unknown type 'string:126'" },
	{ HEADER FIELD "Type=bit\n", "[field:T] Type: bit fits coil and discrete tables only" },
	{ HEADER "[field:T]\nTable=coil\nAddress=1\nType=u16\n",
	  "[field:T] Type: u16 fits input and holding tables only" },
	{ HEADER FIELD "Type=u32\nWordOrder=middle\n",
	  "[field:T] WordOrder: 'middle' is not big or little" },
	{ HEADER FIELD "ByteOrder=\n", "[field:T] ByteOrder: '' is not big or little" },
	{ HEADER FIELD "Scale=0\n", "[field:T] Scale: must not be 0" },
	{ HEADER FIELD "Scale=ten\n", "[field:T] Scale: 'ten' is not a number" },
	{ HEADER "[field:T]\nTable=coil\nAddress=1\nScale=2\n",
	  "[field:T] Scale: does not apply to type bit" },
	{ HEADER FIELD "Type=string:2\nOffset=1\n",
	  "[field:T] Offset: does not apply to type string" },
	{ HEADER FIELD "Writable=true\n",
	  "[field:T] Writable: only coils and holding registers are writable" },
	{ HEADER "[field:T]\nTable=holding\nAddress=1\nType=string:2\nWritable=true\n",
	  "[field:T] Writable: strings are read-only" },
	{ HEADER FIELD "Writable=yes please\n",
	  "[field:T] Writable: 'yes please' is not true or false" },
	{ HEADER FIELD "Min=1\n", "[field:T] Max: missing: Min and Max go together" },
	{ HEADER FIELD "Min=3\nMax=1\n", "[field:T] Min: 3 is above Max=1" },
	{ HEADER FIELD "Deadband=-1\n", "[field:T] Deadband: must not be negative" },
	{ HEADER FIELD "Interval=0\n",
	  "[field:T] Interval: 0 is out of range 0.05..86400 seconds" },
	{ HEADER FIELD "Decimals=12\n", "[field:T] Decimals: 12 is out of range 0..9" },
	{ HEADER FIELD "Presence=maybe\n", "[field:T] Presence: 'maybe' is not true or false" },
	{ HEADER FIELD "Colour=red\n", "[field:T] Colour: unknown key" },
	{ "[profile\n", "Key file contains line" },
};

/* every error names the file, the group and the key */
static void
test_profile_errors (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (KithModbusProfile) profile = kith_modbus_profile_load_data (
		        "bad", "/etc/kith/modbus/bad.conf", bad_cases[i].data, &error);
		g_autofree gchar *expected =
		        g_strconcat ("/etc/kith/modbus/bad.conf: ", bad_cases[i].message, NULL);

		g_test_message ("case %u: %s", i, bad_cases[i].message);
		g_assert_null (profile);
		g_assert_nonnull (error);
		if (!g_str_has_prefix (error->message, expected))
			g_error ("case %u: '%s' does not start with '%s'", i, error->message,
			         expected);
	}
}

static void
test_profile_quirks_merge (void)
{
	KithModbusQuirks a, b, out;

	kith_modbus_quirks_init (&a);
	kith_modbus_quirks_init (&b);
	kith_modbus_quirks_merge (&out, &a, &b);
	g_assert_cmpint (out.max_registers, ==, 0);
	g_assert_cmpint (out.max_gap, ==, -1);
	g_assert_cmpint (out.one_per_field, ==, -1);
	g_assert_cmpfloat (out.request_pause, <, 0);

	/* the stricter of each: smaller limits, longer pauses, one request per field if either */
	a.max_registers = 80;
	a.max_gap = 20;
	a.request_pause = 0.1;
	b.max_registers = 125;
	b.max_bits = 100;
	b.max_gap = 0;
	b.one_per_field = 1;
	b.switch_delay = 0.05;
	b.request_pause = 0.01;
	kith_modbus_quirks_merge (&out, &a, &b);
	g_assert_cmpint (out.max_registers, ==, 80);
	g_assert_cmpint (out.max_bits, ==, 100);
	g_assert_cmpint (out.max_gap, ==, 0);
	g_assert_cmpint (out.one_per_field, ==, 1);
	g_assert_cmpfloat (out.request_pause, ==, 0.1);
	g_assert_cmpfloat (out.switch_delay, ==, 0.05);
}

static void
write_file (const gchar *dir, const gchar *name, const gchar *data)
{
	g_autofree gchar *path = g_build_filename (dir, name, NULL);
	g_assert_true (g_file_set_contents (path, data, -1, NULL));
}

static void
test_profile_find (void)
{
	g_autofree gchar *first = g_dir_make_tmp ("kith-profiles-XXXXXX", NULL);
	g_autofree gchar *second = g_dir_make_tmp ("kith-profiles-XXXXXX", NULL);
	const gchar *dirs[] = { first, second, NULL };
	g_autoptr (GError) error = NULL;
	g_autoptr (KithModbusProfile) profile = NULL;
	g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) list = NULL;

	write_file (first, "acme.conf", HEADER "Model=Mine\n" FIELD);
	write_file (second, "acme.conf", HEADER FIELD);
	write_file (second, "other.conf", HEADER FIELD);
	write_file (second, "broken.conf", HEADER);

	/* the first directory wins */
	profile = kith_modbus_profile_find (dirs, "acme", &error);
	g_assert_no_error (error);
	g_assert_cmpstr (profile->model, ==, "Mine");
	g_clear_pointer (&profile, kith_modbus_profile_unref);
	profile = kith_modbus_profile_find (dirs, "other", &error);
	g_assert_no_error (error);
	g_assert_cmpstr (profile->name, ==, "other");
	g_clear_pointer (&profile, kith_modbus_profile_unref);

	profile = kith_modbus_profile_find (dirs, "nothere", &error);
	g_assert_null (profile);
	g_assert_nonnull (strstr (error->message, "no profile nothere"));
	g_assert_nonnull (strstr (error->message, first));
	g_clear_error (&error);
	profile = kith_modbus_profile_find (dirs, "../acme", &error);
	g_assert_error (error, KITH_ERROR, KITH_ERROR_CONFIG);
	g_clear_error (&error);
	profile = kith_modbus_profile_find (dirs, "broken", &error);
	g_assert_nonnull (strstr (error->message, "broken.conf: no [field:NAME] group"));
	g_clear_error (&error);

	list = kith_modbus_profile_list (dirs, errors);
	g_assert_cmpuint (list->len, ==, 2);
	g_assert_cmpstr (((KithModbusProfile *)g_ptr_array_index (list, 0))->model, ==, "Mine");
	g_assert_cmpuint (errors->len, ==, 1);

	for (const gchar *const *dir = dirs; *dir != NULL; dir++) {
		g_autoptr (GDir) handle = g_dir_open (*dir, 0, NULL);
		const gchar *entry;
		while ((entry = g_dir_read_name (handle)) != NULL) {
			g_autofree gchar *path = g_build_filename (*dir, entry, NULL);
			g_unlink (path);
		}
		g_rmdir (*dir);
	}
}

/* the shipped profiles load, and carry what a user sees */
static void
test_profile_shipped (void)
{
	const gchar *names[] = { "eastron-sdm120", "eastron-sdm630", "xy-md02",
		                 "waveshare-relay-8ch" };
	g_autofree gchar *dir = NULL;

	g_setenv ("KITH_MODBUS_PROFILE_DIR", KITH_MODBUS_SOURCE_PROFILE_DIR, TRUE);
	dir = kith_modbus_profile_shipped_dir ();
	g_assert_cmpstr (dir, ==, KITH_MODBUS_SOURCE_PROFILE_DIR);
	for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
		const gchar *dirs[] = { dir, NULL };
		g_autoptr (GError) error = NULL;
		g_autoptr (KithModbusProfile) profile =
		        kith_modbus_profile_find (dirs, names[i], &error);
		g_assert_no_error (error);
		g_assert_cmpstr (profile->name, ==, names[i]);
		g_assert_cmpuint (profile->fields->len, >=, 6);
		g_assert_true (profile->manufacturer[0] != '\0' && profile->class_name[0] != '\0');
	}
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/modbus/profile/good", test_profile_good);
	g_test_add_func ("/kith/modbus/profile/errors", test_profile_errors);
	g_test_add_func ("/kith/modbus/profile/quirks-merge", test_profile_quirks_merge);
	g_test_add_func ("/kith/modbus/profile/find", test_profile_find);
	g_test_add_func ("/kith/modbus/profile/shipped", test_profile_shipped);
	return g_test_run ();
}
