/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>

#include "kith-build.h"

#include "drivers/modbus/discovery.h"
#include "drivers/modbus/planner.h"

#define C KITH_MODBUS_TABLE_COIL
#define D KITH_MODBUS_TABLE_DISCRETE
#define I KITH_MODBUS_TABLE_INPUT
#define H KITH_MODBUS_TABLE_HOLDING
#define S 1000000 /* a period of 1 s */

/* "i0+38[0,1] h7+2[2]": table letter, start, count, the items read */
static gchar *
render (GPtrArray *blocks)
{
	GString *out = g_string_new (NULL);
	for (guint i = 0; i < blocks->len; i++) {
		const KithModbusBlock *block = g_ptr_array_index (blocks, i);
		g_string_append_printf (out, "%s%c%u+%u[", i > 0 ? " " : "", "cdih"[block->table],
		                        block -> start, block -> count);
		for (guint j = 0; j < block->items->len; j++)
			g_string_append_printf (out, "%s%u", j > 0 ? "," : "",
			                        g_array_index (block->items, guint, j));
		g_string_append_c (out, ']');
	}
	return g_string_free (out, FALSE);
}

typedef struct {
	const gchar *what;
	KithModbusPlanItem items[12];
	guint n;
	KithModbusLimits limits;
	const gchar *expected;
} PlanCase;

#define LIMITS(regs, bits, gap, one)                                                               \
	{                                                                                          \
		regs, bits, gap, one                                                               \
	}
#define DEFAULT LIMITS (125, 2000, 10, FALSE)

static const PlanCase plan_cases[] = {
	{ "adjacent floats, one request",
	  { { I, 0, 2, S }, { I, 2, 2, S }, { I, 4, 2, S } },
	  3,
	  DEFAULT,
	  "i0+6[0,1,2]" },
	{ "in any order",
	  { { I, 4, 2, S }, { I, 0, 2, S }, { I, 2, 2, S } },
	  3,
	  DEFAULT,
	  "i0+6[1,2,0]" },
	{ "a gap up to the limit is read through",
	  { { I, 0, 2, S }, { I, 12, 2, S } },
	  2,
	  DEFAULT,
	  "i0+14[0,1]" },
	{ "a wider gap starts another request",
	  { { I, 0, 2, S }, { I, 13, 2, S } },
	  2,
	  DEFAULT,
	  "i0+2[0] i13+2[1]" },
	{ "no gap allowed",
	  { { I, 0, 1, S }, { I, 1, 1, S }, { I, 3, 1, S } },
	  3,
	  LIMITS (125, 2000, 0, FALSE),
	  "i0+2[0,1] i3+1[2]" },
	{ "at most max_registers",
	  { { H, 0, 100, S }, { H, 100, 25, S }, { H, 125, 1, S } },
	  3,
	  DEFAULT,
	  "h0+125[0,1] h125+1[2]" },
	{ "a device's smaller limit",
	  { { I, 0, 2, S }, { I, 70, 2, S }, { I, 79, 2, S } },
	  3,
	  LIMITS (80, 2000, 80, FALSE),
	  "i0+72[0,1] i79+2[2]" },
	{ "tables apart",
	  { { I, 0, 1, S }, { H, 1, 1, S }, { I, 1, 1, S }, { C, 0, 1, S }, { D, 0, 1, S } },
	  5,
	  DEFAULT,
	  "c0+1[3] d0+1[4] i0+2[0,2] h1+1[1]" },
	{ "periods apart",
	  { { I, 0, 1, S }, { I, 1, 1, 60 * (gint64)S }, { I, 2, 1, S } },
	  3,
	  DEFAULT,
	  "i0+3[0,2] i1+1[1]" },
	{ "one request per field",
	  { { I, 0, 2, S }, { I, 2, 2, S } },
	  2,
	  LIMITS (125, 2000, 10, TRUE),
	  "i0+2[0] i2+2[1]" },
	{ "overlapping fields share a request",
	  { { H, 0, 2, S }, { H, 1, 1, S }, { H, 0, 1, S } },
	  3,
	  DEFAULT,
	  "h0+2[2,0,1]" },
	{ "bits span gaps of 16 times the register gap",
	  { { C, 0, 1, S }, { C, 161, 1, S }, { C, 400, 1, S } },
	  3,
	  DEFAULT,
	  "c0+162[0,1] c400+1[2]" },
	{ "at most max_bits",
	  { { D, 0, 1, S }, { D, 1999, 1, S }, { D, 2000, 1, S } },
	  3,
	  LIMITS (125, 2000, 200, FALSE),
	  "d0+2000[0,1] d2000+1[2]" },
	{ "a device's smaller bit limit",
	  { { C, 0, 1, S }, { C, 7, 1, S }, { C, 8, 1, S } },
	  3,
	  LIMITS (125, 8, 10, FALSE),
	  "c0+8[0,1] c8+1[2]" },
	{ "nothing to read", { { I, 0, 1, S } }, 0, DEFAULT, "" },
};

static void
test_plan (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (plan_cases); i++) {
		const PlanCase *c = &plan_cases[i];
		g_autoptr (GPtrArray) blocks = NULL;
		g_autofree gchar *text = NULL;

		g_test_message ("case %u: %s", i, c->what);
		blocks = kith_modbus_plan (c->items, c->n, NULL, &c->limits, NULL);
		text = render (blocks);
		g_assert_cmpstr (text, ==, c->expected);
	}
}

static void
test_plan_skip (void)
{
	const KithModbusPlanItem items[] = { { I, 0, 2, S }, { I, 2, 2, S }, { I, 4, 2, S } };
	const gboolean skip[] = { FALSE, TRUE, FALSE };
	KithModbusLimits limits = DEFAULT;
	g_autoptr (GPtrArray) blocks = kith_modbus_plan (items, 3, skip, &limits, NULL);
	g_autofree gchar *text = render (blocks);

	/* a refused field is no longer read, but its registers may be spanned */
	g_assert_cmpstr (text, ==, "i0+6[0,2]");
}

/* a merged read refused: split at the gaps first, then between all fields; remembered */
static void
test_plan_split (void)
{
	const KithModbusPlanItem items[] = {
		{ I, 0, 2, S }, { I, 2, 2, S }, { I, 8, 2, S }, { I, 10, 1, S }, { H, 0, 1, S },
	};
	KithModbusLimits limits = DEFAULT;
	g_autoptr (KithModbusSplits) splits = kith_modbus_splits_new ();
	g_autoptr (GPtrArray) blocks = kith_modbus_plan (items, 5, NULL, &limits, splits);
	g_autofree gchar *text = render (blocks);

	g_assert_cmpstr (text, ==, "i0+11[0,1,2,3] h0+1[4]");
	/* refused: the gap (4..7) goes */
	g_assert_true (kith_modbus_splits_refine (splits, g_ptr_array_index (blocks, 0), items));
	g_assert_true (kith_modbus_splits_contains (splits, I, 8));
	g_clear_pointer (&text, g_free);
	g_clear_pointer (&blocks, g_ptr_array_unref);
	blocks = kith_modbus_plan (items, 5, NULL, &limits, splits);
	text = render (blocks);
	g_assert_cmpstr (text, ==, "i0+4[0,1] i8+3[2,3] h0+1[4]");

	/* refused again, without gaps: one field per request */
	g_assert_true (kith_modbus_splits_refine (splits, g_ptr_array_index (blocks, 1), items));
	g_clear_pointer (&text, g_free);
	g_clear_pointer (&blocks, g_ptr_array_unref);
	blocks = kith_modbus_plan (items, 5, NULL, &limits, splits);
	text = render (blocks);
	g_assert_cmpstr (text, ==, "i0+4[0,1] i8+2[2] i10+1[3] h0+1[4]");

	/* one field alone: nothing left to split (the field is what the unit refuses) */
	g_assert_false (kith_modbus_splits_refine (splits, g_ptr_array_index (blocks, 2), items));
	/* the splits of one table do not touch another */
	g_assert_false (kith_modbus_splits_contains (splits, H, 8));
}

/* the RTU line time of anchors.md §3.1: 19200 8N1 and 9600 8E1 */
static void
test_line_time (void)
{
	const struct {
		guint baud, bits, registers;
		gint64 expected; /* microseconds, to 0.1 ms */
	} cases[] = {
		{ 19200, 10, 1, 11500 }, { 19200, 10, 10, 20800 }, { 19200, 10, 125, 140600 },
		{ 9600, 10, 1, 22900 },  { 9600, 11, 1, 25200 },   { 9600, 11, 125, 309300 },
		{ 115200, 10, 1, 4800 },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		guint request, response;
		gint64 time;
		kith_modbus_block_frames (I, cases[i].registers, &request, &response);
		time = kith_modbus_line_time (cases[i].baud, cases[i].bits, request, response, 0);
		g_assert_cmpint (ABS (time - cases[i].expected), <=, 100);
	}
}

static void
test_frames (void)
{
	guint request, response;
	kith_modbus_block_frames (C, 9, &request, &response);
	g_assert_cmpuint (request, ==, 8);
	g_assert_cmpuint (response, ==, 7);
	kith_modbus_block_frames (H, 10, &request, &response);
	g_assert_cmpuint (response, ==, 25);
}

static void
test_limits (void)
{
	KithModbusQuirks quirks;
	KithModbusLimits limits;

	kith_modbus_quirks_init (&quirks);
	kith_modbus_limits_from_quirks (&limits, &quirks);
	g_assert_cmpuint (limits.max_registers, ==, 125);
	g_assert_cmpuint (limits.max_bits, ==, 2000);
	g_assert_cmpuint (limits.max_gap, ==, 10);
	g_assert_false (limits.one_per_field);
	quirks.max_registers = 80;
	quirks.max_gap = 0;
	quirks.one_per_field = 1;
	kith_modbus_limits_from_quirks (&limits, &quirks);
	g_assert_cmpuint (limits.max_registers, ==, 80);
	g_assert_cmpuint (limits.max_gap, ==, 0);
	g_assert_true (limits.one_per_field);
}

/* the shipped meters: requests per poll, coalesced and one per field */
static void
test_plan_shipped (void)
{
	const struct {
		const gchar *name;
		guint requests;
	} cases[] = {
		{ "eastron-sdm120", 3 },
		{ "eastron-sdm630", 3 },
		{ "xy-md02", 2 },
		{ "waveshare-relay-8ch", 3 },
	};
	const gchar *dirs[] = { KITH_MODBUS_SOURCE_PROFILE_DIR, NULL };

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (KithModbusProfile) profile =
		        kith_modbus_profile_find (dirs, cases[i].name, NULL);
		g_autofree KithModbusPlanItem *items =
		        g_new0 (KithModbusPlanItem, profile->fields->len);
		KithModbusLimits limits;
		g_autoptr (GPtrArray) blocks = NULL;
		g_autoptr (GPtrArray) single = NULL;

		for (guint j = 0; j < profile->fields->len; j++) {
			const KithModbusField *field = g_ptr_array_index (profile->fields, j);
			items[j] = (KithModbusPlanItem){ field->table, field->address,
				                         (guint16)field->count,
				                         field->interval > 0 ? 3600 : 10 };
		}
		kith_modbus_limits_from_quirks (&limits, &profile->quirks);
		blocks = kith_modbus_plan (items, profile->fields->len, NULL, &limits, NULL);
		g_assert_cmpuint (blocks->len, ==, cases[i].requests);
		limits.one_per_field = TRUE;
		single = kith_modbus_plan (items, profile->fields->len, NULL, &limits, NULL);
		g_assert_cmpuint (single->len, ==, profile->fields->len);
	}
}

static gboolean
skip_odd (guint8 unit, gpointer user_data)
{
	return unit % 2 == 1;
}

static void
test_discovery_parse (void)
{
	const struct {
		const gchar *text;
		guint min, max;
		const gchar *ids; /* NULL: an error */
	} cases[] = {
		{ "1-5", 1, 247, "1 2 3 4 5" },
		{ "7", 1, 247, "7" },
		{ "3-4;1;4-6", 1, 247, "3 4 1 5 6" },
		{ " 2 - 3 ; ", 1, 247, "2 3" },
		{ "0-1", 1, 247, NULL },
		{ "0-1", 0, 255, "0 1" },
		{ "240-250", 1, 247, NULL },
		{ "5-3", 1, 247, NULL },
		{ "a-b", 1, 247, NULL },
		{ ";", 1, 247, NULL },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GArray) ids = kith_modbus_discovery_parse (cases[i].text, cases[i].min,
		                                                      cases[i].max, &error);
		g_autoptr (GString) text = g_string_new (NULL);
		if (cases[i].ids == NULL) {
			g_assert_null (ids);
			g_assert_nonnull (error);
			continue;
		}
		g_assert_no_error (error);
		for (guint j = 0; j < ids->len; j++)
			g_string_append_printf (text, "%s%u", j > 0 ? " " : "",
			                        g_array_index (ids, guint8, j));
		g_assert_cmpstr (text->str, ==, cases[i].ids);
	}
}

/* probes take at most the budget's share of the line; known units are passed over */
static void
test_discovery_budget (void)
{
	g_autoptr (GArray) ids = kith_modbus_discovery_parse ("1-5", 1, 247, NULL);
	KithModbusDiscovery *discovery = kith_modbus_discovery_new (ids, 10, 0, 1000);
	gint64 now = 1000;

	g_assert_cmpint (kith_modbus_discovery_next (discovery, now, skip_odd, NULL), ==, 2);
	/* a probe that took 100 ms: the next waits 900 ms */
	kith_modbus_discovery_done (discovery, FALSE, 100000, now + 100000);
	now += 100000;
	g_assert_cmpint (kith_modbus_discovery_due (discovery), ==, now + 900000);
	g_assert_cmpint (kith_modbus_discovery_next (discovery, now + 899999, skip_odd, NULL), ==,
	                 -1);
	now += 900000;
	g_assert_cmpint (kith_modbus_discovery_next (discovery, now, skip_odd, NULL), ==, 4);
	kith_modbus_discovery_done (discovery, TRUE, 1000, now + 1000);
	g_assert_cmpuint (discovery->found, ==, 1);
	/* 5 is known: the sweep ends there */
	g_assert_cmpint (kith_modbus_discovery_next (discovery, now + 10000, skip_odd, NULL), ==,
	                 -1);
	g_assert_cmpuint (discovery->sweeps, ==, 1);
	g_assert_cmpint (kith_modbus_discovery_due (discovery), ==, G_MAXINT64);
	kith_modbus_discovery_free (discovery);

	/* a sweep that repeats, and a budget of 100 % */
	discovery = kith_modbus_discovery_new (ids, 100, 60 * (gint64)S, 0);
	for (guint i = 1; i <= 5; i++) {
		g_assert_cmpint (kith_modbus_discovery_next (discovery, 10, NULL, NULL), ==, i);
		kith_modbus_discovery_done (discovery, FALSE, 5, 10);
	}
	g_assert_cmpint (kith_modbus_discovery_next (discovery, 10, NULL, NULL), ==, -1);
	g_assert_cmpint (kith_modbus_discovery_due (discovery), ==, 10 + 60 * (gint64)S);
	g_assert_cmpint (kith_modbus_discovery_next (discovery, 10 + 60 * (gint64)S, NULL, NULL),
	                 ==, 1);
	kith_modbus_discovery_free (discovery);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/modbus/planner/plan", test_plan);
	g_test_add_func ("/kith/modbus/planner/skip", test_plan_skip);
	g_test_add_func ("/kith/modbus/planner/split", test_plan_split);
	g_test_add_func ("/kith/modbus/planner/line-time", test_line_time);
	g_test_add_func ("/kith/modbus/planner/frames", test_frames);
	g_test_add_func ("/kith/modbus/planner/limits", test_limits);
	g_test_add_func ("/kith/modbus/planner/shipped", test_plan_shipped);
	g_test_add_func ("/kith/modbus/discovery/parse", test_discovery_parse);
	g_test_add_func ("/kith/modbus/discovery/budget", test_discovery_budget);
	return g_test_run ();
}
