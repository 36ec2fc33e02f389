/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

/*
 * The protocol is one datagram of text, so kithd speaks it itself rather than linking
 * libsystemd for it: nothing to link on machines without systemd, and nothing changes when
 * $NOTIFY_SOCKET is absent.
 */

#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kith-error.h"

/* how long the status is refreshed every second after start and reload */
#define KITH_NOTIFY_SETTLE_S 30
/* the status refresh without a watchdog */
#define KITH_NOTIFY_STATUS_S 60

struct _KithNotify {
	gchar *address;
	guint64 watchdog_usec;
	KithNotifyStatusFunc status;
	gpointer user_data;
	gchar *last_status;
	guint watchdog_timer;
	guint settle_timer;
	guint settle_ticks;
	gboolean failed; /* a send failed: said once */
};

gboolean
kith_notify_send (const gchar *address, const gchar *message, GError **error)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	gsize length = strlen (address);
	socklen_t size;
	int fd;
	ssize_t sent;
	int saved;

	if ((address[0] != '/' && address[0] != '@') || length < 2 ||
	    length >= sizeof (sun.sun_path)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "NOTIFY_SOCKET=%s is not a socket path or an abstract name", address);
		return FALSE;
	}
	memcpy (sun.sun_path, address, length);
	size = offsetof (struct sockaddr_un, sun_path) + length;
	if (address[0] == '@')
		sun.sun_path[0] = '\0'; /* the abstract namespace: no terminating zero either */
	else
		size++;
	fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "socket: %s",
		             g_strerror (errno));
		return FALSE;
	}
	sent = sendto (fd, message, strlen (message), MSG_NOSIGNAL, (struct sockaddr *)&sun, size);
	saved = errno;
	close (fd);
	if (sent < 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "%s: %s", address,
		             g_strerror (saved));
		return FALSE;
	}
	return TRUE;
}

static void
kith_notify_say (KithNotify *self, const gchar *message)
{
	g_autoptr (GError) error = NULL;

	if (self->address == NULL)
		return;
	if (kith_notify_send (self->address, message, &error)) {
		self->failed = FALSE;
		return;
	}
	if (!self->failed)
		g_message ("cannot notify the service manager: %s", error->message);
	self->failed = TRUE;
}

static gchar *
kith_notify_get_status (KithNotify *self)
{
	gchar *status = self->status != NULL ? self->status (self->user_data) : NULL;
	/* one line: the protocol separates fields by newlines */
	if (status != NULL)
		g_strdelimit (status, "\n", ' ');
	return status;
}

void
kith_notify_update_status (KithNotify *self)
{
	g_autofree gchar *status = NULL;
	g_autofree gchar *message = NULL;

	if (self == NULL || self->address == NULL)
		return;
	status = kith_notify_get_status (self);
	if (status == NULL || g_strcmp0 (status, self->last_status) == 0)
		return;
	message = g_strconcat ("STATUS=", status, NULL);
	kith_notify_say (self, message);
	g_free (self->last_status);
	self->last_status = g_steal_pointer (&status);
}

/* runs on the main loop: if the loop stalls, the service manager stops hearing it */
static gboolean
kith_notify_watchdog_cb (gpointer user_data)
{
	KithNotify *self = user_data;
	kith_notify_say (self, "WATCHDOG=1");
	kith_notify_update_status (self);
	return G_SOURCE_CONTINUE;
}

static gboolean
kith_notify_status_cb (gpointer user_data)
{
	kith_notify_update_status (user_data);
	return G_SOURCE_CONTINUE;
}

static gboolean
kith_notify_settle_cb (gpointer user_data)
{
	KithNotify *self = user_data;
	kith_notify_update_status (self);
	if (++self->settle_ticks < KITH_NOTIFY_SETTLE_S)
		return G_SOURCE_CONTINUE;
	self->settle_timer = 0;
	return G_SOURCE_REMOVE;
}

static guint64
kith_notify_parse_watchdog (void)
{
	const gchar *usec = g_getenv ("WATCHDOG_USEC");
	const gchar *pid = g_getenv ("WATCHDOG_PID");
	guint64 value = 0, owner = 0;

	if (usec == NULL || !g_ascii_string_to_unsigned (usec, 10, 1, G_MAXUINT64, &value, NULL))
		return 0;
	/* meant for another process (kithd started by a wrapper that got it) */
	if (pid != NULL && pid[0] != '\0' &&
	    (!g_ascii_string_to_unsigned (pid, 10, 1, G_MAXUINT32, &owner, NULL) ||
	     owner != (guint64)getpid ()))
		return 0;
	return value;
}

KithNotify *
kith_notify_new (KithNotifyStatusFunc status, gpointer user_data)
{
	KithNotify *self = g_new0 (KithNotify, 1);
	const gchar *address = g_getenv ("NOTIFY_SOCKET");

	self->status = status;
	self->user_data = user_data;
	if (address != NULL && address[0] != '\0') {
		self->address = g_strdup (address);
		self->watchdog_usec = kith_notify_parse_watchdog ();
	}
	return self;
}

void
kith_notify_free (KithNotify *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id (&self->watchdog_timer, g_source_remove);
	g_clear_handle_id (&self->settle_timer, g_source_remove);
	g_free (self->address);
	g_free (self->last_status);
	g_free (self);
}

gboolean
kith_notify_is_enabled (KithNotify *self)
{
	return self != NULL && self->address != NULL;
}

static void
kith_notify_settle (KithNotify *self)
{
	self->settle_ticks = 0;
	if (self->settle_timer == 0)
		self->settle_timer = g_timeout_add_seconds (1, kith_notify_settle_cb, self);
}

void
kith_notify_ready (KithNotify *self)
{
	g_autofree gchar *status = NULL;
	g_autofree gchar *message = NULL;

	if (self == NULL || self->address == NULL)
		return;
	status = kith_notify_get_status (self);
	message = status != NULL ? g_strconcat ("READY=1\nSTATUS=", status, NULL)
	                         : g_strdup ("READY=1");
	kith_notify_say (self, message);
	g_free (self->last_status);
	self->last_status = g_steal_pointer (&status);
	kith_notify_settle (self);
	if (self->watchdog_timer != 0)
		return;
	if (self->watchdog_usec > 0) {
		/* half the interval, as the protocol asks; at least every millisecond */
		guint interval_ms = (guint)MAX (self->watchdog_usec / 2000, 1);
		kith_notify_say (self, "WATCHDOG=1");
		self->watchdog_timer = g_timeout_add (interval_ms, kith_notify_watchdog_cb, self);
		g_debug ("watchdog fed every %u ms", interval_ms);
	} else {
		self->watchdog_timer =
		        g_timeout_add_seconds (KITH_NOTIFY_STATUS_S, kith_notify_status_cb, self);
	}
}

void
kith_notify_reloading (KithNotify *self)
{
	g_autofree gchar *message = NULL;

	if (self == NULL || self->address == NULL)
		return;
	/* MONOTONIC_USEC lets a service manager tell this reload from an earlier one */
	message = g_strdup_printf ("RELOADING=1\nSTATUS=reloading the configuration\n"
	                           "MONOTONIC_USEC=%" G_GINT64_FORMAT,
	                           g_get_monotonic_time ());
	kith_notify_say (self, message);
	g_clear_pointer (&self->last_status, g_free);
}

void
kith_notify_stopping (KithNotify *self, const gchar *status)
{
	g_autofree gchar *message = NULL;

	if (self == NULL || self->address == NULL)
		return;
	g_clear_handle_id (&self->settle_timer, g_source_remove);
	message = g_strconcat ("STOPPING=1\nSTATUS=", status, NULL);
	kith_notify_say (self, message);
	/* what the status function says no longer matters */
	self->status = NULL;
}
