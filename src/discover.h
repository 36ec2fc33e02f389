/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agent.h"

G_BEGIN_DECLS

/* the first service on the device's server that offers feature (XEP-0030: disco#items on the
 * domain, then disco#info on each item); jid is NULL when none does */
typedef void (*KithDiscoverFunc) (const gchar *jid, gpointer user_data);

void kith_discover_service (const KithAgent *agent, const gchar *feature, KithDiscoverFunc done,
                            gpointer user_data);

G_END_DECLS
