/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

#include "config.h"

G_BEGIN_DECLS

/*
 * The XEP-0114 component link of component mode: one stream to the server as ComponentDomain,
 * carrying the stanzas of every device. It reconnects with backoff, keeps stanzas sent while the
 * link is down in its own outbox (a component stream has no stream management), and sends
 * presence at no more than PresenceRate stanzas per second so that thousands of devices coming
 * online never flood the server.
 */
typedef struct _KithComponent KithComponent;

typedef struct {
	void (*online) (KithComponent *component, gpointer user_data);
	void (*offline) (KithComponent *component, gpointer user_data);
	/* every stanza received while online */
	void (*stanza) (KithComponent *component, xmpp_stanza_t *stanza, gpointer user_data);
	/* kith_component_stop() finished */
	void (*stopped) (KithComponent *component, gpointer user_data);
} KithComponentCallbacks;

KithComponent *kith_component_new (KithConfig *config, const KithComponentCallbacks *callbacks,
                                   gpointer user_data);
void kith_component_free (KithComponent *self);
void kith_component_start (KithComponent *self);
/* sends a stanza now (not consumed), or keeps it in the outbox until the link is up */
void kith_component_send (KithComponent *self, xmpp_stanza_t *stanza);
/* sends presence paced (not consumed); while the link is down it is dropped: every device
 * announces itself again when the link comes back */
void kith_component_send_paced (KithComponent *self, xmpp_stanza_t *stanza);
/* closes the stream once what is queued is written; ::stopped follows */
void kith_component_stop (KithComponent *self);

xmpp_ctx_t *kith_component_get_ctx (KithComponent *self);
gboolean kith_component_is_online (KithComponent *self);
guint kith_component_get_paced_length (KithComponent *self);
guint kith_component_get_outbox_length (KithComponent *self);
/* the stanzas waiting in the outbox, serialised, oldest first (a new array of copies) */
GPtrArray *kith_component_dump_outbox (KithComponent *self);
/* stanzas received and sent since start (sent counts what was handed to the stream) */
guint64 kith_component_get_received (KithComponent *self);
guint64 kith_component_get_sent (KithComponent *self);

G_END_DECLS
