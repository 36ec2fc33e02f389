/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	KITH_MODE_CLIENT,
	KITH_MODE_COMPONENT,
} KithMode;

typedef enum {
	KITH_TLS_REQUIRED,
	KITH_TLS_OPTIONAL,
	KITH_TLS_DISABLED,
} KithTlsMode;

typedef enum {
	KITH_POLICY_OPEN,
	KITH_POLICY_ALLOWLIST,
	KITH_POLICY_MANUAL,
	KITH_POLICY_PARENT,
} KithPolicyKind;

typedef struct {
	gchar *name;  /* NAME of [bus:NAME] */
	gchar *group; /* "bus:NAME" */
	gchar *driver;
	GPtrArray *items; /* the groups [bus:NAME:ITEM] of the bus, in file order */
} KithBusConfig;

typedef struct {
	gchar *path;        /* the main file */
	GKeyFile *keyfile;  /* all files merged */
	GHashTable *origin; /* "group\x1fkey" -> file that set it */

	gchar *state_directory;
	guint history_days;   /* readings kept this long (0: no history) */
	guint history_max_mb; /* and history.db no larger than this */
	guint history_write_minutes; /* readings wait in memory at most this long */
	gchar *admin_group;   /* members may change things through kithctl; "" = root only */

	KithMode mode;
	gchar *server; /* "" = look up Domain (SRV, then the name itself) */
	guint16 port;
	gchar *domain;
	gchar *resource;
	gboolean register_accounts;
	KithTlsMode tls;
	gchar *tls_ca_file;
	gchar *component_domain;
	gchar *component_secret;
	guint max_connecting;       /* sessions negotiating at once */
	guint presence_rate;        /* component mode: presence stanzas per second at most */
	guint request_rate;         /* per requester and device, per second; 0: no limit */
	const gchar *device_domain; /* devices are <id>@device_domain: domain or component_domain */

	KithPolicyKind policy;
	gchar *owner;
	GStrv allow;
	gchar *provisioning; /* "" = find it by service discovery (Policy=parent) */
	guint provisioning_timeout_ms;
	gchar *registry; /* "" = do not register; "discover" = find it */

	GPtrArray *buses; /* KithBusConfig */
} KithConfig;

/* loads FILE, then every *.conf of conf.d beside it in name order; validates the core groups */
KithConfig *kith_config_load (const gchar *path, GError **error);
void kith_config_free (KithConfig *config);
/* the file a key came from, for error messages */
const gchar *kith_config_origin (KithConfig *config, const gchar *group, const gchar *key);
/* prefixes an error with "FILE: [group] Key: " */
void kith_config_prefix_error (KithConfig *config, GError **error, const gchar *group,
                               const gchar *key);
const gchar *kith_policy_kind_to_string (KithPolicyKind kind);

/* a whole number in min..max written in decimal, nothing around it; on failure *why says
 * "not a number" or "out of range MIN..MAX" */
gboolean kith_config_parse_uint (const gchar *text, guint64 min, guint64 max, guint64 *out,
                                 gchar **why);

/* TRUE if text is a plausible bare JID (local@domain or domain) */
gboolean kith_jid_is_valid_bare (const gchar *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithConfig, kith_config_free)

G_END_DECLS
