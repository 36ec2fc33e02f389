/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the datasheets' conversion and compensation math; pure, table-tested */

/* Bosch BME280 / BMP280: trimming parameters (BME280 datasheet 4.2.2, BMP280 3.11.2) */
typedef struct {
	guint16 t1;
	gint16 t2, t3;
	guint16 p1;
	gint16 p2, p3, p4, p5, p6, p7, p8, p9;
	guint8 h1, h3;
	gint16 h2, h4, h5;
	gint8 h6;
} KithBme280Calibration;

/* block: the 26 bytes at 0x88..0xA1; humidity: the 7 bytes at 0xE1..0xE7 (NULL: a BMP280) */
void kith_bme280_parse_calibration (KithBme280Calibration *calibration, const guint8 *block,
                                    const guint8 *humidity);
/* the datasheets' 32/64-bit integer formulas: temperature in 0.01 °C and t_fine, pressure in
 * Pa as Q24.8, humidity in %RH as Q22.10 */
gint32 kith_bme280_compensate_temperature (const KithBme280Calibration *c, gint32 adc_t,
                                           gint32 *t_fine);
guint32 kith_bme280_compensate_pressure (const KithBme280Calibration *c, gint32 adc_p,
                                         gint32 t_fine);
guint32 kith_bme280_compensate_humidity (const KithBme280Calibration *c, gint32 adc_h,
                                         gint32 t_fine);
/* the 20-bit (pressure, temperature) and 16-bit (humidity) readings of the data block at 0xF7 */
void kith_bme280_parse_data (const guint8 *data, gint32 *adc_p, gint32 *adc_t, gint32 *adc_h);

/* Sensirion SHT3x: CRC-8 (poly 0x31, init 0xFF) and the conversions of datasheet 4.13 */
guint8 kith_sht3x_crc (const guint8 *data, gsize len);
gdouble kith_sht3x_temperature (guint16 raw);
gdouble kith_sht3x_humidity (guint16 raw);

/* TE HTU21D / Silicon Labs Si7021: CRC-8 (poly 0x31, init 0x00) and conversions; the two
 * status bits of the raw value are ignored */
guint8 kith_htu21d_crc (const guint8 *data, gsize len);
gdouble kith_htu21d_temperature (guint16 raw);
gdouble kith_htu21d_humidity (guint16 raw);

/* TI TMP102 (12 bits, 13 in extended mode, bit 0 set) and LM75 (9 bits) */
gdouble kith_tmp102_temperature (guint16 raw);
gdouble kith_lm75_temperature (guint16 raw);
/* Microchip MCP9808 ambient temperature register (datasheet equation 5-1) */
gdouble kith_mcp9808_temperature (guint16 raw);
/* ROHM BH1750 in H-resolution mode: lux = count / 1.2 */
gdouble kith_bh1750_lux (guint16 raw);
/* TI ADS1115: volts from a conversion and the full-scale range of the PGA setting */
gdouble kith_ads1115_volts (guint16 raw, gdouble full_scale);

G_END_DECLS
