/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-xmpp"

#include "xmpp/link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>

guint
kith_link_backoff_ms (guint *failures, guint max_s)
{
	guint ceiling = MIN (1000u << MIN (*failures, 7u), max_s * 1000u);

	(*failures)++;
	return (guint)g_random_int_range ((gint32)ceiling / 2, (gint32)ceiling + 1);
}

int
kith_link_setup_socket (xmpp_conn_t *conn, void *sock, const gchar *who, int *fd_out)
{
	int fd = *(int *)sock;
	int one = 1;

	if (fd >= FD_SETSIZE) {
		g_warning ("%s: socket %d is beyond select()'s limit; not connecting", who, fd);
		return -1;
	}
	if (fd_out != NULL)
		*fd_out = fd;
	(void)setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return xmpp_sockopt_cb_keepalive (conn, sock);
}

/* a claim KEY is a <str name='KEY' value='…'/> of a registration: its value goes */
static gboolean
kith_link_hide_key_cb (const GMatchInfo *match, GString *result, gpointer user_data)
{
	g_autofree gchar *tag = g_match_info_fetch (match, 0);
	static GRegex *value;

	if (!g_regex_match_simple ("\\bname=(\"KEY\"|'KEY')", tag, 0, 0)) {
		g_string_append (result, tag);
		return FALSE;
	}
	if (value == NULL)
		value = g_regex_new ("\\bvalue=(\"[^\"]*\"|'[^']*')", G_REGEX_OPTIMIZE, 0, NULL);
	{
		g_autofree gchar *hidden = g_regex_replace_literal (
		        value, tag, -1, 0, "value='(not logged)'", 0, NULL);
		g_string_append (result, hidden != NULL ? hidden : "<str (not logged)/>");
	}
	return FALSE;
}

gchar *
kith_link_redact (const gchar *msg)
{
	static GRegex *str_tag;

	if (strstr (msg, "<auth") != NULL || strstr (msg, "<password>") != NULL ||
	    strstr (msg, "<response") != NULL)
		return g_strdup ("(a stanza with credentials, not logged)");
	if (strstr (msg, "<handshake") != NULL)
		return g_strdup ("(the handshake, not logged)");
	if (strstr (msg, "KEY") == NULL)
		return NULL;
	if (str_tag == NULL)
		str_tag = g_regex_new ("<str\\b[^>]*>", G_REGEX_OPTIMIZE, 0, NULL);
	{
		gchar *hidden = g_regex_replace_eval (str_tag, msg, -1, 0, 0, kith_link_hide_key_cb,
		                                      NULL, NULL);
		return hidden != NULL ? hidden
		                      : g_strdup ("(a stanza with a claim KEY, not logged)");
	}
}

void
kith_outbox_init (KithOutbox *self, guint max, const gchar *why)
{
	g_queue_init (&self->queue);
	self->max = max;
	self->why = why;
	self->overflowed = FALSE;
}

void
kith_outbox_clear (KithOutbox *self)
{
	g_queue_clear_full (&self->queue, g_free);
	self->overflowed = FALSE;
}

void
kith_outbox_push (KithOutbox *self, gchar *text, const gchar *who)
{
	g_queue_push_tail (&self->queue, text);
	if (g_queue_get_length (&self->queue) <= self->max)
		return;
	g_free (g_queue_pop_head (&self->queue));
	if (!self->overflowed)
		g_message ("%s: %s: dropping the oldest of %u queued stanzas", who, self->why,
		           self->max);
	self->overflowed = TRUE;
}

void
kith_outbox_push_stanza (KithOutbox *self, xmpp_stanza_t *stanza, const gchar *who)
{
	char *buf = NULL;
	size_t len = 0;

	if (xmpp_stanza_to_text (stanza, &buf, &len) != XMPP_EOK)
		return;
	kith_outbox_push (self, g_strndup (buf, len), who);
	xmpp_free (xmpp_stanza_get_context (stanza), buf);
}

guint
kith_outbox_flush (KithOutbox *self, xmpp_conn_t *conn)
{
	guint count = 0;
	gchar *text;

	while ((text = g_queue_pop_head (&self->queue)) != NULL) {
		xmpp_send_raw (conn, text, strlen (text));
		g_free (text);
		count++;
	}
	self->overflowed = FALSE;
	return count;
}

void
kith_outbox_rescue (KithOutbox *self, xmpp_conn_t *conn, xmpp_ctx_t *ctx)
{
	GQueue rescued = G_QUEUE_INIT;
	gchar *text;

	while ((text = xmpp_conn_send_queue_drop_element (conn, XMPP_QUEUE_OLDEST)) != NULL) {
		/* the stream's own elements (its header, authentication) are not for a new link */
		if (g_str_has_prefix (text, "<iq") || g_str_has_prefix (text, "<message") ||
		    g_str_has_prefix (text, "<presence"))
			g_queue_push_tail (&rescued, g_strdup (text));
		xmpp_free (ctx, text);
	}
	/* they are older than anything kept */
	while ((text = g_queue_pop_tail (&rescued)) != NULL)
		g_queue_push_head (&self->queue, text);
}

guint
kith_outbox_length (KithOutbox *self)
{
	return g_queue_get_length (&self->queue);
}
