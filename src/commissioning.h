/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* draws text as a QR code with Unicode half blocks, two modules per character cell */
gchar *kith_qr_render_text (const gchar *text, GError **error);
/* writes text as a QR code PNG (scale pixels per module, with the quiet zone) */
gboolean kith_qr_write_png (const gchar *text, const gchar *path, guint scale, GError **error);

G_END_DECLS
