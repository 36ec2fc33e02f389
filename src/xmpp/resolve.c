/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-xmpp"

#include "xmpp/resolve.h"

typedef struct {
	gchar *domain;
	guint16 port;
	KithResolveFunc done;
	gpointer user_data;
	GCancellable *cancellable;
} KithResolve;

static void
kith_resolve_free (KithResolve *resolve)
{
	g_free (resolve->domain);
	g_clear_object (&resolve->cancellable);
	g_free (resolve);
}

static void
kith_resolve_finish (KithResolve *resolve, const gchar *address, const GError *error)
{
	resolve->done (address, resolve->port, error, resolve->user_data);
	kith_resolve_free (resolve);
}

static void
kith_resolve_name_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	KithResolve *resolve = user_data;
	g_autoptr (GError) error = NULL;
	GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
	g_autofree gchar *address = NULL;

	if (addresses != NULL)
		address = g_inet_address_to_string (addresses->data);
	g_resolver_free_addresses (addresses);
	kith_resolve_finish (resolve, address, error);
}

static void
kith_resolve_name (KithResolve *resolve, const gchar *name)
{
	g_autoptr (GResolver) resolver = g_resolver_get_default ();
	g_resolver_lookup_by_name_async (resolver, name, resolve->cancellable, kith_resolve_name_cb,
	                                 resolve);
}

static void
kith_resolve_service_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	KithResolve *resolve = user_data;
	g_autoptr (GError) error = NULL;
	GList *targets = g_resolver_lookup_service_finish (G_RESOLVER (source), result, &error);

	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		kith_resolve_finish (resolve, NULL, error);
		return;
	}
	if (targets != NULL) {
		/* the list comes sorted by priority and weight */
		g_autofree gchar *host = g_strdup (g_srv_target_get_hostname (targets->data));
		resolve->port = g_srv_target_get_port (targets->data);
		g_resolver_free_targets (targets);
		kith_resolve_name (resolve, host);
		return;
	}
	/* no SRV record: the domain itself */
	kith_resolve_name (resolve, resolve->domain);
}

void
kith_resolve_async (const gchar *server, const gchar *domain, guint16 port,
                    GCancellable *cancellable, KithResolveFunc done, gpointer user_data)
{
	KithResolve *resolve = g_new0 (KithResolve, 1);

	resolve->domain = g_strdup (domain);
	resolve->port = port;
	resolve->done = done;
	resolve->user_data = user_data;
	resolve->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
	if (server != NULL && server[0] != '\0') {
		if (g_hostname_is_ip_address (server)) {
			kith_resolve_finish (resolve, server, NULL);
			return;
		}
		kith_resolve_name (resolve, server);
		return;
	}
	{
		g_autoptr (GResolver) resolver = g_resolver_get_default ();
		g_resolver_lookup_service_async (resolver, "xmpp-client", "tcp", domain,
		                                 cancellable, kith_resolve_service_cb, resolve);
	}
}
