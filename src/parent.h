/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

#include "agent.h"
#include "iot/policy.h"
#include "iot/protocol.h"

G_BEGIN_DECLS

/*
 * A device's parent (XEP-0324): the provisioning server, or the owner, that decides whom the
 * device befriends and what friends may read and control. Answers are cached in the state
 * store and reused until the parent clears them. Without an answer the parent is taken as
 * saying no to reads and control, and friend requests wait until it answers.
 */

/* the reason given when the parent did not answer in time */
#define KITH_PARENT_UNAVAILABLE "Provisioning server unavailable"

typedef struct _KithParent KithParent;

/* what the parent tells the device */
typedef struct {
	/* the answer to a friend request that had to wait for the parent */
	void (*decided) (const gchar *jid, KithDecision decision, gpointer user_data);
	/* the parent recommends a friend (pre-approve it and ask for its presence) */
	void (*befriend) (const gchar *jid, gpointer user_data);
	/* the parent ends a friendship */
	void (*unfriend) (const gchar *jid, gpointer user_data);
	/* its cached answers were cleared: what friends may see must be asked again */
	void (*cleared) (gpointer user_data);
} KithParentCallbacks;

/* allowed: the names permitted (fields or parameters; NULL = all asked for) */
typedef void (*KithParentAnswerFunc) (gboolean allowed, GPtrArray *names, const gchar *reason,
                                      gpointer user_data);

KithParent *kith_parent_new (const KithAgent *agent, const KithParentCallbacks *callbacks,
                             gpointer user_data);
void kith_parent_free (KithParent *self);
/* the device is online: find the parent if needed, ask what is still open */
void kith_parent_online (KithParent *self);
/* TRUE for the parent's own (bare) JID */
gboolean kith_parent_is_parent (KithParent *self, const gchar *bare_jid);
/* a friend request: answered from the cache, or asked (PENDING; the answer comes through the
 * decided callback) */
KithDecision kith_parent_is_friend (KithParent *self, const gchar *jid);
/* may request->from read / control what request asks for? the answer comes through done;
 * destroy (may be NULL) frees user_data once the question is over, answered or not (a question
 * still open when its device goes never gets an answer) */
void kith_parent_can_read (KithParent *self, const KithRequest *request, KithParentAnswerFunc done,
                           gpointer user_data, GDestroyNotify destroy);
void kith_parent_can_control (KithParent *self, const KithRequest *request,
                              KithParentAnswerFunc done, gpointer user_data,
                              GDestroyNotify destroy);
/* friend/unfriend recommendations and clearCache; TRUE if the stanza was for the parent logic */
gboolean kith_parent_handle_stanza (KithParent *self, xmpp_stanza_t *stanza);
/* forgets every cached answer (a new parent, a new owner) */
void kith_parent_clear_cache (KithParent *self);

G_END_DECLS
