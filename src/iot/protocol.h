/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

#include "device.h"

G_BEGIN_DECLS

/*
 * The protocol layer: turns one received stanza plus the device's state into stanzas to send
 * and requests for the gateway to carry out (bus reads and writes, friendship decisions). It
 * knows nothing of sockets or buses, so it is tested stanza in, stanza out.
 */

typedef enum {
	KITH_REQUEST_READ,         /* XEP-0323 readout or a chat "get" */
	KITH_REQUEST_WRITE,        /* XEP-0325 set or a chat "set" */
	KITH_REQUEST_CANCEL,       /* XEP-0323 cancel */
	KITH_REQUEST_SUBSCRIPTION, /* presence subscribe/subscribed/unsubscribe/unsubscribed */
	KITH_REQUEST_ROSTER,       /* roster push or roster result from the server */
	KITH_REQUEST_IQ_RESPONSE,  /* result/error to an IQ the gateway sent */
	KITH_REQUEST_DECISION,     /* the owner's chat: pending / accept JID / refuse JID */
} KithRequestKind;

typedef enum {
	KITH_REPLY_IQ,   /* answer the IQ id */
	KITH_REPLY_NONE, /* message-carried control: silent */
	KITH_REPLY_CHAT, /* plain-text chat answer */
} KithReplyKind;

/* XEP-0323 field-type flags of a request */
typedef enum {
	KITH_READ_MOMENTARY = 1 << 0,
	KITH_READ_STATUS = 1 << 1,
	KITH_READ_IDENTITY = 1 << 2,
	KITH_READ_COMPUTED = 1 << 3,
	KITH_READ_PEAK = 1 << 4,
	KITH_READ_HISTORICAL = 1 << 5,
	KITH_READ_ALL = 0x3f,
} KithReadFlags;

typedef struct {
	KithRequestKind kind;
	KithReplyKind reply;
	gchar *from; /* requester, full JID as received */
	gchar *to;   /* the address the request was sent to: replies come from it */
	gchar *id;   /* IQ id */
	/* read / cancel */
	gchar *seqnr; /* echoed byte for byte */
	KithReadFlags flags;
	GPtrArray *field_names; /* NULL = every field */
	GPtrArray *node_ids;    /* <node nodeId> of the request, NULL if none */
	gchar *tokens[3];       /* serviceToken, deviceToken, userToken, copied to the parent */
	gint64 when;            /* g_get_real_time () units; 0 = now */
	/* write */
	GPtrArray *params;   /* KithParam */
	gboolean restricted; /* the parent allowed only params: setResponse lists them */
	/* subscription: presence type; roster: item jid, subscription, ask */
	gchar *type;
	gchar *jid;
	gchar *subscription;
	gboolean ask;
	gboolean roster_remove;
	/* IQ response: the stanza itself */
	xmpp_stanza_t *stanza;
} KithRequest;

void kith_request_free (KithRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithRequest, kith_request_free)

/* the XEP-0324 token attributes, in KithRequest.tokens order */
extern const gchar *const kith_request_token_names[3];

/* what the protocol layer needs to know about the device and its friends */
typedef struct {
	xmpp_ctx_t *ctx;
	KithDevice *device;
	const gchar *bare_jid; /* the device's bare JID */
	const gchar *domain;   /* its server's domain */
	const gchar *owner;    /* owner bare JID or NULL */
	/* TRUE if bare_jid may read and control (friend, owner, the device's own account) */
	gboolean (*is_trusted) (const gchar *bare_jid, gpointer user_data);
	gpointer user_data;
} KithProtocol;

/* handles one stanza: appends stanzas to send (xmpp_stanza_t, owned) to out and work for the
 * gateway (KithRequest, owned) to requests */
void kith_protocol_handle (KithProtocol *protocol, xmpp_stanza_t *stanza, GPtrArray *out,
                           GPtrArray *requests);

/* an IQ result or error answering a request, from the address it was sent to */
xmpp_stanza_t *kith_protocol_request_result (KithProtocol *protocol, const KithRequest *request);
xmpp_stanza_t *kith_protocol_request_error (KithProtocol *protocol, const KithRequest *request,
                                            const gchar *type, const gchar *condition,
                                            const gchar *text);

/* XEP-0323: the <fields> message answering a read request, values as the device holds them */
xmpp_stanza_t *kith_sensordata_fields (KithProtocol *protocol, const KithRequest *request,
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

/* XEP-0325: validates every parameter of a <set>; on error appends the reply (IQ) and returns
 * NULL; nothing is applied unless all are valid */
KithRequest *kith_control_parse_set (KithProtocol *protocol, xmpp_stanza_t *carrier,
                                     xmpp_stanza_t *set, GPtrArray *out);
/* checks one value against a writable field; type_name is the XEP-0325 element or NULL (text
 * from a person, converted to the field's type); on failure *condition is the error */
KithParam *kith_control_parse_value (KithDevice *device, const gchar *name, const gchar *type_name,
                                     const gchar *text, const gchar **condition, gchar **message);
xmpp_stanza_t *kith_control_set_response (KithProtocol *protocol, const KithRequest *request);

/* human chat: the reply to a message body, or NULL if the body asks for a read or write
 * (then a request is appended) */
gchar *kith_chat_handle (KithProtocol *protocol, xmpp_stanza_t *message, const gchar *body,
                         GPtrArray *requests);
/* chat text answering a finished read: the fields in names (NULL: all) */
gchar *kith_chat_format_readings (KithDevice *device, GPtrArray *names);
xmpp_stanza_t *kith_chat_reply (KithProtocol *protocol, const KithRequest *request,
                                const gchar *text);

G_END_DECLS
