/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-xmpp"

#include "xmpp/source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
	gchar *name;       /* for the log */
	gint64 stanza_cpu; /* CPU time (ns) spent reading since the last stanza arrived */
	gboolean cut;      /* the link was cut for a stanza that cost too much */
};

/* more passes than this in one dispatch yield to the other sources first */
#define KITH_XMPP_SOURCE_MAX_PASSES 16

/*
 * What one incoming stanza may cost. libstrophe's parser appends every piece of a text node
 * with strncat(), which walks the whole text so far each time, and its XML parser cuts text
 * at every line break and entity: a 1 MB body of line breaks costs seconds of CPU (minutes
 * under sanitizers), and the whole main loop stalls meanwhile. The bytes cannot be seen
 * before libstrophe parses them (it reads the socket and TLS itself), so the CPU time spent
 * reading is what counts: past this much without a stanza coming out, the link is cut and
 * comes back as after any outage. Ordinary stanzas cost microseconds, 4 MB of text 50 ms.
 */
#ifdef __SANITIZE_ADDRESS__
/* AddressSanitizer checks every byte strncat() walks: ten times the time */
#define KITH_XMPP_SOURCE_STANZA_CPU_NS (G_GINT64_CONSTANT (10000) * 1000 * 1000)
#else
#define KITH_XMPP_SOURCE_STANZA_CPU_NS (G_GINT64_CONSTANT (1000) * 1000 * 1000)
#endif

static gint64
kith_xmpp_source_cpu_ns (void)
{
	struct timespec now;
	if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now) != 0)
		return 0;
	return (gint64)now.tv_sec * 1000000000 + now.tv_nsec;
}

/*
 * Ends the link under libstrophe's feet: what the kernel already received would still be read
 * after a shutdown(), so the socket is swapped for one that is at its end (the server sees the
 * connection close); libstrophe reads the end of the stream, disconnects and closes the fd as
 * usual.
 */
static void
kith_xmpp_source_cut (int fd)
{
	int ended[2];

	(void)shutdown (fd, SHUT_RDWR);
	if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ended) != 0)
		return;
	(void)shutdown (ended[0], SHUT_RDWR);
	(void)dup3 (ended[0], fd, O_CLOEXEC);
	close (ended[0]);
	close (ended[1]);
}

/* one xmpp_run_once(), its cost counted against the stanza being received */
static void
kith_xmpp_source_run_once (KithXmppSource *self)
{
	guint rx = self->rx;
	gint64 started = kith_xmpp_source_cpu_ns ();

	xmpp_run_once (self->ctx, 0);
	if (rx != self->rx) {
		self->stanza_cpu = 0;
		return;
	}
	self->stanza_cpu += kith_xmpp_source_cpu_ns () - started;
	if (self->stanza_cpu <= KITH_XMPP_SOURCE_STANZA_CPU_NS || self->cut || self->fd < 0)
		return;
	self->cut = TRUE;
	g_warning ("%s: the stanza being received has cost %" G_GINT64_FORMAT
	           " ms of parsing and is not complete (very large, or text cut into very many "
	           "pieces: line breaks, entities); closing the stream",
	           self->name != NULL ? self->name : "xmpp", self->stanza_cpu / 1000000);
	kith_xmpp_source_cut (self->fd);
}

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
		kith_xmpp_source_run_once (self);
		/* a TLS record holds up to 16 KiB; each call reads 4 KiB of it */
		if (secured) {
			for (guint i = 0; i < 3; i++)
				kith_xmpp_source_run_once (self);
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
	g_free (self->name);
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
	self->stanza_cpu = 0;
	self->cut = FALSE;
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

void
kith_xmpp_source_set_name (KithXmppSource *self, const gchar *name)
{
	g_free (self->name);
	self->name = g_strdup (name);
}

guint64
kith_xmpp_source_get_dispatches (KithXmppSource *self)
{
	return self->dispatches;
}
