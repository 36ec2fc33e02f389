/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "device.h"

static KithDevice *
make_thermometer (void)
{
	KithDevice *device = kith_device_new ("t-1", "Kitchen");
	KithField *field = kith_field_new ("Temperature", KITH_VALUE_NUMERIC, "°C");
	field->decimals = 2;
	field->status_decimals = 1;
	field->presence_step = 0.5;
	field->in_status = TRUE;
	kith_device_add_field (device, field);
	field = kith_field_new ("Humidity", KITH_VALUE_NUMERIC, "%");
	field->status_decimals = 0;
	field->presence_step = 2;
	field->in_status = TRUE;
	kith_device_add_field (device, field);
	return device;
}

static void
test_status (void)
{
	g_autoptr (KithDevice) device = make_thermometer ();
	g_autofree gchar *unknown = kith_device_format_status (device, NULL);
	g_autofree gchar *status = NULL;

	g_assert_cmpstr (unknown, ==, "Temperature unknown, Humidity unknown");
	kith_device_set_number (device, "Temperature", 21.43, 1);
	kith_device_set_number (device, "Humidity", 47.6, 1);
	status = kith_device_format_status (device, NULL);
	g_assert_cmpstr (status, ==, "21.4 °C, 48 %");
}

static void
test_presence_step (void)
{
	g_autoptr (KithDevice) device = make_thermometer ();

	kith_device_set_number (device, "Temperature", 21.0, 1);
	kith_device_set_number (device, "Humidity", 40.0, 1);
	g_assert_true (kith_device_status_changed (device));  /* first time */
	g_assert_false (kith_device_status_changed (device)); /* nothing moved */
	kith_device_set_number (device, "Temperature", 21.3, 2);
	g_assert_false (kith_device_status_changed (device)); /* below the step */
	kith_device_set_number (device, "Temperature", 21.6, 3);
	g_assert_true (kith_device_status_changed (device)); /* 0.6 from 21.0 */
	kith_device_set_number (device, "Humidity", 41.0, 4);
	g_assert_false (kith_device_status_changed (device));
	kith_device_set_number (device, "Humidity", 43.0, 5);
	g_assert_true (kith_device_status_changed (device));
}

static void
test_values (void)
{
	gboolean b = FALSE;
	KithValue v = { .type = KITH_VALUE_NUMERIC, .valid = TRUE, .number = 21.5 };
	g_autofree gchar *text = kith_value_to_string (&v, 2);

	g_assert_cmpstr (text, ==, "21.50");
	g_assert_true (kith_parse_boolean ("TRUE", &b) && b);
	g_assert_true (kith_parse_boolean ("0", &b) && !b);
	g_assert_true (kith_parse_boolean ("False", &b) && !b);
	g_assert_false (kith_parse_boolean ("yes", &b));
	g_assert_false (kith_parse_boolean (NULL, &b));
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/device/status", test_status);
	g_test_add_func ("/kith/device/presence-step", test_presence_step);
	g_test_add_func ("/kith/device/values", test_values);
	return g_test_run ();
}
