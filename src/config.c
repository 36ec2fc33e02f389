/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "config.h"

#include <string.h>

#include "kith-error.h"

static void
kith_config_set_str (gchar **target, const gchar *value)
{
	gchar *copy = g_strdup (value);
	g_free (*target);
	*target = copy;
}

typedef struct {
	const gchar *group;
	const gchar *const *keys;
} KithConfigGroup;

static const gchar *const kith_keys_kith[] = {
	"StateDirectory", "HistoryDays", "HistoryMaxMB", "HistoryWriteMinutes", "AdminGroup", NULL,
};
static const gchar *const kith_keys_xmpp[] = {
	"Mode",
	"Server",
	"Port",
	"Domain",
	"Resource",
	"Register",
	"Tls",
	"TlsCaFile",
	"ComponentDomain",
	"ComponentSecret",
	"PresenceRate",
	"MaxConnecting",
	"RequestRate",
	NULL,
};
static const gchar *const kith_keys_friendship[] = {
	"Policy", "Owner", "Allow", "Provisioning", "ProvisioningTimeout", "Registry", NULL,
};

static const KithConfigGroup kith_config_groups[] = {
	{ "kith", kith_keys_kith },
	{ "xmpp", kith_keys_xmpp },
	{ "friendship", kith_keys_friendship },
};

static void
kith_bus_config_free (KithBusConfig *bus)
{
	g_free (bus->name);
	g_free (bus->group);
	g_free (bus->driver);
	g_ptr_array_unref (bus->items);
	g_free (bus);
}

void
kith_config_free (KithConfig *config)
{
	if (config == NULL)
		return;
	g_free (config->path);
	if (config->keyfile != NULL)
		g_key_file_unref (config->keyfile);
	if (config->origin != NULL)
		g_hash_table_unref (config->origin);
	g_free (config->state_directory);
	g_free (config->admin_group);
	g_free (config->server);
	g_free (config->domain);
	g_free (config->resource);
	g_free (config->tls_ca_file);
	g_free (config->component_domain);
	g_free (config->component_secret);
	g_free (config->owner);
	g_strfreev (config->allow);
	g_free (config->provisioning);
	g_free (config->registry);
	if (config->buses != NULL)
		g_ptr_array_unref (config->buses);
	g_free (config);
}

const gchar *
kith_config_origin (KithConfig *config, const gchar *group, const gchar *key)
{
	g_autofree gchar *id = g_strdup_printf ("%s\x1f%s", group, key != NULL ? key : "");
	const gchar *file = g_hash_table_lookup (config->origin, id);
	return file != NULL ? file : config->path;
}

void
kith_config_prefix_error (KithConfig *config, GError **error, const gchar *group, const gchar *key)
{
	if (key != NULL)
		g_prefix_error (error, "%s: [%s] %s: ", kith_config_origin (config, group, key),
		                group, key);
	else
		g_prefix_error (error, "%s: [%s]: ", kith_config_origin (config, group, NULL),
		                group);
}

const gchar *
kith_policy_kind_to_string (KithPolicyKind kind)
{
	switch (kind) {
	case KITH_POLICY_OPEN:
		return "open";
	case KITH_POLICY_ALLOWLIST:
		return "allowlist";
	case KITH_POLICY_MANUAL:
		return "manual";
	case KITH_POLICY_PARENT:
		return "parent";
	}
	return "open";
}

gboolean
kith_jid_is_valid_bare (const gchar *text)
{
	const gchar *at, *domain;

	if (text == NULL || text[0] == '\0' || strlen (text) > 1023)
		return FALSE;
	if (strchr (text, '/') != NULL || !g_utf8_validate (text, -1, NULL))
		return FALSE;
	for (const gchar *p = text; *p != '\0'; p++) {
		if (g_ascii_isspace (*p) || *p == '"' || *p == '<' || *p == '>' || *p == '\'')
			return FALSE;
	}
	at = strchr (text, '@');
	if (at != NULL && (at == text || strchr (at + 1, '@') != NULL))
		return FALSE;
	domain = at != NULL ? at + 1 : text;
	return domain[0] != '\0' && domain[0] != '.';
}

/* merge one file into the combined key file, remembering where each key came from */
static gboolean
kith_config_merge_file (KithConfig *config, const gchar *path, GError **error)
{
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_auto (GStrv) groups = NULL;
	g_autofree gchar *text = NULL;
	gsize length = 0;

	if (!g_file_get_contents (path, &text, &length, error)) {
		g_prefix_error (error, "%s: ", path);
		return FALSE;
	}
	/* editors on other systems put one there; GKeyFile would call the first line garbage */
	if (length >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
		             "%s: the file starts with a UTF-8 byte-order mark (BOM); save it as "
		             "UTF-8 without one",
		             path);
		return FALSE;
	}
	if (!g_utf8_validate (text, (gssize)length, NULL)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "%s: the file is not UTF-8 text",
		             path);
		return FALSE;
	}
	if (!g_key_file_load_from_data (keyfile, text, length, G_KEY_FILE_NONE, error)) {
		g_prefix_error (error, "%s: ", path);
		return FALSE;
	}
	groups = g_key_file_get_groups (keyfile, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		g_auto (GStrv) keys = g_key_file_get_keys (keyfile, groups[i], NULL, NULL);
		g_hash_table_insert (config->origin, g_strdup_printf ("%s\x1f", groups[i]),
		                     g_strdup (path));
		for (guint j = 0; keys != NULL && keys[j] != NULL; j++) {
			g_autofree gchar *value =
			        g_key_file_get_value (keyfile, groups[i], keys[j], NULL);
			g_key_file_set_value (config->keyfile, groups[i], keys[j], value);
			g_hash_table_insert (config->origin,
			                     g_strdup_printf ("%s\x1f%s", groups[i], keys[j]),
			                     g_strdup (path));
		}
	}
	return TRUE;
}

static gint
kith_config_compare_names (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (*(const gchar **)a, *(const gchar **)b);
}

static gboolean
kith_config_merge_dropins (KithConfig *config, GError **error)
{
	g_autofree gchar *base = g_path_get_dirname (config->path);
	g_autofree gchar *dirname = g_build_filename (base, "conf.d", NULL);
	g_autoptr (GDir) dir = g_dir_open (dirname, 0, NULL);
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	const gchar *name;

	if (dir == NULL)
		return TRUE;
	while ((name = g_dir_read_name (dir)) != NULL) {
		if (g_str_has_suffix (name, ".conf"))
			g_ptr_array_add (names, g_build_filename (dirname, name, NULL));
	}
	g_ptr_array_sort (names, kith_config_compare_names);
	for (guint i = 0; i < names->len; i++) {
		if (!kith_config_merge_file (config, g_ptr_array_index (names, i), error))
			return FALSE;
	}
	return TRUE;
}

static gchar *
kith_config_get_string (KithConfig *config, const gchar *group, const gchar *key,
                        const gchar *fallback)
{
	g_autofree gchar *value = g_key_file_get_string (config->keyfile, group, key, NULL);
	if (value == NULL)
		return g_strdup (fallback);
	g_strstrip (value);
	return g_steal_pointer (&value);
}

static gboolean kith_config_fail (KithConfig *config, GError **error, const gchar *group,
                                  const gchar *key, const gchar *format, ...) G_GNUC_PRINTF (5, 6);

static gboolean
kith_config_fail (KithConfig *config, GError **error, const gchar *group, const gchar *key,
                  const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	g_set_error_literal (error, KITH_ERROR, KITH_ERROR_CONFIG, message);
	kith_config_prefix_error (config, error, group, key);
	return FALSE;
}

static gboolean
kith_config_get_bool (KithConfig *config, const gchar *group, const gchar *key, gboolean fallback,
                      gboolean *out, GError **error)
{
	g_autofree gchar *value = kith_config_get_string (config, group, key, NULL);
	if (value == NULL || value[0] == '\0') {
		*out = fallback;
		return TRUE;
	}
	if (g_ascii_strcasecmp (value, "true") == 0 || g_strcmp0 (value, "1") == 0 ||
	    g_ascii_strcasecmp (value, "yes") == 0) {
		*out = TRUE;
		return TRUE;
	}
	if (g_ascii_strcasecmp (value, "false") == 0 || g_strcmp0 (value, "0") == 0 ||
	    g_ascii_strcasecmp (value, "no") == 0) {
		*out = FALSE;
		return TRUE;
	}
	return kith_config_fail (config, error, group, key, "'%s' is not true or false", value);
}

gboolean
kith_config_parse_uint (const gchar *text, guint64 min, guint64 max, guint64 *out, gchar **why)
{
	gboolean digits = text != NULL && text[0] != '\0';

	for (const gchar *p = text; digits && *p != '\0'; p++)
		digits = g_ascii_isdigit (*p);
	if (!digits) {
		/* a sign makes it a number, just not one that fits */
		if (text != NULL && text[0] == '-' && text[1] != '\0' &&
		    strspn (text + 1, "0123456789") == strlen (text + 1))
			*why = g_strdup_printf ("%s is out of range %" G_GUINT64_FORMAT
			                        "..%" G_GUINT64_FORMAT,
			                        text, min, max);
		else
			*why = g_strdup_printf ("'%s' is not a number", text != NULL ? text : "");
		return FALSE;
	}
	if (!g_ascii_string_to_unsigned (text, 10, min, max, out, NULL)) {
		*why = g_strdup_printf ("%s is out of range %" G_GUINT64_FORMAT
		                        "..%" G_GUINT64_FORMAT,
		                        text, min, max);
		return FALSE;
	}
	return TRUE;
}

static gboolean
kith_config_get_uint (KithConfig *config, const gchar *group, const gchar *key, guint fallback,
                      guint min, guint max, guint *out, GError **error)
{
	g_autofree gchar *value = kith_config_get_string (config, group, key, NULL);
	g_autofree gchar *why = NULL;
	guint64 number;

	if (value == NULL || value[0] == '\0') {
		*out = fallback;
		return TRUE;
	}
	if (!kith_config_parse_uint (value, min, max, &number, &why))
		return kith_config_fail (config, error, group, key, "%s", why);
	*out = (guint)number;
	return TRUE;
}

/* picks one of names[]; returns the index through out */
static gboolean
kith_config_get_choice (KithConfig *config, const gchar *group, const gchar *key,
                        const gchar *const *names, guint fallback, guint *out, GError **error)
{
	g_autofree gchar *value = kith_config_get_string (config, group, key, NULL);
	g_autofree gchar *choices = NULL;

	if (value == NULL || value[0] == '\0') {
		*out = fallback;
		return TRUE;
	}
	for (guint i = 0; names[i] != NULL; i++) {
		if (g_ascii_strcasecmp (value, names[i]) == 0) {
			*out = i;
			return TRUE;
		}
	}
	choices = g_strjoinv (", ", (gchar **)names);
	return kith_config_fail (config, error, group, key, "'%s' is not one of %s", value,
	                         choices);
}

static gboolean
kith_config_check_keys (KithConfig *config, const gchar *group, const gchar *const *known,
                        GError **error)
{
	g_auto (GStrv) keys = g_key_file_get_keys (config->keyfile, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains (known, keys[i]))
			return kith_config_fail (config, error, group, keys[i], "unknown key");
	}
	return TRUE;
}

static gboolean
kith_config_is_bus_name (const gchar *name)
{
	if (name[0] == '\0' || strlen (name) > 32)
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
			return FALSE;
	}
	return TRUE;
}

static KithBusConfig *
kith_config_find_bus (KithConfig *config, const gchar *name)
{
	for (guint i = 0; i < config->buses->len; i++) {
		KithBusConfig *bus = g_ptr_array_index (config->buses, i);
		if (g_strcmp0 (bus->name, name) == 0)
			return bus;
	}
	return NULL;
}

/* [bus:NAME:ITEM]: a group of bus NAME's driver (a GPIO line, an explicit MQTT device) */
static gboolean
kith_config_parse_item (KithConfig *config, const gchar *group, GError **error)
{
	const gchar *colon = strchr (group + 4, ':');
	g_autofree gchar *name = g_strndup (group + 4, colon - (group + 4));
	KithBusConfig *bus = kith_config_find_bus (config, name);

	if (!kith_config_is_bus_name (colon + 1))
		return kith_config_fail (config, error, group, NULL,
		                         "item name must be 1-32 characters of a-z, 0-9 and -");
	if (bus == NULL)
		return kith_config_fail (config, error, group, NULL, "there is no [bus:%s]", name);
	g_ptr_array_add (bus->items, g_strdup (group));
	return TRUE;
}

static gboolean
kith_config_parse_groups (KithConfig *config, GError **error)
{
	g_auto (GStrv) groups = g_key_file_get_groups (config->keyfile, NULL);

	for (guint i = 0; groups[i] != NULL; i++) {
		const gchar *group = groups[i];
		gboolean known = FALSE;
		KithBusConfig *bus;

		for (guint j = 0; j < G_N_ELEMENTS (kith_config_groups); j++) {
			if (g_strcmp0 (group, kith_config_groups[j].group) == 0) {
				if (!kith_config_check_keys (config, group,
				                             kith_config_groups[j].keys, error))
					return FALSE;
				known = TRUE;
			}
		}
		if (known)
			continue;
		if (!g_str_has_prefix (group, "bus:"))
			return kith_config_fail (config, error, group, NULL,
			                         "unknown group (expected kith, xmpp, friendship, "
			                         "bus:NAME or bus:NAME:ITEM)");
		if (strchr (group + 4, ':') != NULL)
			continue; /* an item: once every bus is known */
		if (!kith_config_is_bus_name (group + 4))
			return kith_config_fail (config, error, group, NULL,
			                         "bus name must be 1-32 characters of a-z, 0-9 "
			                         "and -");
		bus = g_new0 (KithBusConfig, 1);
		bus->name = g_strdup (group + 4);
		bus->group = g_strdup (group);
		bus->driver = kith_config_get_string (config, group, "Driver", NULL);
		bus->items = g_ptr_array_new_with_free_func (g_free);
		g_ptr_array_add (config->buses, bus);
		if (bus->driver == NULL || bus->driver[0] == '\0')
			return kith_config_fail (config, error, group, "Driver",
			                         "missing: every bus needs a driver");
	}
	for (guint i = 0; groups[i] != NULL; i++) {
		if (g_str_has_prefix (groups[i], "bus:") && strchr (groups[i] + 4, ':') != NULL &&
		    !kith_config_parse_item (config, groups[i], error))
			return FALSE;
	}
	return TRUE;
}

/* servers compare JIDs case-insensitively and send them lowercased (nodeprep, nameprep) */
static void
kith_config_normalize_jid (gchar **jid)
{
	gchar *lower;
	if (!g_utf8_validate (*jid, -1, NULL))
		return;
	lower = g_utf8_strdown (*jid, -1);
	g_free (*jid);
	*jid = lower;
}

static gboolean
kith_config_parse_xmpp (KithConfig *config, GError **error)
{
	static const gchar *const modes[] = { "client", "component", NULL };
	static const gchar *const tls[] = { "required", "optional", "disabled", NULL };
	guint mode, tls_mode, port, max_connecting;

	if (!kith_config_get_choice (config, "xmpp", "Mode", modes, KITH_MODE_CLIENT, &mode, error))
		return FALSE;
	config->mode = mode;
	config->server = kith_config_get_string (config, "xmpp", "Server", "");
	if (!kith_config_get_uint (config, "xmpp", "Port",
	                           config->mode == KITH_MODE_COMPONENT ? 5347 : 5222, 1, 65535,
	                           &port, error))
		return FALSE;
	config->port = (guint16)port;
	config->component_domain = kith_config_get_string (config, "xmpp", "ComponentDomain", "");
	kith_config_normalize_jid (&config->component_domain);
	config->component_secret = kith_config_get_string (config, "xmpp", "ComponentSecret", "");
	config->domain = kith_config_get_string (config, "xmpp", "Domain", "");
	kith_config_normalize_jid (&config->domain);
	if (config->mode == KITH_MODE_COMPONENT) {
		const gchar *dot = strchr (config->component_domain, '.');
		if (config->component_domain[0] == '\0' ||
		    !kith_jid_is_valid_bare (config->component_domain) ||
		    strchr (config->component_domain, '@') != NULL)
			return kith_config_fail (
			        config, error, "xmpp", "ComponentDomain",
			        "component mode needs the component's domain, e.g. "
			        "ComponentDomain=devices.example.net");
		if (config->component_secret[0] == '\0')
			return kith_config_fail (
			        config, error, "xmpp", "ComponentSecret",
			        "component mode needs the secret the server has for "
			        "%s",
			        config->component_domain);
		/* the server's own domain (service discovery): by default the component's parent */
		if (config->domain[0] == '\0' && dot != NULL && dot[1] != '\0') {
			g_free (config->domain);
			config->domain = g_strdup (dot + 1);
		}
	}
	if (config->domain[0] == '\0' || !kith_jid_is_valid_bare (config->domain) ||
	    strchr (config->domain, '@') != NULL)
		return kith_config_fail (config, error, "xmpp", "Domain",
		                         "a domain name is required, e.g. Domain=example.net");
	config->device_domain =
	        config->mode == KITH_MODE_COMPONENT ? config->component_domain : config->domain;
	config->resource = kith_config_get_string (config, "xmpp", "Resource", "kith");
	if (config->resource[0] == '\0' || strchr (config->resource, '/') != NULL)
		return kith_config_fail (config, error, "xmpp", "Resource",
		                         "must be a non-empty name");
	if (!kith_config_get_bool (config, "xmpp", "Register", FALSE, &config->register_accounts,
	                           error))
		return FALSE;
	if (!kith_config_get_choice (config, "xmpp", "Tls", tls, KITH_TLS_REQUIRED, &tls_mode,
	                             error))
		return FALSE;
	config->tls = tls_mode;
	config->tls_ca_file = kith_config_get_string (config, "xmpp", "TlsCaFile", "");
	if (config->tls_ca_file[0] != '\0' &&
	    !g_file_test (config->tls_ca_file, G_FILE_TEST_IS_REGULAR))
		return kith_config_fail (config, error, "xmpp", "TlsCaFile",
		                         "'%s' is not a readable file", config->tls_ca_file);
	if (!kith_config_get_uint (config, "xmpp", "PresenceRate", 2000, 10, 1000000,
	                           &config->presence_rate, error))
		return FALSE;
	if (!kith_config_get_uint (config, "xmpp", "MaxConnecting", 8, 1, 1000, &max_connecting,
	                           error))
		return FALSE;
	config->max_connecting = max_connecting;
	if (!kith_config_get_uint (config, "xmpp", "RequestRate", 20, 0, 1000000,
	                           &config->request_rate, error))
		return FALSE;
	return TRUE;
}

static gboolean
kith_config_parse_friendship (KithConfig *config, GError **error)
{
	static const gchar *const policies[] = { "open", "allowlist", "manual", "parent", NULL };
	guint policy, timeout;

	if (!kith_config_get_choice (config, "friendship", "Policy", policies, KITH_POLICY_OPEN,
	                             &policy, error))
		return FALSE;
	config->policy = policy;
	config->owner = kith_config_get_string (config, "friendship", "Owner", "");
	kith_config_normalize_jid (&config->owner);
	if (config->owner[0] != '\0' && !kith_jid_is_valid_bare (config->owner))
		return kith_config_fail (config, error, "friendship", "Owner",
		                         "'%s' is not a bare JID", config->owner);
	config->allow =
	        g_key_file_get_string_list (config->keyfile, "friendship", "Allow", NULL, NULL);
	if (config->allow == NULL)
		config->allow = g_new0 (gchar *, 1);
	for (guint i = 0; config->allow[i] != NULL; i++) {
		g_strstrip (config->allow[i]);
		kith_config_normalize_jid (&config->allow[i]);
		if (config->allow[i][0] != '\0' && !kith_jid_is_valid_bare (config->allow[i]))
			return kith_config_fail (config, error, "friendship", "Allow",
			                         "'%s' is not a bare JID", config->allow[i]);
	}
	config->provisioning = kith_config_get_string (config, "friendship", "Provisioning", "");
	kith_config_normalize_jid (&config->provisioning);
	if (config->provisioning[0] != '\0' && !kith_jid_is_valid_bare (config->provisioning))
		return kith_config_fail (config, error, "friendship", "Provisioning",
		                         "'%s' is not a bare JID", config->provisioning);
	if (!kith_config_get_uint (config, "friendship", "ProvisioningTimeout", 10, 1, 300,
	                           &timeout, error))
		return FALSE;
	config->provisioning_timeout_ms = timeout * 1000;
	config->registry = kith_config_get_string (config, "friendship", "Registry", "");
	kith_config_normalize_jid (&config->registry);
	if (config->registry[0] != '\0' && g_strcmp0 (config->registry, "discover") != 0 &&
	    !kith_jid_is_valid_bare (config->registry))
		return kith_config_fail (config, error, "friendship", "Registry",
		                         "'%s' is neither a bare JID nor 'discover'",
		                         config->registry);
	return TRUE;
}

KithConfig *
kith_config_load (const gchar *path, GError **error)
{
	g_autoptr (KithConfig) config = g_new0 (KithConfig, 1);

	config->path = g_strdup (path);
	config->keyfile = g_key_file_new ();
	config->origin = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	config->buses = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_bus_config_free);
	if (!kith_config_merge_file (config, path, error))
		return NULL;
	if (!kith_config_merge_dropins (config, error))
		return NULL;
	if (!kith_config_parse_groups (config, error))
		return NULL;
	config->state_directory =
	        kith_config_get_string (config, "kith", "StateDirectory", "/var/lib/kith");
	if (g_getenv ("STATE_DIRECTORY") != NULL && g_getenv ("STATE_DIRECTORY")[0] != '\0') {
		/* systemd may pass several colon-separated directories: use the first */
		g_auto (GStrv) dirs = g_strsplit (g_getenv ("STATE_DIRECTORY"), ":", 2);
		kith_config_set_str (&config->state_directory, dirs[0]);
	}
	/* the readings kept on disk (history.db): 30 days, at most 64 MB */
	if (!kith_config_get_uint (config, "kith", "HistoryDays", 30, 0, 3650,
	                           &config->history_days, error) ||
	    !kith_config_get_uint (config, "kith", "HistoryMaxMB", 64, 1, 1000000,
	                           &config->history_max_mb, error) ||
	    !kith_config_get_uint (config, "kith", "HistoryWriteMinutes", 5, 1, 60,
	                           &config->history_write_minutes, error))
		return NULL;
	config->admin_group = kith_config_get_string (config, "kith", "AdminGroup", "");
	if (!kith_config_parse_xmpp (config, error))
		return NULL;
	if (!kith_config_parse_friendship (config, error))
		return NULL;
	return g_steal_pointer (&config);
}
