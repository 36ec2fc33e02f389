/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Component mode's server duties without a server: what a device says goes through kithd's own
 * RFC 6121 bookkeeping into the component's outbox (the stream is never connected here), and
 * the roster it keeps is the one in the store.
 */
#include <string.h>

#include "component-world.h"
#include "iot/stanza.h"
#include "iot/subscription.h"

static void
collect_roster (const gchar *device_id, const gchar *jid, guint state, gpointer user_data)
{
	g_hash_table_insert (user_data, g_strdup_printf ("%s %s", device_id, jid),
	                     GUINT_TO_POINTER (state));
}

/* the stored state of device's contact jid (0: no row) */
static guint
stored_state (ComponentWorld *world, const gchar *device, const gchar *jid)
{
	g_autoptr (GHashTable) rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_autofree gchar *key = g_strdup_printf ("%s %s", device, jid);

	kith_store_foreach_roster (world->store, NULL, collect_roster, rows);
	return GPOINTER_TO_UINT (g_hash_table_lookup (rows, key));
}

static void
receive (ComponentWorld *world, const gchar *xml)
{
	xmpp_ctx_t *ctx = kith_component_get_ctx (kith_router_get_component (world->router));
	xmpp_stanza_t *stanza = xmpp_stanza_new_from_string (ctx, xml);

	g_assert_nonnull (stanza);
	kith_router_receive (world->router, stanza);
	xmpp_stanza_release (stanza);
}

/* the outbox from position since on, as one string */
static gchar *
sent_since (ComponentWorld *world, guint since)
{
	g_autoptr (GPtrArray) texts =
	        kith_component_dump_outbox (kith_router_get_component (world->router));
	GString *out = g_string_new (NULL);
	for (guint i = since; i < texts->len; i++)
		g_string_append (out, g_ptr_array_index (texts, i));
	return g_string_free (out, FALSE);
}

static void
send_presence (KithIdentity *identity, const gchar *type, const gchar *to)
{
	kith_identity_send (
	        identity, kith_stanza_presence (kith_identity_get_ctx (identity), type, NULL, to));
}

/* a device's presence to someone who is not its subscriber is remembered, and the unavailable
 * that follows it (directly, or in the goodbye to everyone) ends it */
static void
test_directed_presence (void)
{
	ComponentWorld world;
	KithIdentity *relay;
	g_autofree gchar *sent = NULL;
	guint mark;

	component_world_init (&world);
	relay = g_ptr_array_index (world.identities, 1);
	g_assert_cmpstr (kith_identity_get_id (relay), ==, "sim-relay-1");

	mark = component_world_outbox (&world);
	send_presence (relay, NULL, "watcher@x");
	g_assert_cmpuint (stored_state (&world, "sim-relay-1", "watcher@x"), ==, KITH_SUB_DIRECTED);
	sent = sent_since (&world, mark);
	g_assert_nonnull (strstr (sent, "to=\"watcher@x\""));
	g_assert_nonnull (strstr (sent, "from=\"sim-relay-1@devices.x/kith\""));
	g_clear_pointer (&sent, g_free);

	mark = component_world_outbox (&world);
	send_presence (relay, "unavailable", "watcher@x");
	g_assert_cmpuint (stored_state (&world, "sim-relay-1", "watcher@x"), ==, 0);
	g_assert_cmpuint (component_world_outbox (&world), ==, mark + 1);

	/* again, then the goodbye to everyone: the directed one hears it too */
	send_presence (relay, NULL, "watcher@x");
	mark = component_world_outbox (&world);
	send_presence (relay, "unavailable", NULL);
	sent = sent_since (&world, mark);
	g_assert_nonnull (strstr (sent, "type=\"unavailable\""));
	g_assert_nonnull (strstr (sent, "to=\"watcher@x\""));
	g_assert_cmpuint (stored_state (&world, "sim-relay-1", "watcher@x"), ==, 0);
	component_world_clear (&world);
}

/* a friend request through the router, then the friend's probe from a full JID and a
 * stranger's: what goes out, and the rows that stay */
static void
test_friend_and_probes (void)
{
	ComponentWorld world;
	g_autofree gchar *sent = NULL;
	guint mark;

	component_world_init (&world);
	mark = component_world_outbox (&world);
	receive (&world, "<presence type='subscribe' from='friend@x/phone' "
	                 "to='sim-relay-1@devices.x'/>");
	/* Policy=open: accepted (subscribed from the bare JID), asked back */
	sent = sent_since (&world, mark);
	g_assert_nonnull (strstr (sent, "type=\"subscribed\""));
	g_assert_nonnull (strstr (sent, "type=\"subscribe\""));
	g_assert_nonnull (strstr (sent, "from=\"sim-relay-1@devices.x\""));
	g_assert_cmpuint (stored_state (&world, "sim-relay-1", "friend@x"), ==,
	                  KITH_SUB_FROM | KITH_SUB_PENDING_OUT);
	receive (&world,
	         "<presence type='subscribed' from='friend@x' to='sim-relay-1@devices.x'/>");
	g_assert_cmpuint (stored_state (&world, "sim-relay-1", "friend@x"), ==,
	                  KITH_SUB_FROM | KITH_SUB_TO);
	g_clear_pointer (&sent, g_free);

	/* the friend's probe is answered to the full JID that asked */
	mark = component_world_outbox (&world);
	receive (&world,
	         "<presence type='probe' from='friend@x/phone' to='sim-relay-1@devices.x'/>");
	sent = sent_since (&world, mark);
	g_assert_nonnull (strstr (sent, "to=\"friend@x/phone\""));
	g_clear_pointer (&sent, g_free);

	/* a stranger's probe: unsubscribed, and no row for the stranger */
	mark = component_world_outbox (&world);
	receive (&world, "<presence type='probe' from='stranger@x/r' to='sim-relay-1@devices.x'/>");
	sent = sent_since (&world, mark);
	g_assert_nonnull (strstr (sent, "type=\"unsubscribed\""));
	g_assert_cmpuint (stored_state (&world, "sim-relay-1", "stranger@x"), ==, 0);
	g_clear_pointer (&sent, g_free);

	/* a roster push is nobody's to make in component mode */
	receive (&world, "<iq type='set' id='p' from='devices.x' to='sim-relay-1@devices.x'>"
	                 "<query xmlns='jabber:iq:roster'><item jid='evil@x' subscription='both'/>"
	                 "</query></iq>");
	g_assert_cmpuint (stored_state (&world, "sim-relay-1", "evil@x"), ==, 0);
	component_world_clear (&world);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/component/directed-presence", test_directed_presence);
	g_test_add_func ("/kith/component/friend-and-probes", test_friend_and_probes);
	return g_test_run ();
}
