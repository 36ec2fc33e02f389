/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "commissioning.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <stdio.h>

#include "kith-error.h"

#define KITH_QR_QUIET 4 /* modules of white border the standard asks for */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QRcode, QRcode_free)

static QRcode *
kith_qr_encode (const gchar *text, GError **error)
{
	QRcode *code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (code == NULL)
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "cannot make a QR code: %s",
		             g_strerror (errno));
	return code;
}

/* dark module at (x, y), with the quiet zone around the symbol */
static gboolean
kith_qr_dark (QRcode *code, gint x, gint y)
{
	x -= KITH_QR_QUIET;
	y -= KITH_QR_QUIET;
	if (x < 0 || y < 0 || x >= code->width || y >= code->width)
		return FALSE;
	return (code->data[y * code->width + x] & 1) != 0;
}

gchar *
kith_qr_render_text (const gchar *text, GError **error)
{
	g_autoptr (QRcode) code = kith_qr_encode (text, error);
	g_autoptr (GString) out = g_string_new (NULL);
	gint size;

	if (code == NULL)
		return NULL;
	size = code->width + 2 * KITH_QR_QUIET;
	/* light on dark terminals and dark on light ones alike: draw the light modules */
	for (gint y = 0; y < size; y += 2) {
		for (gint x = 0; x < size; x++) {
			gboolean top = !kith_qr_dark (code, x, y);
			gboolean bottom = y + 1 < size && !kith_qr_dark (code, x, y + 1);
			g_string_append (out, top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ");
		}
		g_string_append_c (out, '\n');
	}
	return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
kith_qr_write_png (const gchar *text, const gchar *path, guint scale, GError **error)
{
	g_autoptr (QRcode) code = kith_qr_encode (text, error);
	g_autofree guint8 *row = NULL;
	png_structp png = NULL;
	png_infop info = NULL;
	FILE *file;
	guint size;

	if (code == NULL)
		return FALSE;
	size = (guint)(code->width + 2 * KITH_QR_QUIET) * scale;
	file = fopen (path, "wb");
	if (file == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "%s: %s", path,
		             g_strerror (errno));
		return FALSE;
	}
	png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png != NULL ? png_create_info_struct (png) : NULL;
	if (png == NULL || info == NULL || setjmp (png_jmpbuf (png))) {
		png_destroy_write_struct (&png, &info);
		fclose (file);
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "%s: cannot write the PNG",
		             path);
		return FALSE;
	}
	png_init_io (png, file);
	png_set_IHDR (png, info, size, size, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	              PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info (png, info);
	row = g_malloc (size);
	for (guint y = 0; y < size; y++) {
		for (guint x = 0; x < size; x++)
			row[x] =
			        kith_qr_dark (code, (gint)(x / scale), (gint)(y / scale)) ? 0 : 255;
		png_write_row (png, row);
	}
	png_write_end (png, NULL);
	png_destroy_write_struct (&png, &info);
	if (fclose (file) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "%s: %s", path,
		             g_strerror (errno));
		return FALSE;
	}
	return TRUE;
}
