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
	gboolean historical;    /* a historical* flag was asked for by name (not by 'all') */
	gint64 since, until;    /* the window of historical values (from, to; 0: open) */
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

/* an IQ result or error answering a request, from the address it was sent to */
xmpp_stanza_t *kith_protocol_request_result (KithProtocol *protocol, const KithRequest *request);
xmpp_stanza_t *kith_protocol_request_error (KithProtocol *protocol, const KithRequest *request,
                                            const gchar *type, const gchar *condition,
                                            const gchar *text);

G_END_DECLS
