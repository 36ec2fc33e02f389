/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

G_BEGIN_DECLS

/*
 * How one device's identity speaks XMPP: through a client session of its own (client mode), or
 * through the component stream all devices share, where kithd itself does what a server does
 * for an account (component mode: subscriptions, probes, presence broadcast, the roster). The
 * identity sends and receives through this interface and never asks which one it has.
 *
 * Both keep the device's roster (bare JID -> KithSubState flags): in client mode a copy of the
 * server's, in component mode kithd's own, kept in the store.
 */
typedef struct _KithTransport KithTransport;

typedef struct {
	/* the device can speak: send initial presence. In client mode the roster may still be on
	 * its way; the stanzas that arrive before it are held back until it is there */
	void (*online) (gpointer user_data);
	void (*offline) (gpointer user_data);
	/* a stanza for the device, after the transport did a server's part of it */
	void (*stanza) (xmpp_stanza_t *stanza, gpointer user_data);
	/* the roster changed (a contact, or all of it) */
	void (*roster_changed) (gpointer user_data);
	/* kith_transport_stop () finished */
	void (*stopped) (gpointer user_data);
} KithTransportCallbacks;

typedef struct {
	void (*start) (KithTransport *self);
	/* closes (what is queued is written first); ::stopped follows */
	void (*stop) (KithTransport *self);
	/* sends a stanza from the device (not consumed) */
	void (*send) (KithTransport *self, xmpp_stanza_t *stanza);
	gboolean (*is_online) (KithTransport *self);
	/* FALSE while the roster is not known yet (client mode, just after login) */
	gboolean (*roster_ready) (KithTransport *self);
	/* ends the friendship with jid both ways and forgets the contact */
	void (*remove_contact) (KithTransport *self, const gchar *jid);
	/* makes sure the device learns jid's presence (a server probes its user's contacts at
	 * login by itself; the component stream must ask) */
	void (*watch) (KithTransport *self, const gchar *jid);
	void (*finalize) (KithTransport *self);
} KithTransportFuncs;

struct _KithTransport {
	const KithTransportFuncs *funcs;
	gint ref_count;
	xmpp_ctx_t *ctx;    /* for building stanzas */
	gchar *bare_jid;    /* the device's */
	gchar *full_jid;    /* the device's, with its resource */
	GHashTable *roster; /* bare JID -> KithSubState flags (GUINT_TO_POINTER) */
	gchar *owner;       /* the device's owner, as the identity says (NULL: none) */
	KithTransportCallbacks callbacks;
	gpointer user_data;
};

/* for implementations: sets up the common part */
void kith_transport_init (KithTransport *self, const KithTransportFuncs *funcs, xmpp_ctx_t *ctx,
                          const gchar *bare_jid, const gchar *full_jid);

KithTransport *kith_transport_ref (KithTransport *self);
void kith_transport_unref (KithTransport *self);
/* who hears of what happens; the identity sets itself once */
void kith_transport_set_callbacks (KithTransport *self, const KithTransportCallbacks *callbacks,
                                   gpointer user_data);

void kith_transport_start (KithTransport *self);
void kith_transport_stop (KithTransport *self);
/* sends a stanza (consumed) */
void kith_transport_send (KithTransport *self, xmpp_stanza_t *stanza);
gboolean kith_transport_is_online (KithTransport *self);
gboolean kith_transport_roster_ready (KithTransport *self);
void kith_transport_remove_contact (KithTransport *self, const gchar *jid);
void kith_transport_watch (KithTransport *self, const gchar *jid);
xmpp_ctx_t *kith_transport_get_ctx (KithTransport *self);

/* the roster */
guint kith_transport_get_state (KithTransport *self, const gchar *jid);
GHashTable *kith_transport_get_roster (KithTransport *self);
/* the owner (the transport only reports it: component mode's disco#items) */
void kith_transport_set_owner (KithTransport *self, const gchar *owner);
/* the owner, or a contact who sees the device */
gboolean kith_transport_is_friend (KithTransport *self, const gchar *bare_jid);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTransport, kith_transport_unref)

G_END_DECLS
