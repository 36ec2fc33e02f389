/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "control.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control-private.h"
#include "kith-error.h"

/* limits a peer cannot go past: one request line, what waits to be written to a slow
 * watcher, connections at once */
#define KITH_CONTROL_MAX_LINE (64 * 1024)
#define KITH_CONTROL_MAX_QUEUED (4 * 1024 * 1024)
#define KITH_CONTROL_MAX_CLIENTS 32

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

gchar *
kith_control_default_path (void)
{
	const gchar *runtime = g_getenv ("RUNTIME_DIRECTORY");

	if (runtime != NULL && runtime[0] != '\0') {
		g_auto (GStrv) dirs = g_strsplit (runtime, ":", 2);
		return g_build_filename (dirs[0], "control", NULL);
	}
	return g_strdup ("/run/kith/control");
}

const gchar *
kith_control_get_path (KithControl *self)
{
	return self->path;
}

/* -- connections ------------------------------------------------------------------------ */

static void kith_control_client_read (KithControlClient *client);
static void kith_control_client_flush (KithControlClient *client);

static void
kith_control_client_free (KithControlClient *client)
{
	g_clear_object (&client->connection);
	g_clear_object (&client->cancellable);
	g_string_free (client->in, TRUE);
	g_string_free (client->out, TRUE);
	if (client->writing != NULL)
		g_string_free (client->writing, TRUE);
	g_free (client->who);
	g_free (client->watch_device);
	g_clear_pointer (&client->watched, g_hash_table_unref);
	g_free (client);
}

/* freed once no asynchronous operation refers to it any more */
static void
kith_control_client_release (KithControlClient *client)
{
	if (client->closed && client->pending == 0)
		kith_control_client_free (client);
}

static void
kith_control_client_close (KithControlClient *client)
{
	if (client->closed)
		return;
	client->closed = TRUE;
	kith_control_client_unwatch (client);
	if (client->control != NULL)
		client->control->clients = g_list_remove (client->control->clients, client);
	g_cancellable_cancel (client->cancellable);
	(void)g_io_stream_close (G_IO_STREAM (client->connection), NULL, NULL);
	kith_control_client_release (client);
}

static void
kith_control_client_write_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	KithControlClient *client = user_data;
	g_autoptr (GError) error = NULL;
	gboolean written =
	        g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);

	client->pending--;
	g_string_free (client->writing, TRUE);
	client->writing = NULL;
	if (client->closed) {
		kith_control_client_release (client);
		return;
	}
	if (!written) {
		g_debug ("kithctl (%s): %s", client->who, error->message);
		kith_control_client_close (client);
		return;
	}
	kith_control_client_flush (client);
}

static void
kith_control_client_flush (KithControlClient *client)
{
	GOutputStream *stream = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));

	if (client->closed || client->writing != NULL)
		return;
	if (client->out->len == 0) {
		if (client->closing)
			kith_control_client_close (client);
		return;
	}
	client->writing = client->out;
	client->out = g_string_new (NULL);
	client->pending++;
	g_output_stream_write_all_async (stream, client->writing->str, client->writing->len,
	                                 G_PRIORITY_DEFAULT, client->cancellable,
	                                 kith_control_client_write_cb, client);
}

void
kith_control_client_send (KithControlClient *client, JsonNode *root)
{
	g_autoptr (JsonNode) node = root;
	g_autoptr (JsonGenerator) generator = NULL;
	g_autofree gchar *text = NULL;

	if (client->closed)
		return;
	generator = json_generator_new ();
	json_generator_set_root (generator, node);
	text = json_generator_to_data (generator, NULL);
	if (client->out->len + strlen (text) > KITH_CONTROL_MAX_QUEUED) {
		g_message ("kithctl (%s): does not read what it asked for; closed", client->who);
		kith_control_client_close (client);
		return;
	}
	g_string_append (client->out, text);
	g_string_append_c (client->out, '\n');
	kith_control_client_flush (client);
}

void
kith_control_client_send_error (KithControlClient *client, const gchar *message)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "ok");
	json_builder_add_boolean_value (builder, FALSE);
	json_builder_set_member_name (builder, "error");
	json_builder_add_string_value (builder, message);
	json_builder_end_object (builder);
	kith_control_client_send (client, json_builder_get_root (builder));
}

/* whole lines become requests; what follows the last newline waits for more */
static void
kith_control_client_take_lines (KithControlClient *client)
{
	gchar *newline;

	while (!client->closed && !client->closing &&
	       (newline = memchr (client->in->str, '\n', client->in->len)) != NULL) {
		gsize length = (gsize)(newline - client->in->str);
		g_autofree gchar *line = g_strndup (client->in->str, length);
		g_string_erase (client->in, 0, (gssize)length + 1);
		g_strchomp (line);
		if (line[0] != '\0')
			kith_control_client_request (client, line);
	}
	if (client->in->len > KITH_CONTROL_MAX_LINE) {
		kith_control_client_send_error (client, "request line too long");
		client->closing = TRUE;
		kith_control_client_flush (client);
	}
}

static void
kith_control_client_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	KithControlClient *client = user_data;
	g_autoptr (GError) error = NULL;
	gssize got = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

	client->pending--;
	if (client->closed) {
		kith_control_client_release (client);
		return;
	}
	if (got <= 0) {
		/* the peer is gone (a watch ends like this); a request being answered finishes */
		if (got < 0)
			g_debug ("kithctl (%s): %s", client->who, error->message);
		client->closing = TRUE;
		kith_control_client_unwatch (client);
		kith_control_client_flush (client);
		return;
	}
	g_string_append_len (client->in, (const gchar *)client->buffer, got);
	kith_control_client_take_lines (client);
	kith_control_client_read (client);
}

static void
kith_control_client_read (KithControlClient *client)
{
	GInputStream *stream = g_io_stream_get_input_stream (G_IO_STREAM (client->connection));

	if (client->closed || client->closing)
		return;
	client->pending++;
	g_input_stream_read_async (stream, client->buffer, sizeof client->buffer,
	                           G_PRIORITY_DEFAULT, client->cancellable,
	                           kith_control_client_read_cb, client);
}

/* -- who may do what -------------------------------------------------------------------- */

static gid_t *
kith_control_peer_groups (int fd, uid_t uid, gid_t gid, guint *count)
{
	socklen_t size = 64 * sizeof (gid_t);
	g_autofree gid_t *groups = g_new0 (gid_t, 64);
	struct passwd *user;
	int n = 64;

	/* the groups the peer process had when it connected (Linux 4.13 and later) */
	if (getsockopt (fd, SOL_SOCKET, SO_PEERGROUPS, groups, &size) == 0) {
		*count = size / sizeof (gid_t);
		return g_steal_pointer (&groups);
	}
	if (errno == ERANGE) {
		g_free (groups);
		groups = g_malloc0 (size);
		if (getsockopt (fd, SOL_SOCKET, SO_PEERGROUPS, groups, &size) == 0) {
			*count = size / sizeof (gid_t);
			return g_steal_pointer (&groups);
		}
	}
	/* older kernels: the user's groups in the group database */
	*count = 0;
	user = getpwuid (uid);
	if (user == NULL)
		return NULL;
	if (getgrouplist (user->pw_name, gid, groups, &n) < 0) {
		g_free (groups);
		groups = g_new0 (gid_t, n);
		if (getgrouplist (user->pw_name, gid, groups, &n) < 0)
			return NULL;
	}
	*count = (guint)n;
	return g_steal_pointer (&groups);
}

static gboolean
kith_control_has_group (gid_t gid, const gid_t *groups, guint count, gid_t wanted)
{
	if (gid == wanted)
		return TRUE;
	for (guint i = 0; i < count; i++)
		if (groups[i] == wanted)
			return TRUE;
	return FALSE;
}

static gboolean
kith_control_judge (KithControl *self, KithControlClient *client, GError **error)
{
	GSocket *socket = g_socket_connection_get_socket (client->connection);
	g_autoptr (GCredentials) credentials = g_socket_get_credentials (socket, error);
	g_autofree gid_t *groups = NULL;
	guint count = 0;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gboolean admin;

	if (credentials == NULL)
		return FALSE;
	uid = g_credentials_get_unix_user (credentials, NULL);
	pid = g_credentials_get_unix_pid (credentials, NULL);
	gid = ((struct ucred *)g_credentials_get_native (credentials,
	                                                 G_CREDENTIALS_TYPE_LINUX_UCRED))
	              ->gid;
	groups = kith_control_peer_groups (g_socket_get_fd (socket), uid, gid, &count);
	client->who = g_strdup_printf ("uid %u, pid %d", (guint)uid, (gint)pid);
	admin = uid == 0 || uid == geteuid ();
	client->may_change =
	        admin || (self->admin_group != NULL &&
	                  kith_control_has_group (gid, groups, count, self->admin_gid));
	client->may_read =
	        client->may_change || kith_control_has_group (gid, groups, count, getegid ());
	return TRUE;
}

static gboolean
kith_control_incoming_cb (GSocketService *service, GSocketConnection *connection, GObject *source,
                          gpointer user_data)
{
	KithControl *self = user_data;
	KithControlClient *client = g_new0 (KithControlClient, 1);
	g_autoptr (GError) error = NULL;

	client->control = self;
	client->connection = g_object_ref (connection);
	client->cancellable = g_cancellable_new ();
	client->in = g_string_new (NULL);
	client->out = g_string_new (NULL);
	self->clients = g_list_prepend (self->clients, client);
	if (!kith_control_judge (self, client, &error)) {
		g_message ("kithctl: cannot tell who connected: %s", error->message);
		kith_control_client_close (client);
		return TRUE;
	}
	if (g_list_length (self->clients) > KITH_CONTROL_MAX_CLIENTS) {
		kith_control_client_send_error (client, "too many kithctl connections at once");
		client->closing = TRUE;
		kith_control_client_flush (client);
		return TRUE;
	}
	if (!client->may_read) {
		g_autofree gchar *message = g_strdup_printf (
		        "permission denied: kithctl needs root or membership in group %s "
		        "(adduser USER %s, then log in again)",
		        self->own_group, self->own_group);
		kith_control_client_send_error (client, message);
		client->closing = TRUE;
		kith_control_client_flush (client);
		return TRUE;
	}
	kith_control_client_read (client);
	return TRUE;
}

/* -- the socket ------------------------------------------------------------------------- */

/* a socket file left by a kithd that died is replaced; one that answers is someone's */
static gboolean
kith_control_clear_path (const gchar *path, GError **error)
{
	g_autoptr (GSocketClient) probe = NULL;
	g_autoptr (GSocketAddress) address = NULL;
	g_autoptr (GSocketConnection) connection = NULL;
	GStatBuf info;

	if (g_lstat (path, &info) != 0)
		return TRUE;
	if (!S_ISSOCK (info.st_mode)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "%s exists and is no socket",
		             path);
		return FALSE;
	}
	probe = g_socket_client_new ();
	address = g_unix_socket_address_new (path);
	connection = g_socket_client_connect (probe, G_SOCKET_CONNECTABLE (address), NULL, NULL);
	if (connection != NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED,
		             "another kithd answers at %s (set RUNTIME_DIRECTORY to run a second "
		             "one)",
		             path);
		return FALSE;
	}
	if (g_unlink (path) != 0 && errno != ENOENT) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "cannot remove the old %s: %s",
		             path, g_strerror (errno));
		return FALSE;
	}
	return TRUE;
}

static gboolean
kith_control_listen (KithControl *self, GError **error)
{
	g_autofree gchar *dir = g_path_get_dirname (self->path);
	g_autoptr (GSocketAddress) address = NULL;
	g_autoptr (GSocket) socket = NULL;

	if (g_mkdir_with_parents (dir, 0755) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "cannot create %s: %s", dir,
		             g_strerror (errno));
		return FALSE;
	}
	if (!kith_control_clear_path (self->path, error))
		return FALSE;
	socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
	                       G_SOCKET_PROTOCOL_DEFAULT, error);
	if (socket == NULL)
		return FALSE;
	address = g_unix_socket_address_new (self->path);
	if (!g_socket_bind (socket, address, FALSE, error) || !g_socket_listen (socket, error)) {
		g_prefix_error (error, "%s: ", self->path);
		return FALSE;
	}
	/* anyone may connect and is told what their credentials allow */
	if (g_chmod (self->path, 0666) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "chmod %s: %s", self->path,
		             g_strerror (errno));
		return FALSE;
	}
	self->service = g_socket_service_new ();
	if (!g_socket_listener_add_socket (G_SOCKET_LISTENER (self->service), socket, NULL, error))
		return FALSE;
	g_signal_connect (self->service, "incoming", G_CALLBACK (kith_control_incoming_cb), self);
	g_socket_service_start (self->service);
	return TRUE;
}

static void
kith_control_device_cb (KithDevice *device, gpointer user_data)
{
	kith_control_device_joined (user_data, device);
}

static void
kith_control_find_groups (KithControl *self, KithConfig *config)
{
	struct group *own = getgrgid (getegid ());
	struct group *admin;

	self->own_group =
	        own != NULL ? g_strdup (own->gr_name) : g_strdup_printf ("%u", (guint)getegid ());
	if (config->admin_group == NULL || config->admin_group[0] == '\0')
		return;
	admin = getgrnam (config->admin_group);
	if (admin == NULL) {
		g_warning ("%s: [kith] AdminGroup: there is no group %s; only root may change "
		           "things with kithctl",
		           kith_config_origin (config, "kith", "AdminGroup"), config->admin_group);
		return;
	}
	self->admin_group = g_strdup (admin->gr_name);
	self->admin_gid = admin->gr_gid;
}

KithControl *
kith_control_new (KithDaemon *daemon, const gchar *path, KithControlReloadFunc reload,
                  gpointer user_data, GError **error)
{
	g_autoptr (KithControl) self = g_new0 (KithControl, 1);

	self->daemon = daemon;
	self->path = g_strdup (path);
	self->reload = reload;
	self->reload_data = user_data;
	self->started_at = g_get_monotonic_time ();
	kith_control_find_groups (self, kith_daemon_get_config (daemon));
	if (!kith_control_listen (self, error))
		return NULL;
	kith_daemon_set_device_func (daemon, kith_control_device_cb, self);
	return g_steal_pointer (&self);
}

void
kith_control_free (KithControl *self)
{
	if (self == NULL)
		return;
	if (self->service != NULL) {
		kith_daemon_set_device_func (self->daemon, NULL, NULL);
		g_socket_service_stop (self->service);
		g_socket_listener_close (G_SOCKET_LISTENER (self->service));
		g_clear_object (&self->service);
		(void)g_unlink (self->path);
	}
	while (self->clients != NULL) {
		KithControlClient *client = self->clients->data;
		self->clients = g_list_delete_link (self->clients, self->clients);
		client->control = NULL;
		kith_control_client_close (client);
	}
	g_free (self->path);
	g_free (self->own_group);
	g_free (self->admin_group);
	g_free (self);
}
