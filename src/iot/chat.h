/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "iot/request.h"

G_BEGIN_DECLS

/* human chat: the reply to a message body, or NULL if the body asks for a read or write
 * (then a request is appended) */
gchar *kith_chat_handle (KithProtocol *protocol, xmpp_stanza_t *message, const gchar *body,
                         GPtrArray *requests);
/* chat text answering a finished read: the fields in names (NULL: all) */
gchar *kith_chat_format_readings (KithDevice *device, GPtrArray *names);
xmpp_stanza_t *kith_chat_reply (KithProtocol *protocol, const KithRequest *request,
                                const gchar *text);

G_END_DECLS
