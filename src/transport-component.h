/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "store.h"
#include "transport.h"
#include "xmpp/component.h"

G_BEGIN_DECLS

/* component mode: the device speaks through the shared component stream, and this does the
 * server's part of RFC 6121 for it (the roster persisted in the store) */
KithTransport *kith_component_transport_new (KithComponent *component, KithStore *store,
                                             const gchar *device_id, const gchar *bare_jid,
                                             const gchar *full_jid);
/* a stanza for the device from the stream (the router found it by its address) */
void kith_component_transport_receive (KithTransport *transport, xmpp_stanza_t *stanza);
/* the stream is up and it is the device's turn: it comes online (initial presence), asks
 * again what it asked and got no answer to, and hears the requests still undecided */
void kith_component_transport_announce (KithTransport *transport);
/* the stream went down */
void kith_component_transport_went_offline (KithTransport *transport);
/* a roster entry from the store (before the device is announced) */
void kith_component_transport_load (KithTransport *transport, const gchar *jid, guint state);

G_END_DECLS
