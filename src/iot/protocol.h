/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "iot/chat.h"
#include "iot/control.h"
#include "iot/request.h"
#include "iot/sensordata.h"

G_BEGIN_DECLS

/* handles one stanza: appends stanzas to send (xmpp_stanza_t, owned) to out and work for the
 * gateway (KithRequest, owned) to requests */
void kith_protocol_handle (KithProtocol *protocol, xmpp_stanza_t *stanza, GPtrArray *out,
                           GPtrArray *requests);

G_END_DECLS
