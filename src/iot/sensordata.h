/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "history.h"
#include "iot/request.h"

G_BEGIN_DECLS

/* XEP-0323: the <fields> message answering a read request, values as the device holds them */
xmpp_stanza_t *kith_sensordata_fields (KithProtocol *protocol, const KithRequest *request,
                                       gboolean done);
/* XEP-0323: a <fields> message with kept readings (KithSample) start..start+count, each
 * flagged historicalOther */
xmpp_stanza_t *kith_sensordata_history (KithProtocol *protocol, const KithRequest *request,
                                        GPtrArray *samples, guint start, guint count,
                                        gboolean done);
/* XEP-0323: <failure> for a read that failed */
xmpp_stanza_t *kith_sensordata_failure (KithProtocol *protocol, const KithRequest *request,
                                        const gchar *reason);
/* XEP-0323: the IQ result <accepted/> (queued when the readout waits for 'when') */
xmpp_stanza_t *kith_sensordata_accepted (KithProtocol *protocol, const KithRequest *request,
                                         gboolean queued);
xmpp_stanza_t *kith_sensordata_started (KithProtocol *protocol, const KithRequest *request);
/* parses a <req/>; on error appends the IQ error to out and returns NULL */
KithRequest *kith_sensordata_parse_req (KithProtocol *protocol, xmpp_stanza_t *iq,
                                        xmpp_stanza_t *req, GPtrArray *out);
gchar *kith_timestamp_format (gint64 real_time);
gboolean kith_timestamp_parse (const gchar *text, gint64 *real_time);

G_END_DECLS
