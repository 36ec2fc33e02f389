/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"
#include "device.h"
#include "iot/policy.h"
#include "store.h"
#include "xmpp/component.h"
#include "xmpp/session.h"

G_BEGIN_DECLS

/* one device's XMPP identity: its session, friends, readouts and control */
typedef struct _KithIdentity KithIdentity;
typedef struct _KithParent KithParent;
typedef struct _KithRegistry KithRegistry;
typedef void (*KithIdentityFunc) (KithIdentity *identity, gpointer user_data);
/* the answer to an IQ the device sent; reply is NULL when none came in time */
typedef void (*KithIqResultFunc) (KithIdentity *identity, xmpp_stanza_t *reply, gpointer user_data);

/* online: called each time the device comes online (user_data as given); client mode: the
 * device has its own session (component NULL); component mode: it speaks through component */
KithIdentity *kith_identity_new (KithConfig *config, KithStore *store, KithPolicy *policy,
                                 KithConnectGate *gate, KithComponent *component,
                                 KithDevice *device, KithIdentityFunc online, gpointer user_data);
void kith_identity_free (KithIdentity *self);
void kith_identity_start (KithIdentity *self);
/* sends unavailable and closes the stream; done runs once the stream is closed */
void kith_identity_stop (KithIdentity *self, KithIdentityFunc done, gpointer user_data);
KithSession *kith_identity_get_session (KithIdentity *self);
KithDevice *kith_identity_get_device (KithIdentity *self);
KithStore *kith_identity_get_store (KithIdentity *self);
KithConfig *kith_identity_get_config (KithIdentity *self);
xmpp_ctx_t *kith_identity_get_ctx (KithIdentity *self);
const gchar *kith_identity_get_id (KithIdentity *self);
const gchar *kith_identity_get_bare_jid (KithIdentity *self);
const gchar *kith_identity_get_full_jid (KithIdentity *self);
gboolean kith_identity_is_online (KithIdentity *self);
KithParent *kith_identity_get_parent (KithIdentity *self);

/* sends a stanza from the device (consumed) */
void kith_identity_send (KithIdentity *self, xmpp_stanza_t *stanza);
/* sends an IQ (consumed; its id is set here) and calls done with the answer from its
 * addressee, or with NULL after timeout_ms; destroy frees user_data in every case */
void kith_identity_send_iq (KithIdentity *self, xmpp_stanza_t *iq, guint timeout_ms,
                            KithIqResultFunc done, gpointer user_data, GDestroyNotify destroy);

/* the owner: the Owner of the configuration, else the one who claimed the device */
const gchar *kith_identity_get_owner (KithIdentity *self);
void kith_identity_set_owner (KithIdentity *self, const gchar *owner);
/* a full JID of the owner while online, else NULL */
const gchar *kith_identity_get_owner_resource (KithIdentity *self);
/* answers a friend request that waited (policy parent or manual) */
void kith_identity_decide (KithIdentity *self, const gchar *jid, KithDecision decision);
/* pre-approves jid and asks for its presence: the friendship is then mutual */
void kith_identity_befriend (KithIdentity *self, const gchar *jid);
/* ends the friendship with jid on both sides */
void kith_identity_unfriend (KithIdentity *self, const gchar *jid);

/* component mode: a stanza for the device; the link came up (announce) or went down */
void kith_identity_component_stanza (KithIdentity *self, xmpp_stanza_t *stanza);
void kith_identity_component_online (KithIdentity *self);
void kith_identity_component_offline (KithIdentity *self);
/* component mode: a roster entry from the store (KithSubState flags) */
void kith_identity_load_roster (KithIdentity *self, const gchar *jid, guint state);
/* the parent's cached answers were cleared: what friends may see is asked again */
void kith_identity_parent_cache_cleared (KithIdentity *self);
/* the owner, or a contact who sees the device */
gboolean kith_identity_is_friend (KithIdentity *self, const gchar *bare_jid);

G_END_DECLS
