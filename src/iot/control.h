/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "iot/request.h"

G_BEGIN_DECLS

/* XEP-0325: validates every parameter of a <set>; on error appends the reply (IQ) and returns
 * NULL; nothing is applied unless all are valid */
KithRequest *kith_control_parse_set (KithProtocol *protocol, xmpp_stanza_t *carrier,
                                     xmpp_stanza_t *set, GPtrArray *out);
/* checks one value against a writable field; type_name is the XEP-0325 element or NULL (text
 * from a person, converted to the field's type); on failure *condition is the error */
KithParam *kith_control_parse_value (KithDevice *device, const gchar *name, const gchar *type_name,
                                     const gchar *text, const gchar **condition, gchar **message);
xmpp_stanza_t *kith_control_set_response (KithProtocol *protocol, const KithRequest *request);

G_END_DECLS
