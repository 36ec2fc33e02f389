/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

#include "config.h"
#include "store.h"
#include "xmpp/connect-gate.h"

G_BEGIN_DECLS

/*
 * One device's client-to-server session: its own libstrophe context and connection on the GLib
 * loop, in-band registration of a missing account, reconnection with exponential backoff and
 * jitter, and an outbox that keeps stanzas while the link is down.
 */
typedef struct _KithSession KithSession;

typedef struct {
	void (*online) (KithSession *session, gpointer user_data);
	void (*offline) (KithSession *session, gpointer user_data);
	/* every stanza received while online */
	void (*stanza) (KithSession *session, xmpp_stanza_t *stanza, gpointer user_data);
	/* kith_session_stop() finished */
	void (*stopped) (KithSession *session, gpointer user_data);
} KithSessionCallbacks;

/* process-wide set-up: libstrophe, OpenSSL trust paths; call once before any session */
void kith_session_global_init (KithConfig *config);

KithSession *kith_session_new (KithConfig *config, KithConnectGate *gate, KithStore *store,
                               const gchar *localpart, const KithSessionCallbacks *callbacks,
                               gpointer user_data);
void kith_session_free (KithSession *self);
void kith_session_start (KithSession *self);
/* sends a stanza (not consumed), or keeps it in the outbox until the session is online */
void kith_session_send (KithSession *self, xmpp_stanza_t *stanza);
/* closes the stream gracefully (queued stanzas are written first); ::stopped follows */
void kith_session_stop (KithSession *self);

xmpp_ctx_t *kith_session_get_ctx (KithSession *self);
const gchar *kith_session_get_bare_jid (KithSession *self);
const gchar *kith_session_get_full_jid (KithSession *self);
const gchar *kith_session_get_localpart (KithSession *self);
gboolean kith_session_is_online (KithSession *self);
guint kith_session_get_outbox_length (KithSession *self);
guint64 kith_session_get_dispatches (KithSession *self);

G_END_DECLS
