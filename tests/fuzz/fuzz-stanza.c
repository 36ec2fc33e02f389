/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Stanzas from the network, through everything that handles them: the component router, the
 * devices' transports (the server's part of RFC 6121), the identities with their parent
 * (XEP-0324) and thing registry (XEP-0347), the protocol layer (XEP-0323 readouts, XEP-0325
 * control, chat) and the bus behind it (the sim driver).
 *
 * An input is a sequence of stanzas, written one after another as on the wire (a whitespace
 * between them is ignored). Each input gets a fresh gateway in component mode: a sim bus with
 * a thermometer, a relay and a dimmer, friend@x a friend of each, owner@x their owner, and the
 * devices online. The stream itself is never connected: what the gateway sends waits in the
 * component's outbox, and every stanza there must be well-formed XML in UTF-8 (a stanza that
 * is not ends the whole stream at the server). An IQ whose id is "@ID@" gets the id of the
 * latest question the gateway asked (the parent, the registry): that is how an input answers.
 *
 * KITH_FUZZ_WORLD (set at build time) chooses the configuration the handlers are tried with:
 * readout (with a history), control, provisioning (Policy=parent), registry, subscription
 * (Policy=manual) and chat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "fuzz.h"
#include "history.h"
#include "identity.h"
#include "iot/policy.h"
#include "iot/stanza.h"
#include "iot/subscription.h"
#include "router.h"
#include "transport-component.h"

#ifndef KITH_FUZZ_WORLD
#define KITH_FUZZ_WORLD "readout"
#endif

/* more stanzas than this in one input are not looked at (libFuzzer's inputs stay small
 * anyway; this bounds the work of one) */
#define KITH_FUZZ_MAX_STANZAS 64

typedef struct {
	const gchar *name;
	const gchar *config; /* [friendship] keys and whatever else the handlers need */
	gboolean history;
} FuzzWorldKind;

static const FuzzWorldKind fuzz_world_kinds[] = {
	{ "readout", "[kith]\nHistoryDays=30\n[friendship]\nOwner=owner@x\n", TRUE },
	{ "control", "[friendship]\nOwner=owner@x\n", FALSE },
	{ "provisioning",
	  "[friendship]\nOwner=owner@x\nPolicy=parent\nProvisioning=prov.x\n"
	  "ProvisioningTimeout=1\n",
	  FALSE },
	{ "registry", "[friendship]\nRegistry=registry.x\n", FALSE },
	{ "subscription", "[friendship]\nOwner=owner@x\nPolicy=manual\n", FALSE },
	{ "chat", "[friendship]\nOwner=owner@x\nPolicy=manual\n", FALSE },
};

typedef struct {
	KithStore *store;
	KithHistory *history;
	KithDriver *driver;
	KithPolicy *policy;
	KithRouter *router;
	GPtrArray *identities;
	guint checked;   /* outbox stanzas checked already */
	gchar *asked_id; /* the id of the latest IQ get or set the gateway sent */
} FuzzWorld;

static const FuzzWorldKind *fuzz_kind;
static KithConfig *fuzz_config;
static xmpp_ctx_t *fuzz_ctx; /* for parsing inputs */
static KithTransportFuncs fuzz_online_funcs;

/* the stream is never connected, but the devices act as on a live one */
static gboolean
fuzz_transport_is_online (KithTransport *transport)
{
	return TRUE;
}

static void
fuzz_world_open (FuzzWorld *world)
{
	g_autoptr (GError) error = NULL;
	GPtrArray *devices;
	static const gchar *const friends[] = { "friend@x", "owner@x" };

	world->store = kith_store_open (fuzz_config->state_directory, &error);
	g_assert_no_error (error);
	world->driver = kith_driver_new ("sim", "sim", &error);
	g_assert_no_error (error);
	g_assert_true (kith_driver_setup (world->driver, fuzz_config->keyfile, "bus:sim", &error));
	g_assert_true (kith_driver_start (world->driver, &error));
	devices = kith_driver_get_devices (world->driver);
	if (fuzz_kind->history) {
		KithHistoryLimits limits = { fuzz_config->history_days,
			                     fuzz_config->history_max_mb };
		world->history = kith_history_open (fuzz_config->state_directory, &limits, &error);
		g_assert_no_error (error);
		/* something to answer historical readouts with */
		for (guint i = 0; i < devices->len; i++)
			kith_history_record (world->history, g_ptr_array_index (devices, i));
		kith_history_flush (world->history);
	}
	world->policy = kith_policy_new (fuzz_config);
	world->router = kith_router_new (fuzz_config, world->store);
	world->identities = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_identity_free);
	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		KithTransport *transport = kith_router_add_device (world->router, device);
		for (guint j = 0; j < G_N_ELEMENTS (friends); j++) {
			guint state = KITH_SUB_FROM | KITH_SUB_TO;
			kith_component_transport_load (transport, friends[j], state);
			g_assert_true (kith_store_set_roster (world->store,
			                                      kith_device_get_id (device),
			                                      friends[j], state, NULL));
		}
		g_ptr_array_add (world->identities,
		                 kith_identity_new (fuzz_config, world->store, world->history,
		                                    world->policy, transport, device, NULL, NULL));
	}
	for (guint i = 0; i < world->identities->len; i++) {
		KithTransport *transport =
		        kith_identity_get_transport (g_ptr_array_index (world->identities, i));
		if (fuzz_online_funcs.send == NULL) {
			fuzz_online_funcs = *transport->funcs;
			fuzz_online_funcs.is_online = fuzz_transport_is_online;
		}
		transport->funcs = &fuzz_online_funcs;
		kith_component_transport_announce (transport);
	}
}

static void
fuzz_world_close (FuzzWorld *world)
{
	g_ptr_array_unref (world->identities);
	kith_router_free (world->router);
	kith_policy_free (world->policy);
	kith_driver_stop (world->driver);
	g_object_unref (world->driver);
	kith_history_free (world->history);
	kith_store_free (world->store);
	g_free (world->asked_id);
	kith_fuzz_remove_tree (fuzz_config->state_directory);
}

/* what the gateway sent since the last look: well-formed, and the latest question noted */
static void
fuzz_world_check_outbox (FuzzWorld *world)
{
	g_autoptr (GPtrArray) texts =
	        kith_component_dump_outbox (kith_router_get_component (world->router));

	for (; world->checked < texts->len; world->checked++) {
		const gchar *text = g_ptr_array_index (texts, world->checked);
		xmpp_stanza_t *stanza = xmpp_stanza_new_from_string (fuzz_ctx, text);
		const char *type;

		if (!g_utf8_validate (text, -1, NULL) || stanza == NULL) {
			fprintf (stderr, "kith-fuzz: the gateway sent a malformed stanza: %s\n",
			         text);
			abort ();
		}
		if (kith_fuzz_verbose ())
			fprintf (stderr, "sent: %s\n", text);
		type = xmpp_stanza_get_type (stanza);
		if (g_strcmp0 (xmpp_stanza_get_name (stanza), "iq") == 0 &&
		    (g_strcmp0 (type, "get") == 0 || g_strcmp0 (type, "set") == 0) &&
		    xmpp_stanza_get_id (stanza) != NULL) {
			g_free (world->asked_id);
			world->asked_id = g_strdup (xmpp_stanza_get_id (stanza));
		}
		xmpp_stanza_release (stanza);
	}
}

/* what the bus and the identities do later (reads and writes finish from idle callbacks) */
static void
fuzz_world_settle (void)
{
	for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
		;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *text = NULL;
	const gchar *scratch;

	kith_fuzz_init ();
	for (guint i = 0; i < G_N_ELEMENTS (fuzz_world_kinds); i++) {
		if (g_strcmp0 (fuzz_world_kinds[i].name, KITH_FUZZ_WORLD) == 0)
			fuzz_kind = &fuzz_world_kinds[i];
	}
	g_assert_nonnull (fuzz_kind);
	xmpp_initialize ();
	fuzz_ctx = xmpp_ctx_new (NULL, NULL);
	scratch = kith_fuzz_scratch ();
	path = g_build_filename (scratch, "kith.conf", NULL);
	text = g_strdup_printf ("[kith]\nStateDirectory=%s/state\n"
	                        "[xmpp]\nMode=component\nComponentDomain=devices.x\n"
	                        "ComponentSecret=s\nDomain=x\n"
	                        "[bus:sim]\nDriver=sim\nThermometers=1\nRelays=1\nDimmers=1\n"
	                        "Interval=0\n"
	                        "%s",
	                        scratch, fuzz_kind->config);
	g_assert_true (g_file_set_contents (path, text, -1, NULL));
	fuzz_config = kith_config_load (path, &error);
	g_assert_no_error (error);
	return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	g_autofree gchar *input = kith_fuzz_text (data, size);
	g_autofree gchar *document = NULL;
	xmpp_stanza_t *wrapper;
	FuzzWorld world = { 0 };
	guint count = 0;

	/* the stanzas as the children of one element: a whitespace between them is a text node */
	if (strlen (input) != size)
		return 0;
	document = g_strconcat ("<stream>", input, "</stream>", NULL);
	wrapper = xmpp_stanza_new_from_string (fuzz_ctx, document);
	if (wrapper == NULL)
		return 0;
	fuzz_world_open (&world);
	fuzz_world_settle ();
	fuzz_world_check_outbox (&world);
	for (xmpp_stanza_t *child = xmpp_stanza_get_children (wrapper);
	     child != NULL && count < KITH_FUZZ_MAX_STANZAS; child = xmpp_stanza_get_next (child)) {
		xmpp_stanza_t *stanza;

		if (!xmpp_stanza_is_tag (child))
			continue;
		count++;
		stanza = xmpp_stanza_copy (child);
		if (g_strcmp0 (xmpp_stanza_get_id (stanza), "@ID@") == 0)
			xmpp_stanza_set_id (stanza,
			                    world.asked_id != NULL ? world.asked_id : "none");
		if (kith_fuzz_verbose ()) {
			g_autofree gchar *text = kith_stanza_to_string (stanza);
			fprintf (stderr, "received: %s\n", text);
		}
		kith_router_receive (world.router, stanza);
		xmpp_stanza_release (stanza);
		fuzz_world_settle ();
		fuzz_world_check_outbox (&world);
	}
	xmpp_stanza_release (wrapper);
	fuzz_world_close (&world);
	return 0;
}
