/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A component-mode gateway for unit tests: configuration, store, the sim bus (a relay and a
 * thermometer), the router and the devices' identities; the component is never connected, so
 * whatever the devices send waits in its outbox. */
#pragma once

#include <glib/gstdio.h>

#include "driver.h"
#include "identity.h"
#include "iot/policy.h"
#include "router.h"

typedef struct {
	gchar *dir;
	KithConfig *config;
	KithStore *store;
	KithDriver *driver;
	KithPolicy *policy;
	KithRouter *router;
	GPtrArray *identities; /* KithIdentity, in bus order: sim-thermometer-1, sim-relay-1 */
} ComponentWorld;

static inline void
component_world_init (ComponentWorld *world)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr (GError) error = NULL;
	GPtrArray *devices;

	xmpp_initialize ();
	world->dir = g_dir_make_tmp ("kith-unit-XXXXXX", NULL);
	path = g_build_filename (world->dir, "kith.conf", NULL);
	text = g_strdup_printf ("[kith]\nStateDirectory=%s/state\n"
	                        "[xmpp]\nMode=component\n"
	                        "ComponentDomain=devices.x\nComponentSecret=s\n"
	                        "[friendship]\nOwner=owner@x\n"
	                        "[bus:sim]\nDriver=sim\nRelays=1\nThermometers=1\nInterval=0\n",
	                        world->dir);
	g_assert_true (g_file_set_contents (path, text, -1, NULL));
	world->config = kith_config_load (path, &error);
	g_assert_no_error (error);
	world->store = kith_store_open (world->config->state_directory, &error);
	g_assert_no_error (error);
	world->driver = kith_driver_new ("sim", "sim", &error);
	g_assert_true (
	        kith_driver_setup (world->driver, world->config->keyfile, "bus:sim", &error));
	g_assert_true (kith_driver_start (world->driver, &error));
	world->policy = kith_policy_new (world->config);
	world->router = kith_router_new (world->config, world->store);
	world->identities = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_identity_free);
	devices = kith_driver_get_devices (world->driver);
	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		KithIdentity *identity = kith_identity_new (
		        world->config, world->store, NULL, world->policy,
		        kith_router_add_device (world->router, device), device, NULL, NULL);
		g_ptr_array_add (world->identities, identity);
	}
}

static inline void
component_world_clear (ComponentWorld *world)
{
	g_ptr_array_unref (world->identities);
	kith_router_free (world->router);
	kith_policy_free (world->policy);
	kith_driver_stop (world->driver);
	g_object_unref (world->driver);
	kith_store_free (world->store);
	kith_config_free (world->config);
	g_free (world->dir);
}

static inline guint
component_world_outbox (ComponentWorld *world)
{
	return kith_component_get_outbox_length (kith_router_get_component (world->router));
}
