/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "kith-error.h"

G_DEFINE_QUARK (kith - error - quark, kith_error)
