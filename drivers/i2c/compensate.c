/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "compensate.h"

static guint16
kith_le16 (const guint8 *p)
{
	return (guint16)(p[0] | (p[1] << 8));
}

void
kith_bme280_parse_calibration (KithBme280Calibration *c, const guint8 *block,
                               const guint8 *humidity)
{
	*c = (KithBme280Calibration){ 0 };
	c->t1 = kith_le16 (block + 0);
	c->t2 = (gint16)kith_le16 (block + 2);
	c->t3 = (gint16)kith_le16 (block + 4);
	c->p1 = kith_le16 (block + 6);
	c->p2 = (gint16)kith_le16 (block + 8);
	c->p3 = (gint16)kith_le16 (block + 10);
	c->p4 = (gint16)kith_le16 (block + 12);
	c->p5 = (gint16)kith_le16 (block + 14);
	c->p6 = (gint16)kith_le16 (block + 16);
	c->p7 = (gint16)kith_le16 (block + 18);
	c->p8 = (gint16)kith_le16 (block + 20);
	c->p9 = (gint16)kith_le16 (block + 22);
	if (humidity == NULL)
		return;
	c->h1 = block[25]; /* 0xA1 */
	c->h2 = (gint16)kith_le16 (humidity + 0);
	c->h3 = humidity[2];
	/* 0xE4[7:0] / 0xE5[3:0] and 0xE6[7:0] / 0xE5[7:4], both signed 12-bit */
	c->h4 = (gint16)(((gint8)humidity[3] * 16) | (humidity[4] & 0x0F));
	c->h5 = (gint16)(((gint8)humidity[5] * 16) | (humidity[4] >> 4));
	c->h6 = (gint8)humidity[6];
}

void
kith_bme280_parse_data (const guint8 *d, gint32 *adc_p, gint32 *adc_t, gint32 *adc_h)
{
	*adc_p = (gint32)(((guint32)d[0] << 12) | ((guint32)d[1] << 4) | (d[2] >> 4));
	*adc_t = (gint32)(((guint32)d[3] << 12) | ((guint32)d[4] << 4) | (d[5] >> 4));
	if (adc_h != NULL)
		*adc_h = (gint32)(((guint32)d[6] << 8) | d[7]);
}

gint32
kith_bme280_compensate_temperature (const KithBme280Calibration *c, gint32 adc_t, gint32 *t_fine)
{
	gint32 var1, var2;
	var1 = ((((adc_t >> 3) - ((gint32)c->t1 << 1))) * ((gint32)c->t2)) >> 11;
	var2 = (((((adc_t >> 4) - ((gint32)c->t1)) * ((adc_t >> 4) - ((gint32)c->t1))) >> 12) *
	        ((gint32)c->t3)) >>
	       14;
	*t_fine = var1 + var2;
	return (*t_fine * 5 + 128) >> 8;
}

guint32
kith_bme280_compensate_pressure (const KithBme280Calibration *c, gint32 adc_p, gint32 t_fine)
{
	gint64 var1, var2, p;
	/* the datasheet's shifts: right shifts of negative values floor (arithmetic, as gcc and
	 * clang do), left shifts are multiplications */
	var1 = ((gint64)t_fine) - 128000;
	var2 = var1 * var1 * (gint64)c->p6;
	var2 = var2 + ((var1 * (gint64)c->p5) * 131072);
	var2 = var2 + (((gint64)c->p4) * 34359738368);
	var1 = ((var1 * var1 * (gint64)c->p3) >> 8) + ((var1 * (gint64)c->p2) * 4096);
	var1 = ((((gint64)1) * 140737488355328) + var1) * ((gint64)c->p1) >> 33;
	if (var1 == 0)
		return 0; /* avoids a division by zero */
	p = 1048576 - adc_p;
	p = (((p * 2147483648) - var2) * 3125) / var1;
	var1 = (((gint64)c->p9) * (p >> 13) * (p >> 13)) >> 25;
	var2 = (((gint64)c->p8) * p) >> 19;
	p = ((p + var1 + var2) >> 8) + (((gint64)c->p7) * 16);
	return (guint32)p;
}

guint32
kith_bme280_compensate_humidity (const KithBme280Calibration *c, gint32 adc_h, gint32 t_fine)
{
	gint32 v;
	v = t_fine - ((gint32)76800);
	v = (((((adc_h << 14) - (((gint32)c->h4) << 20) - (((gint32)c->h5) * v)) +
	       ((gint32)16384)) >>
	      15) *
	     (((((((v * ((gint32)c->h6)) >> 10) *
	          (((v * ((gint32)c->h3)) >> 11) + ((gint32)32768))) >>
	         10) +
	        ((gint32)2097152)) *
	               ((gint32)c->h2) +
	       8192) >>
	      14));
	v = (v - (((((v >> 15) * (v >> 15)) >> 7) * ((gint32)c->h1)) >> 4));
	v = (v < 0 ? 0 : v);
	v = (v > 419430400 ? 419430400 : v);
	return (guint32)(v >> 12);
}

static guint8
kith_crc8 (const guint8 *data, gsize len, guint8 init)
{
	guint8 crc = init;
	for (gsize i = 0; i < len; i++) {
		crc ^= data[i];
		for (guint bit = 0; bit < 8; bit++)
			crc = (crc & 0x80) ? (guint8)((crc << 1) ^ 0x31) : (guint8)(crc << 1);
	}
	return crc;
}

guint8
kith_sht3x_crc (const guint8 *data, gsize len)
{
	return kith_crc8 (data, len, 0xFF);
}

gdouble
kith_sht3x_temperature (guint16 raw)
{
	return -45.0 + 175.0 * raw / 65535.0;
}

gdouble
kith_sht3x_humidity (guint16 raw)
{
	return 100.0 * raw / 65535.0;
}

guint8
kith_htu21d_crc (const guint8 *data, gsize len)
{
	return kith_crc8 (data, len, 0x00);
}

gdouble
kith_htu21d_temperature (guint16 raw)
{
	return -46.85 + 175.72 * (raw & 0xFFFC) / 65536.0;
}

gdouble
kith_htu21d_humidity (guint16 raw)
{
	return -6.0 + 125.0 * (raw & 0xFFFC) / 65536.0;
}

gdouble
kith_tmp102_temperature (guint16 raw)
{
	if (raw & 0x0001) /* extended mode: 13 bits */
		return (gint16)(raw & 0xFFF8) / 128.0;
	return (gint16)(raw & 0xFFF0) / 256.0;
}

gdouble
kith_lm75_temperature (guint16 raw)
{
	return (gint16)(raw & 0xFF80) / 256.0;
}

gdouble
kith_mcp9808_temperature (guint16 raw)
{
	guint8 upper = (raw >> 8) & 0x1F, lower = raw & 0xFF;
	if (upper & 0x10) /* below 0 °C: the 13-bit two's complement */
		return (upper & 0x0F) * 16.0 + lower / 16.0 - 256.0;
	return upper * 16.0 + lower / 16.0;
}

gdouble
kith_bh1750_lux (guint16 raw)
{
	return raw / 1.2;
}

gdouble
kith_ads1115_volts (guint16 raw, gdouble full_scale)
{
	return (gint16)raw * full_scale / 32768.0;
}
