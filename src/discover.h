/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "identity.h"

G_BEGIN_DECLS

/* the first service on the device's server that offers feature (XEP-0030: disco#items on the
 * domain, then disco#info on each item); jid is NULL when none does */
typedef void (*KithDiscoverFunc) (KithIdentity *identity, const gchar *jid, gpointer user_data);

void kith_discover_service (KithIdentity *identity, const gchar *feature, KithDiscoverFunc done,
                            gpointer user_data);

G_END_DECLS
