/* SPDX-License-Identifier: GPL-3.0-or-later */
/* the chips kith knows: how each is identified and read over SMBus transfers */
#define G_LOG_DOMAIN "kith-i2c"

#include "chips.h"

#include "kith-error.h"

static const KithI2cFieldSpec kith_i2c_thp_fields[] = {
	{ "Temperature", "°C", 2, 0.2 },
	{ "Humidity", "%", 1, 1.0 },
	{ "Pressure", "hPa", 2, 0.5 },
	{ NULL },
};
static const KithI2cFieldSpec kith_i2c_tp_fields[] = {
	{ "Temperature", "°C", 2, 0.2 },
	{ "Pressure", "hPa", 2, 0.5 },
	{ NULL },
};
static const KithI2cFieldSpec kith_i2c_th_fields[] = {
	{ "Temperature", "°C", 2, 0.2 },
	{ "Humidity", "%", 1, 1.0 },
	{ NULL },
};
static const KithI2cFieldSpec kith_i2c_t_fields[] = {
	{ "Temperature", "°C", 2, 0.2 },
	{ NULL },
};
static const KithI2cFieldSpec kith_i2c_lux_fields[] = {
	{ "Illuminance", "lx", 1, 5.0 },
	{ NULL },
};
static const KithI2cFieldSpec kith_i2c_adc_fields[] = {
	{ "A0", "V", 4, 0.01 },
	{ "A1", "V", 4, 0.01 },
	{ "A2", "V", 4, 0.01 },
	{ "A3", "V", 4, 0.01 },
	{ NULL },
};

static const guint8 kith_i2c_bosch_addresses[] = { 0x76, 0x77, 0 };
static const guint8 kith_i2c_sht3x_addresses[] = { 0x44, 0x45, 0 };
static const guint8 kith_i2c_htu21d_addresses[] = { 0x40, 0 };
static const guint8 kith_i2c_x48_addresses[] = { 0x48, 0x49, 0x4A, 0x4B, 0 };
static const guint8 kith_i2c_lm75_addresses[] = {
	0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F, 0
};
static const guint8 kith_i2c_mcp9808_addresses[] = { 0x18, 0x19, 0x1A, 0x1B, 0x1C,
	                                             0x1D, 0x1E, 0x1F, 0 };
static const guint8 kith_i2c_bh1750_addresses[] = { 0x23, 0x5C, 0 };
static const guint8 kith_i2c_mpu_addresses[] = { 0x68, 0x69, 0 };

/* Bosch: the chip id at 0xD0 */
static gboolean
kith_i2c_bosch_id (KithI2cAdapter *adapter, guint8 *id, GError **error)
{
	return kith_i2c_read_byte_data (adapter, 0xD0, id, error);
}

static gboolean
kith_i2c_bme280_identify (KithI2cAdapter *adapter, GError **error)
{
	guint8 id;
	return kith_i2c_bosch_id (adapter, &id, error) && id == 0x60;
}

static gboolean
kith_i2c_bmp280_identify (KithI2cAdapter *adapter, GError **error)
{
	guint8 id;
	/* 0x56 and 0x57 are samples, 0x58 the mass production */
	return kith_i2c_bosch_id (adapter, &id, error) && id >= 0x56 && id <= 0x58;
}

static gboolean
kith_i2c_bme680_identify (KithI2cAdapter *adapter, GError **error)
{
	guint8 id;
	return kith_i2c_bosch_id (adapter, &id, error) && id == 0x61;
}

static gboolean
kith_i2c_bmp180_identify (KithI2cAdapter *adapter, GError **error)
{
	guint8 id;
	return kith_i2c_bosch_id (adapter, &id, error) && id == 0x55;
}

static gboolean
kith_i2c_mcp9808_identify (KithI2cAdapter *adapter, GError **error)
{
	guint16 manufacturer, device;
	return kith_i2c_read_word_swapped (adapter, 0x06, &manufacturer, error) &&
	       manufacturer == 0x0054 &&
	       kith_i2c_read_word_swapped (adapter, 0x07, &device, error) && (device >> 8) == 0x04;
}

static gboolean
kith_i2c_mpu6050_identify (KithI2cAdapter *adapter, GError **error)
{
	guint8 id;
	/* WHO_AM_I: 0x68 on an MPU-6050, 0x71 on an MPU-9250 */
	return kith_i2c_read_byte_data (adapter, 0x75, &id, error) && (id == 0x68 || id == 0x71);
}

static gint kith_i2c_fail_step (GError **error, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static gint
kith_i2c_fail_step (GError **error, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *message = NULL;
	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	g_set_error_literal (error, KITH_ERROR, KITH_ERROR_BUS, message);
	return -1;
}

/* BME280 / BMP280 in normal mode (a measurement every second, oversampling x1, no filter):
 * a readout is one burst read of the data registers, no waiting */
static gint
kith_i2c_bosch_step (KithI2cState *state, KithI2cAdapter *adapter, gboolean humidity,
                     KithI2cReading *reading, GError **error)
{
	KithBme280Calibration *c = &state->calibration.bme280;
	guint8 id, block[26], hblock[7], data[8];
	gint32 adc_p, adc_t, adc_h = 0, t_fine;

	if (!state->ready) {
		if (!kith_i2c_bosch_id (adapter, &id, error))
			return -1;
		if (humidity ? id != 0x60 : (id < 0x56 || id > 0x58))
			return kith_i2c_fail_step (error,
			                           "a chip with id 0x%02x answers at 0x%02x, "
			                           "not a %s",
			                           id, state->address,
			                           humidity ? "BME280" : "BMP280");
		if (!kith_i2c_read_block (adapter, 0x88, block, sizeof (block), error) ||
		    (humidity &&
		     !kith_i2c_read_block (adapter, 0xE1, hblock, sizeof (hblock), error)))
			return -1;
		kith_bme280_parse_calibration (c, block, humidity ? hblock : NULL);
		/* ctrl_hum only takes effect with the write to ctrl_meas after it */
		if ((humidity && !kith_i2c_write_byte_data (adapter, 0xF2, 0x01, error)) ||
		    !kith_i2c_write_byte_data (adapter, 0xF5, 0xA0, error) || /* 1 s standby */
		    !kith_i2c_write_byte_data (adapter, 0xF4, 0x27, error))   /* x1, x1, normal */
			return -1;
		state->ready = TRUE;
		return 50; /* the first measurement */
	}
	if (!kith_i2c_read_block (adapter, 0xF7, data, humidity ? 8 : 6, error))
		return -1;
	kith_bme280_parse_data (data, &adc_p, &adc_t, humidity ? &adc_h : NULL);
	if (adc_t == 0x80000) {
		/* the reset value: the chip was reset (power) and sleeps; configure it again */
		state->ready = FALSE;
		return kith_i2c_fail_step (error, "0x%02x has no measurement (it was reset)",
		                           state->address);
	}
	reading->values[0] = kith_bme280_compensate_temperature (c, adc_t, &t_fine) / 100.0;
	if (humidity) {
		reading->values[1] = kith_bme280_compensate_humidity (c, adc_h, t_fine) / 1024.0;
		reading->values[2] = kith_bme280_compensate_pressure (c, adc_p, t_fine) / 25600.0;
	} else {
		reading->values[1] = kith_bme280_compensate_pressure (c, adc_p, t_fine) / 25600.0;
	}
	return 0;
}

static gint
kith_i2c_bme280_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                      KithI2cReading *reading, GError **error)
{
	return kith_i2c_bosch_step (state, adapter, TRUE, reading, error);
}

static gint
kith_i2c_bmp280_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                      KithI2cReading *reading, GError **error)
{
	return kith_i2c_bosch_step (state, adapter, FALSE, reading, error);
}

/* SHT3x: a single shot (high repeatability, no clock stretching), then the 6 bytes; that read
 * has no command byte, so it needs an adapter with plain I2C transfers */
static gint
kith_i2c_sht3x_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                     KithI2cReading *reading, GError **error)
{
	guint8 data[6];

	if (step == 0)
		return kith_i2c_write_byte_data (adapter, 0x24, 0x00, error) ? 20 : -1;
	if (!kith_i2c_read_plain (adapter, data, sizeof (data), error))
		return -1;
	if (kith_sht3x_crc (data, 2) != data[2] || kith_sht3x_crc (data + 3, 2) != data[5])
		return kith_i2c_fail_step (error, "0x%02x: CRC mismatch", state->address);
	reading->values[0] = kith_sht3x_temperature ((guint16)((data[0] << 8) | data[1]));
	reading->values[1] = kith_sht3x_humidity ((guint16)((data[3] << 8) | data[4]));
	return 0;
}

/* HTU21D / Si7021: "hold master" measurements are SMBus I2C block reads of 3 bytes (value and
 * CRC); at 13-bit temperature and 10-bit humidity the clock stretching stays under the 35 ms a
 * Raspberry Pi's controller allows */
static gint
kith_i2c_htu21d_read (KithI2cAdapter *adapter, guint8 command, guint16 *raw, GError **error)
{
	guint8 data[3];
	if (!kith_i2c_read_block (adapter, command, data, sizeof (data), error))
		return -1;
	if (kith_htu21d_crc (data, 2) != data[2]) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "CRC mismatch (command 0x%02x)",
		             command);
		return -1;
	}
	*raw = (guint16)((data[0] << 8) | data[1]);
	return 0;
}

static gint
kith_i2c_htu21d_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                      KithI2cReading *reading, GError **error)
{
	guint16 temperature, humidity;
	guint8 user;

	if (!state->ready) {
		if (!kith_i2c_read_byte_data (adapter, 0xE7, &user, error) ||
		    !kith_i2c_write_byte_data (adapter, 0xE6, (user & 0x7E) | 0x80, error))
			return -1;
		state->ready = TRUE;
	}
	if (kith_i2c_htu21d_read (adapter, 0xE3, &temperature, error) < 0 ||
	    kith_i2c_htu21d_read (adapter, 0xE5, &humidity, error) < 0)
		return -1;
	reading->values[0] = kith_htu21d_temperature (temperature);
	reading->values[1] = CLAMP (kith_htu21d_humidity (humidity), 0.0, 100.0);
	return 0;
}

/* TMP102, LM75, MCP9808: a temperature register, converting all the time */
static gint
kith_i2c_word_temperature (KithI2cAdapter *adapter, guint8 reg, gdouble (*convert) (guint16),
                           KithI2cReading *reading, GError **error)
{
	guint16 raw;
	if (!kith_i2c_read_word_swapped (adapter, reg, &raw, error))
		return -1;
	reading->values[0] = convert (raw);
	return 0;
}

static gint
kith_i2c_tmp102_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                      KithI2cReading *reading, GError **error)
{
	return kith_i2c_word_temperature (adapter, 0x00, kith_tmp102_temperature, reading, error);
}

static gint
kith_i2c_lm75_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                    KithI2cReading *reading, GError **error)
{
	return kith_i2c_word_temperature (adapter, 0x00, kith_lm75_temperature, reading, error);
}

static gint
kith_i2c_mcp9808_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                       KithI2cReading *reading, GError **error)
{
	if (!state->ready) {
		g_autoptr (GError) error_local = NULL;
		if (!kith_i2c_mcp9808_identify (adapter, &error_local)) {
			if (error_local != NULL) {
				g_propagate_error (error, g_steal_pointer (&error_local));
				return -1;
			}
			return kith_i2c_fail_step (
			        error, "0x%02x is not an MCP9808 (its id differs)", state->address);
		}
		state->ready = TRUE;
	}
	return kith_i2c_word_temperature (adapter, 0x05, kith_mcp9808_temperature, reading, error);
}

/* BH1750: power on, a one-time H-resolution measurement (at most 180 ms), then the 2 bytes,
 * read after the power-down opcode (0x00: the chip is powered down after a one-time
 * measurement anyway), which makes it an SMBus I2C block read */
static gint
kith_i2c_bh1750_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                      KithI2cReading *reading, GError **error)
{
	guint8 data[2];

	if (step == 0)
		return kith_i2c_send_byte (adapter, 0x01, error) &&
		                       kith_i2c_send_byte (adapter, 0x20, error)
		               ? 180
		               : -1;
	if (!kith_i2c_read_block (adapter, 0x00, data, sizeof (data), error))
		return -1;
	reading->values[0] = kith_bh1750_lux ((guint16)((data[0] << 8) | data[1]));
	return 0;
}

/* ADS1115: each input single-ended, single-shot at 128 samples/s, ±4.096 V */
#define KITH_ADS1115_FULL_SCALE 4.096

static gint
kith_i2c_ads1115_step (KithI2cState *state, KithI2cAdapter *adapter, guint step,
                       KithI2cReading *reading, GError **error)
{
	guint16 raw;

	/* step n reads input n-1 and starts the conversion of input n */
	if (step > 0) {
		if (!kith_i2c_read_word_swapped (adapter, 0x00, &raw, error))
			return -1;
		reading->values[step - 1] = kith_ads1115_volts (raw, KITH_ADS1115_FULL_SCALE);
	}
	if (step < 4) {
		/* OS=1, MUX=AINn/GND, PGA=±4.096 V, single shot, 128 SPS, comparator off */
		guint16 config =
		        (guint16)(0x8000 | ((4 + step) << 12) | (1 << 9) | (1 << 8) | (4 << 5) | 3);
		/* a conversion takes 1/128 s */
		return kith_i2c_write_word_swapped (adapter, 0x01, config, error) ? 10 : -1;
	}
	return 0;
}

static const KithI2cChip kith_i2c_chip_table[] = {
	{ "bme280", "BME280", "bosch-sensortec.com", kith_i2c_bosch_addresses,
	  kith_i2c_bme280_identify, kith_i2c_thp_fields, kith_i2c_bme280_step },
	{ "bmp280", "BMP280", "bosch-sensortec.com", kith_i2c_bosch_addresses,
	  kith_i2c_bmp280_identify, kith_i2c_tp_fields, kith_i2c_bmp280_step },
	{ "mcp9808", "MCP9808", "microchip.com", kith_i2c_mcp9808_addresses,
	  kith_i2c_mcp9808_identify, kith_i2c_t_fields, kith_i2c_mcp9808_step },
	{ "sht3x", "SHT3x", "sensirion.com", kith_i2c_sht3x_addresses, NULL, kith_i2c_th_fields,
	  kith_i2c_sht3x_step },
	{ "htu21d", "HTU21D", "te.com", kith_i2c_htu21d_addresses, NULL, kith_i2c_th_fields,
	  kith_i2c_htu21d_step },
	{ "si7021", "Si7021", "silabs.com", kith_i2c_htu21d_addresses, NULL, kith_i2c_th_fields,
	  kith_i2c_htu21d_step },
	{ "tmp102", "TMP102", "ti.com", kith_i2c_x48_addresses, NULL, kith_i2c_t_fields,
	  kith_i2c_tmp102_step },
	{ "lm75", "LM75", "ti.com", kith_i2c_lm75_addresses, NULL, kith_i2c_t_fields,
	  kith_i2c_lm75_step },
	{ "bh1750", "BH1750", "rohm.com", kith_i2c_bh1750_addresses, NULL, kith_i2c_lux_fields,
	  kith_i2c_bh1750_step },
	{ "ads1115", "ADS1115", "ti.com", kith_i2c_x48_addresses, NULL, kith_i2c_adc_fields,
	  kith_i2c_ads1115_step },
	/* identified by their id registers, but kith has no driver for them yet */
	{ "bme680", "BME680", "bosch-sensortec.com", kith_i2c_bosch_addresses,
	  kith_i2c_bme680_identify, NULL, NULL },
	{ "bmp180", "BMP180", "bosch-sensortec.com", kith_i2c_bosch_addresses,
	  kith_i2c_bmp180_identify, NULL, NULL },
	{ "mpu6050", "MPU-6050", "invensense.com", kith_i2c_mpu_addresses,
	  kith_i2c_mpu6050_identify, NULL, NULL },
};

const KithI2cChip *const *
kith_i2c_chips (void)
{
	static const KithI2cChip *chips[G_N_ELEMENTS (kith_i2c_chip_table) + 1];
	if (chips[0] == NULL) {
		for (guint i = 0; i < G_N_ELEMENTS (kith_i2c_chip_table); i++)
			chips[i] = &kith_i2c_chip_table[i];
	}
	return chips;
}

const gchar *const *
kith_i2c_chip_names (void)
{
	static const gchar *names[G_N_ELEMENTS (kith_i2c_chip_table) + 1];
	if (names[0] == NULL) {
		guint n = 0;
		for (guint i = 0; i < G_N_ELEMENTS (kith_i2c_chip_table); i++) {
			if (kith_i2c_chip_table[i].step != NULL)
				names[n++] = kith_i2c_chip_table[i].name;
		}
	}
	return names;
}

const KithI2cChip *
kith_i2c_chip_find (const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS (kith_i2c_chip_table); i++) {
		if (g_strcmp0 (kith_i2c_chip_table[i].name, name) == 0)
			return &kith_i2c_chip_table[i];
	}
	return NULL;
}

gboolean
kith_i2c_chip_can_live_at (const KithI2cChip *chip, guint address)
{
	for (guint i = 0; chip->addresses[i] != 0; i++) {
		if (chip->addresses[i] == address)
			return TRUE;
	}
	return FALSE;
}

const KithI2cChip *
kith_i2c_chip_identify (KithI2cAdapter *adapter, guint address)
{
	for (guint i = 0; i < G_N_ELEMENTS (kith_i2c_chip_table); i++) {
		const KithI2cChip *chip = &kith_i2c_chip_table[i];
		if (chip->identify != NULL && kith_i2c_chip_can_live_at (chip, address) &&
		    chip->identify (adapter, NULL))
			return chip;
	}
	return NULL;
}
