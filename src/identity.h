/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"
#include "device.h"
#include "history.h"
#include "iot/policy.h"
#include "store.h"
#include "transport.h"

G_BEGIN_DECLS

/* one device's XMPP identity: its friends, presence, readouts and control */
typedef struct _KithIdentity KithIdentity;
typedef void (*KithIdentityFunc) (KithIdentity *identity, gpointer user_data);

/* history: where historical readouts are answered from (NULL: none). transport: how it speaks
 * (owned: the identity holds the reference given). online: called each time the device comes online
 */
KithIdentity *kith_identity_new (KithConfig *config, KithStore *store, KithHistory *history,
                                 KithPolicy *policy, KithTransport *transport, KithDevice *device,
                                 KithIdentityFunc online, gpointer user_data);
void kith_identity_free (KithIdentity *self);
void kith_identity_start (KithIdentity *self);
/* sends unavailable and closes; done runs once closed */
void kith_identity_stop (KithIdentity *self, KithIdentityFunc done, gpointer user_data);
/* the device's object was replaced by one with the same id (a reload): the identity, its
 * session and its friends stay */
void kith_identity_set_device (KithIdentity *self, KithDevice *device);

KithDevice *kith_identity_get_device (KithIdentity *self);
KithTransport *kith_identity_get_transport (KithIdentity *self);
xmpp_ctx_t *kith_identity_get_ctx (KithIdentity *self);
const gchar *kith_identity_get_id (KithIdentity *self);
const gchar *kith_identity_get_bare_jid (KithIdentity *self);
gboolean kith_identity_is_online (KithIdentity *self);

/* for a local administrator (kithctl): the contacts who see the device (bare JIDs, sorted),
 * the friend requests waiting for a decision, and that decision; the owner */
GPtrArray *kith_identity_get_friends (KithIdentity *self);
GPtrArray *kith_identity_get_pending (KithIdentity *self);
gboolean kith_identity_decide_pending (KithIdentity *self, const gchar *jid, gboolean accept,
                                       GError **error);
const gchar *kith_identity_get_owner (KithIdentity *self);

/* sends a stanza from the device (consumed) */
void kith_identity_send (KithIdentity *self, xmpp_stanza_t *stanza);

G_END_DECLS
