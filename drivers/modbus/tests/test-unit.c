/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <modbus.h>
#include <string.h>

#include "drivers/modbus/settings.h"
#include "drivers/modbus/unit.h"

#define S ((gint64)G_USEC_PER_SEC)

static const gchar profile_data[] =
        "[profile]\nModel=Test\n"
        "[field:A]\nTable=input\nAddress=0\nType=u16\n"
        "[field:B]\nTable=input\nAddress=4\nType=s16\nScale=0.5\nDeadband=2\nPresence=true\n"
        "[field:Set]\nTable=holding\nAddress=10\nType=u32\nWritable=true\nMin=0\nMax=1000\n"
        "[field:Relay]\nTable=coil\nAddress=3\nWritable=true\n";

typedef struct {
	KithDevice *device;
	KithModbusProfile *profile;
	KithModbusUnit *unit;
	guint changed;
	guint availability;
} Fixture;

static void
changed_cb (KithDevice *device, gpointer user_data)
{
	((Fixture *)user_data)->changed++;
}

static void
availability_cb (KithDevice *device, gpointer user_data)
{
	((Fixture *)user_data)->availability++;
}

static void
fixture_init (Fixture *fixture, gboolean answering, gint64 now)
{
	KithModbusQuirks quirks;
	KithModbusBackoff backoff = { S / 2, 10 * S };

	kith_modbus_quirks_init (&quirks);
	fixture->profile =
	        kith_modbus_profile_load_data ("test", "/p/test.conf", profile_data, NULL);
	g_assert_nonnull (fixture->profile);
	fixture->device = kith_device_new ("bus-9", "unit 9");
	if (!answering)
		kith_device_set_silent_since (fixture->device, 1, "known from an earlier run");
	kith_modbus_unit_add_fields (fixture->device, fixture->profile);
	g_signal_connect (fixture->device, "changed", G_CALLBACK (changed_cb), fixture);
	g_signal_connect (fixture->device, "availability-changed", G_CALLBACK (availability_cb),
	                  fixture);
	fixture->unit = kith_modbus_unit_new (9, fixture->device, fixture->profile, &quirks, 10 * S,
	                                      &backoff, now);
}

static void
fixture_clear (Fixture *fixture)
{
	kith_modbus_unit_free (fixture->unit);
	g_object_unref (fixture->device);
	kith_modbus_profile_unref (fixture->profile);
}

/* the answer to a block, registers 100, 101, … or bits 1, 0, 1, … */
static KithModbusRequest *
answer (Fixture *fixture, guint block, KithModbusStatus status, guint8 exception)
{
	KithModbusRequest *request = kith_modbus_unit_read_request (fixture->unit, block);
	request->status = status;
	request->exception = exception;
	request->message = g_strdup (kith_modbus_status_to_string (status));
	for (guint i = 0; request->registers != NULL && i < request->count; i++)
		request->registers[i] = (guint16)(100 + i);
	for (guint i = 0; request->bits != NULL && i < request->count; i++)
		request->bits[i] = (guint8)(i % 2 == 0);
	return request;
}

static KithModbusUnitReadResult
read_block (Fixture *fixture, guint block, KithModbusStatus status, guint8 exception, gint64 now)
{
	g_autoptr (KithModbusRequest) request = answer (fixture, block, status, exception);
	return kith_modbus_unit_read_done (fixture->unit, block, request, now);
}

/* coalesced: the coil, the two inputs (a gap of 3), the holding; values decoded into the
 * device, ::changed once per cycle and only when something changed */
static void
test_unit_values (void)
{
	Fixture fixture = { 0 };
	KithModbusUnit *unit;
	gint64 now = 100 * S;

	fixture_init (&fixture, TRUE, now);
	unit = fixture.unit;
	g_assert_cmpuint (unit->blocks->len, ==, 3);
	for (guint i = 0; i < 3; i++) {
		g_assert_cmpint (kith_modbus_unit_pick (unit, now), >=, 0);
		g_assert_cmpint (read_block (&fixture, (guint)kith_modbus_unit_pick (unit, now),
		                             KITH_MODBUS_STATUS_OK, 0, now),
		                 ==, KITH_MODBUS_UNIT_READ_OK);
	}
	g_assert_cmpint (kith_modbus_unit_pick (unit, now), ==, -1);
	g_assert_cmpint (kith_modbus_unit_next_due (unit), ==, now + 10 * S);
	kith_modbus_unit_flush (unit);
	g_assert_cmpuint (fixture.changed, ==, 1);
	g_assert_cmpint (kith_device_get_value (fixture.device, "A")->integer, ==, 100);
	g_assert_cmpfloat (kith_device_get_value (fixture.device, "B")->number, ==, 104 * 0.5);
	g_assert_cmpint (kith_device_get_value (fixture.device, "Set")->integer, ==,
	                 100 * 65536 + 101);
	g_assert_true (kith_device_get_value (fixture.device, "Relay")->boolean);

	/* the same values again: no ::changed */
	now += 10 * S;
	for (gint block; (block = kith_modbus_unit_pick (unit, now)) >= 0;)
		read_block (&fixture, (guint)block, KITH_MODBUS_STATUS_OK, 0, now);
	kith_modbus_unit_flush (unit);
	g_assert_cmpuint (fixture.changed, ==, 1);
	g_assert_cmpuint (unit->requests, ==, 6);
	fixture_clear (&fixture);
}

/* reads before their time (readouts) put the next poll a period after the last of them, never
 * further: five readouts in a row once pushed the polls five periods away */
static void
test_unit_early_reads (void)
{
	Fixture fixture = { 0 };
	gint64 now = 100 * S;

	fixture_init (&fixture, TRUE, now);
	for (gint block; (block = kith_modbus_unit_pick (fixture.unit, now)) >= 0;)
		read_block (&fixture, (guint)block, KITH_MODBUS_STATUS_OK, 0, now);
	g_assert_cmpint (kith_modbus_unit_next_due (fixture.unit), ==, now + 10 * S);
	for (guint i = 0; i < 5; i++) {
		now += S;
		for (guint block = 0; block < fixture.unit->blocks->len; block++)
			read_block (&fixture, block, KITH_MODBUS_STATUS_OK, 0, now);
	}
	g_assert_cmpint (kith_modbus_unit_next_due (fixture.unit), ==, now + 10 * S);
	/* and polls on schedule go on from there */
	now += 10 * S;
	for (gint block; (block = kith_modbus_unit_pick (fixture.unit, now)) >= 0;)
		read_block (&fixture, (guint)block, KITH_MODBUS_STATUS_OK, 0, now + S / 10);
	g_assert_cmpint (kith_modbus_unit_next_due (fixture.unit), ==, now + 10 * S);
	fixture_clear (&fixture);
}

/* a unit that stops answering: one failure is a suspicion (probed after 0.5 s), the second
 * shows it not answering; probes back off to the bound; an answer brings it back */
static void
test_unit_backoff (void)
{
	Fixture fixture = { 0 };
	KithModbusUnit *unit;
	gint64 now = 100 * S;
	const gint64 steps[] = { S, 2 * S, 4 * S, 8 * S, 10 * S, 10 * S };

	fixture_init (&fixture, TRUE, now);
	unit = fixture.unit;
	g_assert_cmpint (read_block (&fixture, 0, KITH_MODBUS_STATUS_TIMEOUT, 0, now), ==,
	                 KITH_MODBUS_UNIT_READ_FAILED);
	g_assert_cmpint (unit->state, ==, KITH_MODBUS_UNIT_SUSPECT);
	g_assert_true (kith_device_is_answering (fixture.device));
	/* its other requests wait for the probe */
	g_assert_cmpint (kith_modbus_unit_pick (unit, now), ==, -1);
	g_assert_cmpint (kith_modbus_unit_next_due (unit), ==, now + S / 2);
	now += S / 2;
	g_assert_cmpint (kith_modbus_unit_pick (unit, now), ==, 0);
	read_block (&fixture, 0, KITH_MODBUS_STATUS_PROTOCOL, 0, now);
	g_assert_cmpint (unit->state, ==, KITH_MODBUS_UNIT_SILENT);
	g_assert_false (kith_device_is_answering (fixture.device));
	g_assert_cmpuint (fixture.availability, ==, 1);
	g_assert_cmpstr (kith_device_get_silent_reason (fixture.device), ==, "protocol error");
	for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
		g_assert_cmpint (kith_modbus_unit_next_due (unit), ==, now + steps[i]);
		g_assert_cmpint (kith_modbus_unit_pick (unit, now + steps[i] - 1), ==, -1);
		now += steps[i];
		read_block (&fixture, 0, KITH_MODBUS_STATUS_TIMEOUT, 0, now);
	}
	g_assert_cmpuint (fixture.availability, ==, 1);
	/* back: answering, everything read again now */
	now += 10 * S;
	read_block (&fixture, 0, KITH_MODBUS_STATUS_OK, 0, now);
	g_assert_cmpint (unit->state, ==, KITH_MODBUS_UNIT_OK);
	g_assert_true (kith_device_is_answering (fixture.device));
	g_assert_cmpuint (fixture.availability, ==, 2);
	g_assert_cmpint (kith_modbus_unit_pick (unit, now), >=, 1);
	/* a single lost answer later starts from the first step again */
	read_block (&fixture, 1, KITH_MODBUS_STATUS_TIMEOUT, 0, now);
	g_assert_cmpint (kith_modbus_unit_next_due (unit), ==, now + S / 2);
	fixture_clear (&fixture);
}

/* a merged read refused: split and remembered; a field refused alone: dropped */
static void
test_unit_refused (void)
{
	Fixture fixture = { 0 };
	KithModbusUnit *unit;
	gint64 now = 100 * S;
	gint input = -1;

	fixture_init (&fixture, TRUE, now);
	unit = fixture.unit;
	for (guint i = 0; i < unit->blocks->len; i++)
		if (((KithModbusBlock *)g_ptr_array_index (unit->blocks, i))->table ==
		    KITH_MODBUS_TABLE_INPUT)
			input = (gint)i;
	g_assert_cmpint (input, >=, 0);
	/* busy: nothing changes, the unit is there */
	g_assert_cmpint (read_block (&fixture, (guint)input, KITH_MODBUS_STATUS_EXCEPTION,
	                             MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY, now),
	                 ==, KITH_MODBUS_UNIT_READ_REFUSED);
	g_assert_cmpuint (unit->blocks->len, ==, 3);
	/* illegal data address on A+B: two requests from now on */
	read_block (&fixture, (guint)input, KITH_MODBUS_STATUS_EXCEPTION,
	            MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS, now);
	g_assert_cmpuint (unit->blocks->len, ==, 4);
	g_assert_true (kith_modbus_splits_contains (unit->splits, KITH_MODBUS_TABLE_INPUT, 4));
	g_assert_cmpint (unit->state, ==, KITH_MODBUS_UNIT_OK);
	/* B alone refused: no longer read, its value unknown (and a warning said so) */
	g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	for (guint i = 0; i < unit->blocks->len; i++) {
		KithModbusBlock *block = g_ptr_array_index (unit->blocks, i);
		if (block->table == KITH_MODBUS_TABLE_INPUT && block->start == 4) {
			read_block (&fixture, i, KITH_MODBUS_STATUS_EXCEPTION,
			            MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS, now);
			break;
		}
	}
	g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	g_assert_cmpuint (unit->blocks->len, ==, 3);
	g_assert_true (unit->disabled[1]);
	g_assert_false (kith_device_get_value (fixture.device, "B")->valid);
	fixture_clear (&fixture);
}

/* a device from an earlier run is probed at once and shown answering when it answers */
static void
test_unit_known (void)
{
	Fixture fixture = { 0 };
	gint64 now = 100 * S;

	fixture_init (&fixture, FALSE, now);
	g_assert_cmpint (fixture.unit->state, ==, KITH_MODBUS_UNIT_SILENT);
	g_assert_cmpint (kith_modbus_unit_pick (fixture.unit, now), ==, 0);
	read_block (&fixture, 0, KITH_MODBUS_STATUS_OK, 0, now);
	g_assert_true (kith_device_is_answering (fixture.device));
	fixture_clear (&fixture);
}

static void
test_unit_line (void)
{
	Fixture fixture = { 0 };
	gint64 now = 100 * S;

	fixture_init (&fixture, TRUE, now);
	kith_modbus_unit_line_down (fixture.unit, "the bus is down: unplugged");
	g_assert_false (kith_device_is_answering (fixture.device));
	g_assert_cmpint (kith_modbus_unit_next_due (fixture.unit), ==, G_MAXINT64);
	kith_modbus_unit_line_up (fixture.unit, now + S);
	g_assert_cmpint (kith_modbus_unit_pick (fixture.unit, now + S), ==, 0);
	fixture_clear (&fixture);
}

static void
test_unit_write (void)
{
	Fixture fixture = { 0 };
	KithValue value = { .type = KITH_VALUE_INT, .valid = TRUE, .integer = 70000 };
	KithValue on = { .type = KITH_VALUE_BOOLEAN, .valid = TRUE, .boolean = TRUE };
	g_autoptr (KithModbusRequest) request = NULL;
	g_autoptr (KithModbusRequest) coil = NULL;
	g_autoptr (GError) error = NULL;

	fixture_init (&fixture, TRUE, 0);
	request = kith_modbus_unit_write_request (fixture.unit, "Set", &value, &error);
	g_assert_no_error (error);
	g_assert_cmpint (request->table, ==, KITH_MODBUS_TABLE_HOLDING);
	g_assert_cmpuint (request->address, ==, 10);
	g_assert_cmpuint (request->count, ==, 2);
	g_assert_cmphex (request->registers[0], ==, 1);
	g_assert_cmphex (request->registers[1], ==, 70000 - 65536);
	coil = kith_modbus_unit_write_request (fixture.unit, "Relay", &on, &error);
	g_assert_cmpint (coil->table, ==, KITH_MODBUS_TABLE_COIL);
	g_assert_cmpuint (coil->bits[0], ==, 1);
	g_assert_false (coil->write_multiple);
	g_assert_null (kith_modbus_unit_write_request (fixture.unit, "A", &value, &error));
	g_assert_nonnull (strstr (error->message, "bus-9: A is not writable"));
	fixture_clear (&fixture);
}

typedef struct {
	const gchar *keys;
	const gchar *message; /* NULL: loads */
} SettingsCase;

static const SettingsCase settings_cases[] = {
	{ "Transport=tcp\nHost=10.0.0.2\nUnits=1:a", NULL },
	{ "Transport=rtu\nDevice=/dev/ttyUSB0\nBaud=19200\nParity=E\nUnits=1-3:a;7:b", NULL },
	{ "Transport=tcp\nHost=h\nDiscover=1-10", NULL },
	{ "Host=h\nUnits=1:a", "[bus:x] Transport: missing" },
	{ "Transport=udp\nUnits=1:a", "[bus:x] Transport: 'udp' is not one of tcp, rtu" },
	{ "Transport=tcp\nUnits=1:a", "[bus:x] Host: missing" },
	{ "Transport=tcp\nHost=h\nBaud=9600\nUnits=1:a",
	  "[bus:x] Baud: applies to Transport=rtu only" },
	{ "Transport=rtu\nDevice=/dev/x\nHost=h\nUnits=1:a",
	  "[bus:x] Host: applies to Transport=tcp" },
	{ "Transport=tcp\nHost=h\nPort=0\nUnits=1:a", "[bus:x] Port: must be 1..65535" },
	{ "Transport=rtu\nUnits=1:a", "[bus:x] Device: missing" },
	{ "Transport=rtu\nDevice=/dev/x\nParity=X\nUnits=1:a",
	  "[bus:x] Parity: 'X' is not one of" },
	{ "Transport=rtu\nDevice=/dev/x\nDataBits=9\nUnits=1:a", "[bus:x] DataBits: 9 is out of" },
	{ "Transport=rtu\nDevice=/dev/x\nStopBits=0\nUnits=1:a",
	  "[bus:x] StopBits: must be 1 or 2" },
	{ "Transport=rtu\nDevice=/dev/x\nRts=sideways\nUnits=1:a", "[bus:x] Rts: 'sideways'" },
	{ "Transport=rtu\nDevice=/dev/x\nUnits=0:a", "[bus:x] Units: '0' is not a unit id 1..247" },
	{ "Transport=rtu\nDevice=/dev/x\nUnits=248:a", "[bus:x] Units: '248' is not a unit id" },
	{ "Transport=tcp\nHost=h\nUnits=1", "[bus:x] Units: '1' is not <unit id>:<profile>" },
	{ "Transport=tcp\nHost=h\nUnits=0:a;255:a", NULL },
	{ "Transport=tcp\nHost=h\nUnits=250:a", "[bus:x] Units: unit 250 cannot be addressed" },
	{ "Transport=tcp\nHost=h\nDiscover=240-255", "[bus:x] Discover: unit 248 cannot be" },
	{ "Transport=tcp\nHost=h\nUnits=1:../x", "[bus:x] Units: '../x' is not a profile name" },
	{ "Transport=tcp\nHost=h\nUnits=1:a;1:b", "[bus:x] Units: unit 1 is listed twice" },
	{ "Transport=tcp\nHost=h\nUnits=1-3:a;2:b", "[bus:x] Units: unit 2 is listed twice" },
	{ "Transport=tcp\nHost=h", "[bus:x] Units: missing: a bus needs Units= or Discover=" },
	{ "Transport=tcp\nHost=h\nUnits=1:a\nInterval=0", "[bus:x] Interval: 0 is out of range" },
	{ "Transport=tcp\nHost=h\nUnits=1:a\nTimeout=x", "[bus:x] Timeout: 'x' is not a number" },
	{ "Transport=tcp\nHost=h\nDiscover=5-1", "[bus:x] Discover: '5-1' is not a range" },
	{ "Transport=tcp\nHost=h\nDiscover=1-2\nDiscoverBudget=0",
	  "[bus:x] DiscoverBudget: must be" },
	{ "Transport=tcp\nHost=h\nUnits=1:a\nMaxGap=-1", "[bus:x] MaxGap: '-1' is not a number" },
	{ "Transport=tcp\nHost=h\nUnits=1:a\nProfiles=/nonexistent",
	  "[bus:x] Profiles: /nonexistent is not a directory" },
	{ "Transport=tcp\nHost=h\nUnits=1:a\nBackoffMax=0.1", "[bus:x] BackoffMax: 0.1 is out" },
};

static void
test_settings (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (settings_cases); i++) {
		const SettingsCase *c = &settings_cases[i];
		g_autofree gchar *data = g_strdup_printf ("[bus:x]\nDriver=modbus\n%s\n", c->keys);
		g_autoptr (GKeyFile) keyfile = g_key_file_new ();
		g_autoptr (GError) error = NULL;
		KithModbusSettings settings;
		gboolean ok;

		g_test_message ("case %u: %s", i, c->keys);
		g_assert_true (g_key_file_load_from_data (keyfile, data, -1, 0, NULL));
		ok = kith_modbus_settings_load (&settings, keyfile, "bus:x", &error);
		if (c->message == NULL) {
			g_assert_no_error (error);
			g_assert_true (ok);
		} else {
			g_assert_false (ok);
			if (!g_str_has_prefix (error->message, c->message))
				g_error ("case %u: '%s' does not start with '%s'", i,
				         error->message, c->message);
		}
		kith_modbus_settings_clear (&settings);
	}
}

static void
test_settings_values (void)
{
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	KithModbusSettings settings;
	const gchar *data = "[bus:x]\nTransport=rtu\nDevice=/dev/ttyUSB0\nBaud=19200\nParity=E\n"
	                    "StopBits=1\nRts=up\nRtsDelay=0.002\nUnits=3-4:a;1:b\nInterval=2.5\n"
	                    "Timeout=0.2\nDiscover=1-3;9\nDiscoverBudget=25\nMaxGap=0\n"
	                    "UnitSwitchDelay=0.01\n";

	g_assert_true (g_key_file_load_from_data (keyfile, data, -1, 0, NULL));
	g_assert_true (kith_modbus_settings_load (&settings, keyfile, "bus:x", NULL));
	g_assert_true (settings.link.rtu);
	g_assert_cmpuint (settings.link.baud, ==, 19200);
	g_assert_cmpint (settings.link.parity, ==, 'E');
	g_assert_cmpint (settings.link.rts, ==, MODBUS_RTU_RTS_UP);
	g_assert_cmpint (settings.link.rts_delay, ==, 2000);
	g_assert_cmpint (settings.link.timeout, ==, 200000);
	g_assert_cmpint (settings.link.byte_timeout, ==, 100000);
	g_assert_cmpint (settings.interval, ==, 2500000);
	g_assert_cmpuint (settings.units->len, ==, 3);
	g_assert_cmpuint (((KithModbusUnitConfig *)g_ptr_array_index (settings.units, 0))->id, ==,
	                  1);
	g_assert_cmpstr (((KithModbusUnitConfig *)g_ptr_array_index (settings.units, 2))->profile,
	                 ==, "a");
	g_assert_cmpuint (settings.discover->len, ==, 4);
	g_assert_cmpuint (settings.discover_budget, ==, 25);
	g_assert_cmpint (settings.discover_timeout, ==, 200000);
	g_assert_cmpint (settings.quirks.max_gap, ==, 0);
	g_assert_cmpfloat (settings.quirks.switch_delay, ==, 0.01);
	g_assert_cmpint (settings.backoff.max, ==, 10 * S);
	kith_modbus_settings_clear (&settings);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/modbus/unit/values", test_unit_values);
	g_test_add_func ("/kith/modbus/unit/early-reads", test_unit_early_reads);
	g_test_add_func ("/kith/modbus/unit/backoff", test_unit_backoff);
	g_test_add_func ("/kith/modbus/unit/refused", test_unit_refused);
	g_test_add_func ("/kith/modbus/unit/known", test_unit_known);
	g_test_add_func ("/kith/modbus/unit/line", test_unit_line);
	g_test_add_func ("/kith/modbus/unit/write", test_unit_write);
	g_test_add_func ("/kith/modbus/settings/errors", test_settings);
	g_test_add_func ("/kith/modbus/settings/values", test_settings_values);
	return g_test_run ();
}
