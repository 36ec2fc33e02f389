/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* what identity.c and identity-requests.c share of a KithIdentity; nothing else includes it */

#include "identity.h"
#include "iot/protocol.h"
#include "limiter.h"
#include "parent.h"
#include "registry.h"
#include "status-line.h"

G_BEGIN_DECLS

typedef struct {
	KithIdentity *identity; /* NULL once the identity is gone */
	KithRequest *request;
	gchar *key;     /* reads answered by IQ: requester "\x1f" seqnr */
	guint timer_id; /* a queued readout's start */
	gboolean cancelled;
	gboolean asking_parent; /* waiting for the parent's answer */
	gchar *held;            /* the requester, counted in flight by the limiter */
} KithOperation;

/* how far ahead a readout may be queued with 'when' */
#define KITH_MAX_QUEUE_DAYS 7

/* what one requester may ask of one device (readouts, control, chat, friend requests):
 * RequestRate per second, in bursts of twice as many, and this many in flight at once */
#define KITH_REQUEST_IN_FLIGHT 16
/* friend requests that may wait for a decision (the owner's, the parent's) per device */
#define KITH_MAX_PENDING 100

struct _KithIdentity {
	gchar *id; /* the device id: stays while the device object may be replaced (reload) */
	KithConfig *config;
	KithStore *store;
	KithHistory *history;
	KithPolicy *policy;
	KithDevice *device;
	KithTransport *transport;
	KithAgent agent; /* what the parent, the registry and discovery see of the device */
	KithIqClient *iq;
	KithProtocol protocol;
	GHashTable *operations;     /* KithOperation in flight (owned) */
	GHashTable *reads;          /* requester "\x1f" seqnr -> KithOperation (an index) */
	KithLimiter *limiter;       /* per requester; made at the first request */
	gint64 pending_full_logged; /* when a full waiting list was last said */
	gchar *owner;               /* the Owner of the config, or the one who claimed the device */
	GPtrArray *owner_resources; /* the owner's full JIDs while online */
	KithParent *parent;
	KithRegistry *registry;
	KithStatusLine *status_line;
	gchar *status_sent; /* what the last presence said */
	gulong changed_id;
	gulong availability_id;
	KithIdentityFunc stopped;
	gpointer stopped_data;
	KithIdentityFunc online;
	gpointer online_data;
};

/* identity.c */
gboolean kith_identity_full_rights_cb (const gchar *bare_jid, gpointer user_data);
GError *kith_identity_silent_error (KithIdentity *self);
void kith_identity_apply_decision (KithIdentity *self, const gchar *jid, KithDecision decision);
/* subscribe / unsubscribe / subscribed / unsubscribed from a contact */
void kith_identity_subscription (KithIdentity *self, KithRequest *request);

/* identity-requests.c: what friends ask of the device (readout, control, chat, decisions) */
void kith_identity_requests_init (KithIdentity *self);
/* operations in flight finish without the identity; queued ones just end */
void kith_identity_requests_clear (KithIdentity *self);
void kith_identity_run (KithIdentity *self, KithRequest *request);
/* whether bare_jid may ask one more thing now (always, for the server and the device's own
 * account) */
KithLimit kith_identity_admit (KithIdentity *self, const gchar *bare_jid, gboolean lasting);

G_END_DECLS
