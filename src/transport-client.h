/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "config.h"
#include "store.h"
#include "transport.h"
#include "xmpp/connect-gate.h"
#include "xmpp/session.h"

G_BEGIN_DECLS

/* client mode: the device's own account and session on the server, which keeps its roster;
 * the roster is fetched at every login and followed through the server's pushes */
KithTransport *kith_client_transport_new (KithConfig *config, KithConnectGate *gate,
                                          KithStore *store, const gchar *localpart);
/* the session of a client transport (NULL for another transport) */
KithSession *kith_client_transport_get_session (KithTransport *transport);

G_END_DECLS
