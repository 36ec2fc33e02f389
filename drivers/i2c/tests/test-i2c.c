/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <linux/i2c.h>
#include <math.h>

#include "drivers/i2c/chips.h"
#include "drivers/i2c/compensate.h"
#include "drivers/i2c/scan.h"
#include "driver.h"
#include "kith-error.h"

/* the BMP280 datasheet's worked example (3.12, table 14), the same formulas as the BME280's */
static const guint8 bmp280_block[26] = {
	0x70, 0x6B, /* dig_T1 27504 */
	0x43, 0x67, /* dig_T2 26435 */
	0x18, 0xFC, /* dig_T3 -1000 */
	0x7D, 0x8E, /* dig_P1 36477 */
	0x43, 0xD6, /* dig_P2 -10685 */
	0xD0, 0x0B, /* dig_P3 3024 */
	0x27, 0x0B, /* dig_P4 2855 */
	0x8C, 0x00, /* dig_P5 140 */
	0xF9, 0xFF, /* dig_P6 -7 */
	0x8C, 0x3C, /* dig_P7 15500 */
	0xF8, 0xC6, /* dig_P8 -14600 */
	0x70, 0x17, /* dig_P9 6000 */
	0x00, 0x4B, /* reserved, dig_H1 75 */
};
/* dig_H2 362, dig_H3 0, dig_H4 313, dig_H5 50, dig_H6 30 */
static const guint8 bme280_humidity[7] = { 0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1E };

static void
test_bme280_datasheet (void)
{
	KithBme280Calibration c;
	gint32 t_fine;
	gint32 adc_p, adc_t, adc_h;
	/* adc_P 415148 (0x655AC), adc_T 519888 (0x7EED0), in the register layout of 0xF7.. */
	const guint8 data[8] = { 0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x6E, 0x5C };

	kith_bme280_parse_calibration (&c, bmp280_block, bme280_humidity);
	g_assert_cmpuint (c.t1, ==, 27504);
	g_assert_cmpint (c.t2, ==, 26435);
	g_assert_cmpint (c.t3, ==, -1000);
	g_assert_cmpuint (c.p1, ==, 36477);
	g_assert_cmpint (c.p2, ==, -10685);
	g_assert_cmpint (c.p6, ==, -7);
	g_assert_cmpint (c.p9, ==, 6000);
	g_assert_cmpuint (c.h1, ==, 75);
	g_assert_cmpint (c.h2, ==, 362);
	g_assert_cmpint (c.h4, ==, 313);
	g_assert_cmpint (c.h5, ==, 50);
	g_assert_cmpint (c.h6, ==, 30);
	kith_bme280_parse_data (data, &adc_p, &adc_t, &adc_h);
	g_assert_cmpint (adc_p, ==, 415148);
	g_assert_cmpint (adc_t, ==, 519888);
	g_assert_cmpint (adc_h, ==, 0x6E5C);
	/* datasheet: 25.08 °C, t_fine 128422, 100653.27 Pa (the 64-bit integer formula gives
	 * 25767233 / 256 = 100653.25 Pa) */
	g_assert_cmpint (kith_bme280_compensate_temperature (&c, adc_t, &t_fine), ==, 2508);
	g_assert_cmpint (t_fine, ==, 128422);
	g_assert_cmpfloat_with_epsilon (kith_bme280_compensate_pressure (&c, adc_p, t_fine) / 256.0,
	                                100653.27, 0.05);
}

/* the humidity formula has no worked example in the datasheet: against its floating-point
 * version (BME280 datasheet 8.1) over a range of readings */
static gdouble
bme280_humidity_double (const KithBme280Calibration *c, gint32 adc_h, gint32 t_fine)
{
	gdouble h = t_fine - 76800.0;
	h = (adc_h - (c->h4 * 64.0 + c->h5 / 16384.0 * h)) *
	    (c->h2 / 65536.0 * (1.0 + c->h6 / 67108864.0 * h * (1.0 + c->h3 / 67108864.0 * h)));
	h = h * (1.0 - c->h1 * h / 524288.0);
	return CLAMP (h, 0.0, 100.0);
}

static void
test_bme280_humidity (void)
{
	KithBme280Calibration c;
	kith_bme280_parse_calibration (&c, bmp280_block, bme280_humidity);
	for (gint32 adc_h = 20000; adc_h <= 40000; adc_h += 2500) {
		for (gint32 t_fine = 90000; t_fine <= 150000; t_fine += 20000) {
			gdouble integer =
			        kith_bme280_compensate_humidity (&c, adc_h, t_fine) / 1024.0;
			gdouble reference = bme280_humidity_double (&c, adc_h, t_fine);
			g_assert_cmpfloat_with_epsilon (integer, reference, 0.05);
		}
	}
}

static void
test_crc (void)
{
	/* Sensirion SHT3x datasheet 4.12: CRC (0xBEEF) = 0x92 */
	const guint8 beef[2] = { 0xBE, 0xEF };
	/* HTU21D datasheet: 0x683A has the checksum 0x7C; 0x4E85 has 0x6B */
	const guint8 t[2] = { 0x68, 0x3A }, h[2] = { 0x4E, 0x85 };
	g_assert_cmphex (kith_sht3x_crc (beef, 2), ==, 0x92);
	g_assert_cmphex (kith_htu21d_crc (t, 2), ==, 0x7C);
	g_assert_cmphex (kith_htu21d_crc (h, 2), ==, 0x6B);
}

typedef struct {
	const gchar *what;
	gdouble (*convert) (guint16 raw);
	guint16 raw;
	gdouble expected;
	gdouble epsilon;
} ConversionCase;

static gdouble
ads1115_4v (guint16 raw)
{
	return kith_ads1115_volts (raw, 4.096);
}

static void
test_conversions (void)
{
	const ConversionCase cases[] = {
		/* HTU21D datasheet: 0x683A → 24.7 °C, 0x7C80 → 54.8 %RH */
		{ "htu21d t", kith_htu21d_temperature, 0x683A, 24.69, 0.01 },
		{ "htu21d rh", kith_htu21d_humidity, 0x7C80, 54.79, 0.01 },
		/* SHT3x datasheet 4.13: the full scale ends */
		{ "sht3x t 0", kith_sht3x_temperature, 0x0000, -45.0, 1e-9 },
		{ "sht3x t max", kith_sht3x_temperature, 0xFFFF, 130.0, 1e-9 },
		{ "sht3x t 25", kith_sht3x_temperature, 0x6666, 25.0, 0.01 },
		{ "sht3x rh 50", kith_sht3x_humidity, 0x8000, 50.0, 0.01 },
		/* TMP102 datasheet table 5 (12 bits, left-justified) and table 6 (13 bits) */
		{ "tmp102 128", kith_tmp102_temperature, 0x7FF0, 127.9375, 1e-9 },
		{ "tmp102 25", kith_tmp102_temperature, 0x1900, 25.0, 1e-9 },
		{ "tmp102 0.0625", kith_tmp102_temperature, 0x0010, 0.0625, 1e-9 },
		{ "tmp102 -0.25", kith_tmp102_temperature, 0xFFC0, -0.25, 1e-9 },
		{ "tmp102 -25", kith_tmp102_temperature, 0xE700, -25.0, 1e-9 },
		{ "tmp102 -55", kith_tmp102_temperature, 0xC900, -55.0, 1e-9 },
		{ "tmp102 em 150", kith_tmp102_temperature, 0x4B01, 150.0, 1e-9 },
		{ "tmp102 em -55", kith_tmp102_temperature, 0xE481, -55.0, 1e-9 },
		/* LM75 datasheet table: 9 bits, the rest ignored */
		{ "lm75 125", kith_lm75_temperature, 0x7D00, 125.0, 1e-9 },
		{ "lm75 25", kith_lm75_temperature, 0x1900, 25.0, 1e-9 },
		{ "lm75 0.5", kith_lm75_temperature, 0x0080, 0.5, 1e-9 },
		{ "lm75 -0.5", kith_lm75_temperature, 0xFF80, -0.5, 1e-9 },
		{ "lm75 -25", kith_lm75_temperature, 0xE700, -25.0, 1e-9 },
		{ "lm75 -55", kith_lm75_temperature, 0xC900, -55.0, 1e-9 },
		{ "lm75 low bits", kith_lm75_temperature, 0x197F, 25.0, 1e-9 },
		/* MCP9808 equation 5-1: flag bits ignored, 13-bit two's complement */
		{ "mcp9808 25", kith_mcp9808_temperature, 0x0190, 25.0, 1e-9 },
		{ "mcp9808 flags", kith_mcp9808_temperature, 0xE190, 25.0, 1e-9 },
		{ "mcp9808 0.0625", kith_mcp9808_temperature, 0x0001, 0.0625, 1e-9 },
		{ "mcp9808 -25", kith_mcp9808_temperature, 0x1E70, -25.0, 1e-9 },
		{ "mcp9808 -0.0625", kith_mcp9808_temperature, 0x1FFF, -0.0625, 1e-9 },
		/* BH1750 datasheet: 1000_0011_1001_0000 = 33680 counts = 28067 lx */
		{ "bh1750", kith_bh1750_lux, 0x8390, 28066.67, 0.01 },
		/* ADS1115 datasheet table 3, FSR ±4.096 V */
		{ "ads1115 +fs", ads1115_4v, 0x7FFF, 4.095875, 1e-6 },
		{ "ads1115 -fs", ads1115_4v, 0x8000, -4.096, 1e-9 },
		{ "ads1115 half", ads1115_4v, 0x4000, 2.048, 1e-9 },
		{ "ads1115 lsb", ads1115_4v, 0x0001, 0.000125, 1e-9 },
		{ "ads1115 -lsb", ads1115_4v, 0xFFFF, -0.000125, 1e-9 },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		gdouble value = cases[i].convert (cases[i].raw);
		if (fabs (value - cases[i].expected) > cases[i].epsilon)
			g_error ("%s: 0x%04x gives %f, expected %f", cases[i].what, cases[i].raw,
			         value, cases[i].expected);
	}
}

static void
test_scan_rules (void)
{
	const gulong all = I2C_FUNC_SMBUS_QUICK | I2C_FUNC_SMBUS_READ_BYTE;
	const struct {
		guint address;
		gulong funcs;
		KithI2cProbe probe;
	} cases[] = {
		{ 0x00, all, KITH_I2C_PROBE_NONE }, /* general call */
		{ 0x07, all, KITH_I2C_PROBE_NONE }, /* reserved */
		{ 0x08, all, KITH_I2C_PROBE_QUICK_WRITE },
		{ 0x2F, all, KITH_I2C_PROBE_QUICK_WRITE },
		{ 0x30, all, KITH_I2C_PROBE_RECEIVE_BYTE }, /* EEPROM-like: no quick write */
		{ 0x37, all, KITH_I2C_PROBE_RECEIVE_BYTE },
		{ 0x38, all, KITH_I2C_PROBE_QUICK_WRITE },
		{ 0x4F, all, KITH_I2C_PROBE_QUICK_WRITE },
		{ 0x50, all, KITH_I2C_PROBE_RECEIVE_BYTE }, /* EEPROMs (AT24RF08 corrupts) */
		{ 0x5F, all, KITH_I2C_PROBE_RECEIVE_BYTE },
		{ 0x60, all, KITH_I2C_PROBE_QUICK_WRITE },
		{ 0x76, all, KITH_I2C_PROBE_QUICK_WRITE },
		{ 0x77, all, KITH_I2C_PROBE_QUICK_WRITE },
		{ 0x78, all, KITH_I2C_PROBE_NONE }, /* 10-bit addressing */
		{ 0x7F, all, KITH_I2C_PROBE_NONE },
		/* an adapter without quick write: only the receive-byte addresses; and the other
		   way */
		{ 0x76, I2C_FUNC_SMBUS_READ_BYTE, KITH_I2C_PROBE_NONE },
		{ 0x50, I2C_FUNC_SMBUS_READ_BYTE, KITH_I2C_PROBE_RECEIVE_BYTE },
		{ 0x50, I2C_FUNC_SMBUS_QUICK, KITH_I2C_PROBE_NONE },
		{ 0x48, I2C_FUNC_SMBUS_QUICK, KITH_I2C_PROBE_QUICK_WRITE },
		/* i2c-stub's functionality mask */
		{ 0x76, 0x0c7f0000, KITH_I2C_PROBE_QUICK_WRITE },
		{ 0x50, 0x0c7f0000, KITH_I2C_PROBE_RECEIVE_BYTE },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		KithI2cProbe probe = kith_i2c_scan_probe (cases[i].address, cases[i].funcs);
		if (probe != cases[i].probe)
			g_error ("0x%02x funcs 0x%lx: %s, expected %s", cases[i].address,
			         cases[i].funcs, kith_i2c_probe_to_string (probe),
			         kith_i2c_probe_to_string (cases[i].probe));
	}
}

static void
test_addresses (void)
{
	const struct {
		const gchar *text;
		const gchar *error; /* NULL: valid */
		guint n_scan;       /* addresses scanned */
		guint n_named;
	} cases[] = {
		{ "", NULL, 0x70, 0 },
		{ NULL, NULL, 0x70, 0 },
		{ "0x76", NULL, 1, 0 },
		{ "0x76;0x48", NULL, 2, 0 },
		{ "0x40-0x47", NULL, 8, 0 },
		{ "0x40-0x47;0x76;", NULL, 9, 0 },
		{ "76", NULL, 1, 0 },
		{ "0x76:bme280", NULL, 0x6F, 1 },
		{ "0x48:tmp102;0x76", NULL, 1, 1 },
		{ "0x48:TMP102", NULL, 0x6F, 1 },
		{ "0x76:bme280;0x76", NULL, 0, 1 },
		{ "0x05:lm75", NULL, 0x70, 1 },
		{ "0x48:tmp102;0x48:lm75", "named twice", 0, 0 },
		{ "0x76:bme999", "unknown chip 'bme999'", 0, 0 },
		{ "0x76:bme680", "unknown chip 'bme680'", 0, 0 },
		{ "0x80", "not an address", 0, 0 },
		{ "0x03", "reserved", 0, 0 },
		{ "0x78", "reserved", 0, 0 },
		{ "0x47-0x40", "empty range", 0, 0 },
		{ "bme280", "not an address", 0, 0 },
		{ "0x76:", "not ADDRESS:CHIP", 0, 0 },
		{ "0x01:lm75", "reserved", 0, 0 },
		{ "0x1234", "not an address", 0, 0 },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GPtrArray) named =
		        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_i2c_named_free);
		gboolean scan[128];
		guint n = 0;
		gboolean ok = kith_i2c_parse_addresses (cases[i].text, kith_i2c_chip_names (), scan,
		                                        named, &error);
		if (cases[i].error != NULL) {
			if (ok || strstr (error->message, cases[i].error) == NULL)
				g_error ("'%s': expected an error with '%s', got %s", cases[i].text,
				         cases[i].error, ok ? "none" : error->message);
			continue;
		}
		if (!ok)
			g_error ("'%s': %s", cases[i].text, error->message);
		for (guint a = 0; a < 128; a++)
			n += scan[a] ? 1 : 0;
		g_assert_cmpuint (n, ==, cases[i].n_scan);
		g_assert_cmpuint (named->len, ==, cases[i].n_named);
		g_assert_false (scan[0x00] || scan[0x7F]);
	}
}

static void
test_chips (void)
{
	const gchar *const *names = kith_i2c_chip_names ();
	const gchar *wanted[] = { "bme280", "bmp280", "sht3x",   "htu21d", "si7021",
		                  "tmp102", "lm75",   "mcp9808", "bh1750", "ads1115" };
	for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
		g_assert_true (g_strv_contains (names, wanted[i]));
	g_assert_false (g_strv_contains (names, "bme680"));
	g_assert_nonnull (kith_i2c_chip_find ("bme680"));
	g_assert_true (kith_i2c_chip_can_live_at (kith_i2c_chip_find ("bme280"), 0x76));
	g_assert_false (kith_i2c_chip_can_live_at (kith_i2c_chip_find ("bme280"), 0x48));
}

typedef struct {
	const gchar *keys; /* the [bus:i2c] group after Driver=i2c */
	const gchar *error;
	guint devices;
} ConfigCase;

static void
test_config (void)
{
	const ConfigCase cases[] = {
		{ "Adapter=1\nScan=false", NULL, 0 },
		{ "Adapter=1\nScan=false\nAddresses=0x76:bme280;0x48:tmp102", NULL, 2 },
		{ "Scan=true\nAddresses=0x40:htu21d", NULL, 1 },
		{ "Adapter=x", "[bus:i2c1] Adapter: 'x' is not a number", 0 },
		{ "Adapter=-1", "Adapter", 0 },
		{ "Interval=0", "[bus:i2c1] Interval", 0 },
		{ "Scan=maybe", "[bus:i2c1] Scan", 0 },
		{ "Addresses=0x76:nope", "[bus:i2c1] Addresses: 0x76:nope: unknown chip", 0 },
		{ "Addresses=0x76:bme280;0x76:bmp280", "named twice", 0 },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (GKeyFile) keyfile = g_key_file_new ();
		g_autofree gchar *text =
		        g_strdup_printf ("[bus:i2c1]\nDriver=i2c\n%s\n", cases[i].keys);
		g_autoptr (KithDriver) driver = kith_driver_new ("i2c", "i2c1", &error);
		gboolean ok;

		g_assert_no_error (error);
		g_assert_true (g_key_file_load_from_data (keyfile, text, -1, 0, NULL));
		ok = kith_driver_setup (driver, keyfile, "bus:i2c1", &error);
		if (cases[i].error != NULL) {
			if (ok || strstr (error->message, cases[i].error) == NULL)
				g_error ("%s: expected '%s', got %s", cases[i].keys, cases[i].error,
				         ok ? "no error" : error->message);
			continue;
		}
		if (!ok)
			g_error ("%s: %s", cases[i].keys, error->message);
		g_assert_cmpuint (kith_driver_get_devices (driver)->len, ==, cases[i].devices);
	}
	{
		g_autoptr (GKeyFile) keyfile = g_key_file_new ();
		g_autoptr (KithDriver) driver = kith_driver_new ("i2c", "i2c1", NULL);
		KithDevice *device;
		g_assert_true (g_key_file_load_from_data (
		        keyfile, "[bus:i2c1]\nDriver=i2c\nAddresses=0x76:bme280\n", -1, 0, NULL));
		g_assert_true (kith_driver_setup (driver, keyfile, "bus:i2c1", NULL));
		device = kith_driver_find_device (driver, "i2c1-76-bme280");
		g_assert_nonnull (device);
		g_assert_cmpstr (kith_device_get_key (device), ==, "0x76:bme280");
		g_assert_cmpstr (kith_device_get_model (device), ==, "BME280");
		g_assert_nonnull (kith_device_find_field (device, "Pressure"));
		g_assert_true (kith_driver_discovers (driver));
	}
	{
		g_autoptr (GKeyFile) keyfile = g_key_file_new ();
		g_autoptr (KithDriver) driver = kith_driver_new ("i2c", "i2c1", NULL);
		g_assert_true (g_key_file_load_from_data (
		        keyfile, "[bus:i2c1]\nDriver=i2c\nScan=false\nAddresses=0x76:bme280\n", -1,
		        0, NULL));
		g_assert_true (kith_driver_setup (driver, keyfile, "bus:i2c1", NULL));
		g_assert_false (kith_driver_discovers (driver));
	}
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/i2c/bme280-datasheet", test_bme280_datasheet);
	g_test_add_func ("/kith/i2c/bme280-humidity", test_bme280_humidity);
	g_test_add_func ("/kith/i2c/crc", test_crc);
	g_test_add_func ("/kith/i2c/conversions", test_conversions);
	g_test_add_func ("/kith/i2c/scan-rules", test_scan_rules);
	g_test_add_func ("/kith/i2c/addresses", test_addresses);
	g_test_add_func ("/kith/i2c/chips", test_chips);
	g_test_add_func ("/kith/i2c/config", test_config);
	return g_test_run ();
}
