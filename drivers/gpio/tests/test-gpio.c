/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "drivers/gpio/debounce.h"
#include "drivers/gpio/gpio-config.h"
#include "driver.h"
#include "kith-error.h"

#define MS (G_GINT64_CONSTANT (1000000))

typedef struct {
	const gchar *keys;  /* the [bus:pins:door] group */
	const gchar *error; /* NULL: valid */
} ItemCase;

static void
test_item_config (void)
{
	const ItemCase cases[] = {
		{ "Line=GPIO17", NULL },
		{ "Line=17", "17 is a line offset: it needs Chip=" },
		{ "Line=17\nChip=gpiochip0", NULL },
		{ "Lines=GPIO5;GPIO6;GPIO13", NULL },
		{ "Lines=GPIO5;GPIO6;", NULL },
		{ "", "[bus:pins:door] Line: missing" },
		{ "Line=", "[bus:pins:door] Line: empty" },
		{ "Line=A\nLines=B;C", "Line= and Lines= together" },
		{ "Lines=A;;B", "[bus:pins:door] Lines: an empty entry" },
		{ "Lines=A;A", "A is listed twice" },
		{ "Line=A\nDirection=sideways",
		  "Direction: 'sideways' is not one of input, output" },
		{ "Line=A\nBias=pull-up", NULL },
		{ "Line=A\nBias=strong", "Bias: 'strong' is not one of" },
		{ "Line=A\nActiveLow=yes please", "ActiveLow: 'yes please' is not true or false" },
		{ "Line=A\nDebounce=20", NULL },
		{ "Line=A\nDebounce=-1", "Debounce: '-1' is not a number in 0..60000" },
		{ "Line=A\nDebounce=60001", "Debounce" },
		{ "Line=A\nDirection=output\nDebounce=5", "Debounce: only for inputs" },
		{ "Line=A\nDirection=output\nMode=counter", "Mode: only for inputs" },
		{ "Line=A\nInitial=true", "Initial: only for outputs" },
		{ "Line=A\nDirection=output\nInitial=true", NULL },
		{ "Line=A\nMode=counter\nCountEdge=falling\nRateInterval=10", NULL },
		{ "Line=A\nCountEdge=rising", "CountEdge: only for Mode=counter" },
		{ "Line=A\nMode=counter\nCountEdge=up", "CountEdge: 'up' is not one of" },
		{ "Line=A\nMode=counter\nRateInterval=0", "RateInterval" },
		{ "Lines=A;B\nMode=counter", "a counter counts one line" },
		{ "Line=A\nMode=counter\nField=Pulses", "a counter's fields are Count and Rate" },
		{ "Lines=A;B\nFields=Left;Right", NULL },
		{ "Lines=A;B\nFields=Left", "Fields: 1 names for 2 lines" },
		{ "Lines=A;B\nFields=X;X", "X names two lines" },
		{ "Lines=A;B\nField=X", "Field: for one line" },
		{ "Line=A\nFields=X", "Fields: for a group of lines" },
		{ "Lines=A;B\nDirection=output\nFields=Pulse;B", "Pulse is taken" },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GKeyFile) keyfile = g_key_file_new ();
		g_autofree gchar *text = g_strdup_printf ("[bus:pins:door]\n%s\n", cases[i].keys);
		g_autoptr (KithGpioItemConfig) config = NULL;

		g_assert_true (g_key_file_load_from_data (keyfile, text, -1, 0, NULL));
		config = kith_gpio_item_config_parse (keyfile, "bus:pins:door", NULL, &error);
		if (cases[i].error == NULL) {
			if (config == NULL)
				g_error ("%s: %s", cases[i].keys, error->message);
			continue;
		}
		if (config != NULL || strstr (error->message, cases[i].error) == NULL)
			g_error ("%s: expected '%s', got %s", cases[i].keys, cases[i].error,
			         config != NULL ? "no error" : error->message);
		g_assert_true (g_error_matches (error, KITH_ERROR, KITH_ERROR_CONFIG));
	}
}

static void
test_item_defaults (void)
{
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (KithGpioItemConfig) input = NULL, output = NULL, group = NULL;
	g_autoptr (KithGpioItemConfig) counter = NULL;
	const gchar *text = "[bus:pins:door]\nLine=GPIO17\n"
	                    "[bus:pins:relay]\nLine=3\nDirection=output\nChip=pinctrl-rp1\n"
	                    "[bus:pins:dip]\nLines=GPIO5;7\n"
	                    "[bus:pins:meter]\nLine=GPIO4\nMode=counter\nCountEdge=both\n";

	g_assert_true (g_key_file_load_from_data (keyfile, text, -1, 0, NULL));
	input = kith_gpio_item_config_parse (keyfile, "bus:pins:door", NULL, NULL);
	g_assert_nonnull (input);
	g_assert_cmpstr (input->item, ==, "door");
	g_assert_cmpstr (input->fields[0], ==, "State");
	g_assert_null (input->chip);
	g_assert_cmpint (input->direction, ==, KITH_GPIO_INPUT);
	g_assert_cmpint (input->bias, ==, KITH_GPIO_BIAS_AS_IS);
	output = kith_gpio_item_config_parse (keyfile, "bus:pins:relay", "gpiochip0", NULL);
	g_assert_nonnull (output);
	g_assert_cmpstr (output->fields[0], ==, "Output");
	g_assert_cmpstr (output->chip, ==, "pinctrl-rp1"); /* the item's Chip= wins */
	group = kith_gpio_item_config_parse (keyfile, "bus:pins:dip", "gpiochip0", NULL);
	g_assert_nonnull (group);
	g_assert_cmpstr (group->chip, ==, "gpiochip0");
	g_assert_cmpstr (group->fields[0], ==, "GPIO5");
	g_assert_cmpstr (group->fields[1], ==, "Line7");
	counter = kith_gpio_item_config_parse (keyfile, "bus:pins:meter", NULL, NULL);
	g_assert_nonnull (counter);
	g_assert_cmpint (counter->mode, ==, KITH_GPIO_MODE_COUNTER);
	g_assert_cmpint (counter->count_edge, ==, KITH_GPIO_EDGE_BOTH);
	g_assert_cmpuint (counter->rate_interval, ==, 60);
}

/* devices, ids and fields from a configuration, without hardware (setup opens nothing) */
static void
test_driver_setup (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (KithDriver) driver = kith_driver_new ("gpio", "pins", &error);
	const gchar *text = "[bus:pins]\nDriver=gpio\nChip=gpiochip0\n"
	                    "[bus:pins:door]\nLine=GPIO17\nLabel=Front door\n"
	                    "[bus:pins:relay]\nLine=3\nDirection=output\n"
	                    "[bus:pins:relays]\nLines=4;5\nDirection=output\n"
	                    "[bus:pins:meter]\nLine=GPIO4\nMode=counter\n"
	                    "[bus:other:x]\nLine=9\n";
	KithDevice *device;
	const KithField *field;

	g_assert_no_error (error);
	g_assert_true (g_key_file_load_from_data (keyfile, text, -1, 0, NULL));
	g_assert_true (kith_driver_setup (driver, keyfile, "bus:pins", &error));
	g_assert_no_error (error);
	g_assert_cmpuint (kith_driver_get_devices (driver)->len, ==, 4);
	device = kith_driver_find_device (driver, "pins-door");
	g_assert_nonnull (device);
	g_assert_cmpstr (kith_device_get_label (device), ==, "Front door");
	field = kith_device_find_field (device, "State");
	g_assert_nonnull (field);
	g_assert_false (field->writable);
	device = kith_driver_find_device (driver, "pins-relay");
	g_assert_true (kith_device_find_field (device, "Output")->writable);
	field = kith_device_find_field (device, "Pulse");
	g_assert_nonnull (field);
	g_assert_true (field->writable);
	g_assert_cmpint (field->type, ==, KITH_VALUE_INT);
	device = kith_driver_find_device (driver, "pins-relays");
	g_assert_nonnull (kith_device_find_field (device, "Line4"));
	g_assert_null (kith_device_find_field (device, "Pulse"));
	device = kith_driver_find_device (driver, "pins-meter");
	g_assert_cmpint (kith_device_find_field (device, "Count")->type, ==, KITH_VALUE_INT);
	g_assert_cmpstr (kith_device_find_field (device, "Rate")->unit, ==, "Hz");
}

/* a sequence of edges (level, ms) and settle times; what the debouncer accepts */
typedef struct {
	const gchar *what;
	gint64 period_ms;
	const gchar *script; /* "u10 d12 u14 s300": up/down at ms, settle at ms */
	guint64 rising, falling;
	gboolean stable;
} DebounceCase;

static void
test_debounce (void)
{
	const DebounceCase cases[] = {
		{ "no debounce: every edge", 0, "u10 d20 u30 d40", 2, 2, FALSE },
		{ "no debounce: a dropped edge", 0, "u10 u20", 2, 1, TRUE },
		{ "bounces, then settles high", 50, "u10 d12 u14 d15 u17 s30 s67", 1, 0, TRUE },
		{ "bounces back to low", 50, "u10 d12 u14 d15 s100", 0, 0, FALSE },
		{ "two clean pulses", 20, "u0 s20 d100 s120 u200 s220 d300 s320", 2, 2, FALSE },
		{ "settle too early does nothing", 20, "u0 s10", 0, 0, FALSE },
		{ "a glitch shorter than the period", 20, "u0 d5 s25", 0, 0, FALSE },
		{ "the level read at settle time wins", 20, "u0 S40", 0, 0, FALSE },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_auto (GStrv) steps = g_strsplit (cases[i].script, " ", -1);
		KithGpioDebounce d;
		gboolean level = FALSE;

		kith_gpio_debounce_init (&d, cases[i].period_ms * MS, FALSE);
		for (guint j = 0; steps[j] != NULL; j++) {
			gint64 t = g_ascii_strtoll (steps[j] + 1, NULL, 10) * MS;
			switch (steps[j][0]) {
			case 'u':
			case 'd':
				level = steps[j][0] == 'u';
				kith_gpio_debounce_edge (&d, level, t);
				break;
			case 's': /* settle with the level of the last edge */
				kith_gpio_debounce_settle (&d, t, level, NULL);
				break;
			case 'S': /* settle with the line read low */
				kith_gpio_debounce_settle (&d, t, FALSE, NULL);
				break;
			}
		}
		if (d.rising != cases[i].rising || d.falling != cases[i].falling ||
		    d.stable != cases[i].stable)
			g_error ("%s: rising %" G_GUINT64_FORMAT " falling %" G_GUINT64_FORMAT
			         " stable %d",
			         cases[i].what, d.rising, d.falling, d.stable);
	}
}

static void
test_debounce_deadline (void)
{
	KithGpioDebounce d;
	gint64 when = 0;

	kith_gpio_debounce_init (&d, 50 * MS, FALSE);
	g_assert_cmpint (kith_gpio_debounce_deadline (&d), ==, 0);
	g_assert_false (kith_gpio_debounce_edge (&d, TRUE, 1000 * MS));
	g_assert_cmpint (kith_gpio_debounce_deadline (&d), ==, 1050 * MS);
	g_assert_false (kith_gpio_debounce_edge (&d, FALSE, 1010 * MS));
	g_assert_false (kith_gpio_debounce_edge (&d, TRUE, 1020 * MS));
	g_assert_cmpint (kith_gpio_debounce_deadline (&d), ==, 1070 * MS);
	g_assert_false (kith_gpio_debounce_settle (&d, 1069 * MS, TRUE, &when));
	g_assert_true (kith_gpio_debounce_settle (&d, 1070 * MS, TRUE, &when));
	g_assert_cmpint (when, ==, 1020 * MS); /* the new level's time is its last edge's */
	g_assert_cmpint (kith_gpio_debounce_deadline (&d), ==, 0);
}

static void
test_rate (void)
{
	g_assert_cmpfloat_with_epsilon (kith_gpio_rate (0, 10, 0, 1000 * MS), 10.0, 1e-9);
	g_assert_cmpfloat_with_epsilon (kith_gpio_rate (5, 8, 0, 60000 * MS), 0.05, 1e-9);
	g_assert_cmpfloat (kith_gpio_rate (5, 5, 0, 1000 * MS), ==, 0.0);
	g_assert_cmpfloat (kith_gpio_rate (0, 5, 10, 10), ==, 0.0);
	g_assert_cmpfloat (kith_gpio_rate (9, 5, 0, 10), ==, 0.0);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/gpio/item-config", test_item_config);
	g_test_add_func ("/kith/gpio/item-defaults", test_item_defaults);
	g_test_add_func ("/kith/gpio/driver-setup", test_driver_setup);
	g_test_add_func ("/kith/gpio/debounce", test_debounce);
	g_test_add_func ("/kith/gpio/debounce-deadline", test_debounce_deadline);
	g_test_add_func ("/kith/gpio/rate", test_rate);
	return g_test_run ();
}
