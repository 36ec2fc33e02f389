/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KITH_ERROR (kith_error_quark ())

typedef enum {
	KITH_ERROR_FAILED,
	KITH_ERROR_CONFIG,
	KITH_ERROR_STORE,
	KITH_ERROR_BUS,
	KITH_ERROR_NOT_FOUND,
	KITH_ERROR_INVALID,
	KITH_ERROR_FORBIDDEN,
	KITH_ERROR_CANCELLED,
	KITH_ERROR_NOT_ANSWERING, /* the device does not answer on its bus */
} KithError;

GQuark kith_error_quark (void);

G_END_DECLS
