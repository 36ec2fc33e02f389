/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-i2c"

#include "adapter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <sys/ioctl.h>
#include <string.h>
#include <unistd.h>

#include "kith-error.h"

struct _KithI2cAdapter {
	gint fd;
	guint number;
	guint address;
	gulong funcs;
};

/* the one place errno of i2c-dev becomes an error */
static gboolean
kith_i2c_fail (KithI2cAdapter *self, GError **error, gint code, const gchar *what)
{
	switch (code) {
	case ENXIO:     /* no ACK to the address: most controllers */
	case EREMOTEIO: /* the same on some (i2c-bcm2835 returns it for a NACK) */
	case ENODEV:    /* i2c-stub: nothing at that address */
	case EIO:
	case ETIMEDOUT:
	case EAGAIN:
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS,
		             "no answer from 0x%02x on i2c-%u (%s: %s)", self->address,
		             self->number, what, g_strerror (code));
		break;
	case EOPNOTSUPP:
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "i2c-%u cannot do %s (the adapter does not support it)", self->number,
		             what);
		break;
	case EBUSY:
		g_set_error (error, KITH_ERROR, KITH_ERROR_FORBIDDEN,
		             "0x%02x on i2c-%u is in use by a kernel driver", self->address,
		             self->number);
		break;
	default:
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "i2c-%u, 0x%02x: %s: %s",
		             self->number, self->address, what, g_strerror (code));
		break;
	}
	return FALSE;
}

KithI2cAdapter *
kith_i2c_adapter_open (guint number, GError **error)
{
	g_autofree gchar *path = g_strdup_printf ("/dev/i2c-%u", number);
	g_autofree KithI2cAdapter *self = g_new0 (KithI2cAdapter, 1);
	gint saved;

	self->number = number;
	self->fd = open (path, O_RDWR | O_CLOEXEC);
	if (self->fd < 0) {
		saved = errno;
		g_set_error (error, KITH_ERROR,
		             saved == ENOENT ? KITH_ERROR_NOT_FOUND : KITH_ERROR_BUS, "%s: %s%s",
		             path, g_strerror (saved),
		             saved == ENOENT   ? " (is the i2c-dev module loaded, the bus enabled?)"
		             : saved == EACCES ? " (add the user to the i2c group)"
		                               : "");
		return NULL;
	}
	if (ioctl (self->fd, I2C_FUNCS, &self->funcs) < 0) {
		saved = errno;
		close (self->fd);
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "%s: I2C_FUNCS: %s", path,
		             g_strerror (saved));
		return NULL;
	}
	return g_steal_pointer (&self);
}

void
kith_i2c_adapter_close (KithI2cAdapter *self)
{
	if (self == NULL)
		return;
	close (self->fd);
	g_free (self);
}

gulong
kith_i2c_adapter_get_funcs (KithI2cAdapter *self)
{
	return self->funcs;
}

gboolean
kith_i2c_adapter_select (KithI2cAdapter *self, guint address, GError **error)
{
	self->address = address;
	if (ioctl (self->fd, I2C_SLAVE, (unsigned long)address) < 0)
		return kith_i2c_fail (self, error, errno, "selecting the address");
	return TRUE;
}

static gboolean
kith_i2c_smbus (KithI2cAdapter *self, guint8 read_write, guint8 command, guint32 size,
                union i2c_smbus_data *data, const gchar *what, GError **error)
{
	struct i2c_smbus_ioctl_data args = {
		.read_write = read_write,
		.command = command,
		.size = size,
		.data = data,
	};
	if (ioctl (self->fd, I2C_SMBUS, &args) < 0)
		return kith_i2c_fail (self, error, errno, what);
	return TRUE;
}

gboolean
kith_i2c_quick_write (KithI2cAdapter *self, GError **error)
{
	return kith_i2c_smbus (self, I2C_SMBUS_WRITE, 0, I2C_SMBUS_QUICK, NULL, "quick write",
	                       error);
}

gboolean
kith_i2c_receive_byte (KithI2cAdapter *self, guint8 *value, GError **error)
{
	union i2c_smbus_data data = { 0 };
	if (!kith_i2c_smbus (self, I2C_SMBUS_READ, 0, I2C_SMBUS_BYTE, &data, "receive byte", error))
		return FALSE;
	*value = data.byte;
	return TRUE;
}

gboolean
kith_i2c_send_byte (KithI2cAdapter *self, guint8 value, GError **error)
{
	return kith_i2c_smbus (self, I2C_SMBUS_WRITE, value, I2C_SMBUS_BYTE, NULL, "send byte",
	                       error);
}

gboolean
kith_i2c_read_byte_data (KithI2cAdapter *self, guint8 reg, guint8 *value, GError **error)
{
	union i2c_smbus_data data = { 0 };
	if (!kith_i2c_smbus (self, I2C_SMBUS_READ, reg, I2C_SMBUS_BYTE_DATA, &data,
	                     "read byte data", error))
		return FALSE;
	*value = data.byte;
	return TRUE;
}

gboolean
kith_i2c_write_byte_data (KithI2cAdapter *self, guint8 reg, guint8 value, GError **error)
{
	union i2c_smbus_data data = { .byte = value };
	return kith_i2c_smbus (self, I2C_SMBUS_WRITE, reg, I2C_SMBUS_BYTE_DATA, &data,
	                       "write byte data", error);
}

gboolean
kith_i2c_read_word_swapped (KithI2cAdapter *self, guint8 reg, guint16 *value, GError **error)
{
	union i2c_smbus_data data = { 0 };
	if (!kith_i2c_smbus (self, I2C_SMBUS_READ, reg, I2C_SMBUS_WORD_DATA, &data,
	                     "read word data", error))
		return FALSE;
	*value = GUINT16_SWAP_LE_BE (data.word);
	return TRUE;
}

gboolean
kith_i2c_write_word_swapped (KithI2cAdapter *self, guint8 reg, guint16 value, GError **error)
{
	union i2c_smbus_data data = { .word = GUINT16_SWAP_LE_BE (value) };
	return kith_i2c_smbus (self, I2C_SMBUS_WRITE, reg, I2C_SMBUS_WORD_DATA, &data,
	                       "write word data", error);
}

gboolean
kith_i2c_read_block (KithI2cAdapter *self, guint8 reg, guint8 *out, guint len, GError **error)
{
	union i2c_smbus_data data = { 0 };

	g_return_val_if_fail (len > 0 && len <= I2C_SMBUS_BLOCK_MAX, FALSE);
	data.block[0] = (guint8)len;
	if (!kith_i2c_smbus (self, I2C_SMBUS_READ, reg, I2C_SMBUS_I2C_BLOCK_DATA, &data,
	                     "I2C block read", error))
		return FALSE;
	if (data.block[0] < len) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS,
		             "i2c-%u, 0x%02x: %u of %u bytes from register 0x%02x", self->number,
		             self->address, data.block[0], len, reg);
		return FALSE;
	}
	memcpy (out, data.block + 1, len);
	return TRUE;
}

gboolean
kith_i2c_read_plain (KithI2cAdapter *self, guint8 *data, guint len, GError **error)
{
	gssize n;
	if (!(self->funcs & I2C_FUNC_I2C))
		return kith_i2c_fail (self, error, EOPNOTSUPP, "plain I2C reads");
	n = read (self->fd, data, len);
	if (n < 0)
		return kith_i2c_fail (self, error, errno, "read");
	if ((guint)n != len) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "i2c-%u, 0x%02x: %zd of %u bytes",
		             self->number, self->address, n, len);
		return FALSE;
	}
	return TRUE;
}
