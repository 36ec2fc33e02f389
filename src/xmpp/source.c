/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-xmpp"

#include "xmpp/source.h"

#include <poll.h>

struct _KithXmppSource {
	GSource source;
	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	gpointer tag;
	int fd;
	GIOCondition events;
	gboolean settled;
	gboolean unflushed; /* stanzas were queued since the last sentinel */
	guint rx;
	guint64 dispatches;
};

/* more passes than this in one dispatch yield to the other sources first */
#define KITH_XMPP_SOURCE_MAX_PASSES 16

static gboolean
kith_xmpp_source_prepare (GSource *source, gint *timeout)
{
	KithXmppSource *self = (KithXmppSource *)source;
	gint64 ready = g_source_get_ready_time (source);

	*timeout = -1;
	if (self->tag != NULL) {
		GIOCondition want = G_IO_IN | G_IO_HUP | G_IO_ERR;
		if (xmpp_conn_is_connecting (self->conn) ||
		    xmpp_conn_send_queue_len (self->conn) > 0)
			want |= G_IO_OUT;
		/* g_source_modify_unix_fd() wakes the context: only call it on a change */
		if (want != self->events) {
			g_source_modify_unix_fd (source, self->tag, want);
			self->events = want;
		}
	}
	if (!self->settled) {
		if (ready == -1)
			g_source_set_ready_time (source, g_get_monotonic_time () + G_USEC_PER_SEC);
	} else if (ready > 0) {
		/* a leftover negotiation tick; a kick (ready time 0) stays */
		g_source_set_ready_time (source, -1);
	}
	return FALSE;
}

static gboolean
kith_xmpp_source_readable (int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (fd < 0)
		return FALSE;
	return poll (&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/*
 * xmpp_conn_send_queue_len() leaves out a stanza libstrophe has begun to write: when the socket
 * takes only part of a large stanza (a TLS reply of a megabyte), the counter says nothing is
 * queued and no fd watch asks for writability, so the rest waited for the next incoming stanza.
 * A single space queued behind what was sent keeps the counter above zero until everything
 * before it is written; whitespace between stanzas means nothing to the stream. It is queued
 * only before a write phase that has stanzas to write, only on a negotiated stream.
 */
static void
kith_xmpp_source_add_sentinel (KithXmppSource *self)
{
	if (!self->unflushed || !self->settled || !xmpp_conn_is_connected (self->conn))
		return;
	self->unflushed = FALSE;
	xmpp_send_raw (self->conn, " ", 1);
}

static gboolean
kith_xmpp_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
	KithXmppSource *self = (KithXmppSource *)source;
	gboolean more = FALSE;
	guint passes = 0;

	self->dispatches++;
	if (g_source_get_ready_time (source) != -1)
		g_source_set_ready_time (source, -1);
	do {
		gboolean readable = kith_xmpp_source_readable (self->fd);
		guint rx = self->rx;
		gboolean secured =
		        xmpp_conn_is_connected (self->conn) && xmpp_conn_is_secured (self->conn);

		kith_xmpp_source_add_sentinel (self);
		xmpp_run_once (self->ctx, 0);
		/* a TLS record holds up to 16 KiB; each call reads 4 KiB of it */
		if (secured) {
			for (guint i = 0; i < 3; i++)
				xmpp_run_once (self->ctx, 0);
		}
		more = readable || rx != self->rx;
	} while (more && ++passes < KITH_XMPP_SOURCE_MAX_PASSES);
	/* while negotiating, handlers queue protocol writes that no counter shows: flush them */
	if (!self->settled)
		xmpp_run_once (self->ctx, 0);
	if (more)
		g_source_set_ready_time (source, 0);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs kith_xmpp_source_funcs = {
	.prepare = kith_xmpp_source_prepare,
	.dispatch = kith_xmpp_source_dispatch,
};

KithXmppSource *
kith_xmpp_source_new (xmpp_ctx_t *ctx, xmpp_conn_t *conn)
{
	GSource *source = g_source_new (&kith_xmpp_source_funcs, sizeof (KithXmppSource));
	KithXmppSource *self = (KithXmppSource *)source;

	self->ctx = ctx;
	self->conn = conn;
	self->fd = -1;
	self->settled = TRUE;
	g_source_set_static_name (source, "kith-xmpp");
	g_source_attach (source, NULL);
	return self;
}

void
kith_xmpp_source_free (KithXmppSource *self)
{
	if (self == NULL)
		return;
	g_source_destroy ((GSource *)self);
	g_source_unref ((GSource *)self);
}

void
kith_xmpp_source_set_conn (KithXmppSource *self, xmpp_conn_t *conn)
{
	self->conn = conn;
}

void
kith_xmpp_source_set_fd (KithXmppSource *self, int fd)
{
	kith_xmpp_source_clear_fd (self);
	self->fd = fd;
	self->events = G_IO_IN | G_IO_OUT | G_IO_HUP | G_IO_ERR;
	self->tag = g_source_add_unix_fd ((GSource *)self, fd, self->events);
	kith_xmpp_source_kick (self);
}

void
kith_xmpp_source_clear_fd (KithXmppSource *self)
{
	if (self->tag != NULL)
		g_source_remove_unix_fd ((GSource *)self, self->tag);
	self->tag = NULL;
	self->fd = -1;
	self->events = 0;
}

void
kith_xmpp_source_set_settled (KithXmppSource *self, gboolean settled)
{
	self->settled = settled;
	if (!settled)
		kith_xmpp_source_kick (self);
}

void
kith_xmpp_source_kick (KithXmppSource *self)
{
	g_source_set_ready_time ((GSource *)self, 0);
}

void
kith_xmpp_source_note_sent (KithXmppSource *self)
{
	self->unflushed = TRUE;
}

void
kith_xmpp_source_count_rx (KithXmppSource *self)
{
	self->rx++;
}

guint64
kith_xmpp_source_get_dispatches (KithXmppSource *self)
{
	return self->dispatches;
}
