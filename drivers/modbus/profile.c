/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "profile.h"

#include <math.h>
#include <stdlib.h>

#include "keys.h"
#include "kith-build.h"
#include "kith-error.h"

static const gchar *const kith_modbus_table_names[] = { "coil", "discrete", "input", "holding" };

static const struct {
	const gchar *name;
	KithModbusType type;
	guint count;
} kith_modbus_types[] = {
	{ "bit", KITH_MODBUS_TYPE_BIT, 1 }, { "u16", KITH_MODBUS_TYPE_U16, 1 },
	{ "s16", KITH_MODBUS_TYPE_S16, 1 }, { "u32", KITH_MODBUS_TYPE_U32, 2 },
	{ "s32", KITH_MODBUS_TYPE_S32, 2 }, { "u64", KITH_MODBUS_TYPE_U64, 4 },
	{ "s64", KITH_MODBUS_TYPE_S64, 4 }, { "f32", KITH_MODBUS_TYPE_F32, 2 },
	{ "f64", KITH_MODBUS_TYPE_F64, 4 }, { "string", KITH_MODBUS_TYPE_STRING, 0 },
};

static const gchar *const kith_modbus_profile_keys[] = {
	"Manufacturer",  "Model",        "Class",           "MatchVendor", "MatchProduct",
	"MatchServerId", "MaxRegisters", "MaxBits",         "MaxGap",      "OneRequestPerField",
	"WriteMultiple", "RequestPause", "UnitSwitchDelay", NULL,
};

static const gchar *const kith_modbus_field_keys[] = {
	"Table",    "Address", "Type", "WordOrder", "ByteOrder", "Scale",    "Offset",   "Unit",
	"Writable", "Min",     "Max",  "Deadband",  "Decimals",  "Presence", "Interval", NULL,
};

const gchar *
kith_modbus_table_to_string (KithModbusTable table)
{
	return kith_modbus_table_names[table];
}

gboolean
kith_modbus_table_from_string (const gchar *text, KithModbusTable *out)
{
	for (guint i = 0; i < G_N_ELEMENTS (kith_modbus_table_names); i++) {
		if (g_ascii_strcasecmp (text, kith_modbus_table_names[i]) == 0) {
			*out = (KithModbusTable)i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
kith_modbus_table_is_bits (KithModbusTable table)
{
	return table == KITH_MODBUS_TABLE_COIL || table == KITH_MODBUS_TABLE_DISCRETE;
}

gboolean
kith_modbus_type_from_string (const gchar *text, KithModbusType *type, guint *count)
{
	if (g_str_has_prefix (text, "string:")) {
		guint64 registers;
		if (!g_ascii_string_to_unsigned (text + 7, 10, 1, 125, &registers, NULL))
			return FALSE;
		*type = KITH_MODBUS_TYPE_STRING;
		*count = (guint)registers;
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS (kith_modbus_types); i++) {
		if (kith_modbus_types[i].count > 0 &&
		    g_ascii_strcasecmp (text, kith_modbus_types[i].name) == 0) {
			*type = kith_modbus_types[i].type;
			*count = kith_modbus_types[i].count;
			return TRUE;
		}
	}
	return FALSE;
}

const gchar *
kith_modbus_type_to_string (KithModbusType type)
{
	for (guint i = 0; i < G_N_ELEMENTS (kith_modbus_types); i++)
		if (kith_modbus_types[i].type == type)
			return kith_modbus_types[i].name;
	return "?";
}

void
kith_modbus_quirks_init (KithModbusQuirks *quirks)
{
	quirks->max_registers = 0;
	quirks->max_bits = 0;
	quirks->max_gap = -1;
	quirks->one_per_field = -1;
	quirks->write_multiple = -1;
	quirks->request_pause = -1;
	quirks->switch_delay = -1;
}

static gint
kith_modbus_min_set (gint a, gint b, gint unset)
{
	if (a == unset)
		return b;
	if (b == unset)
		return a;
	return MIN (a, b);
}

void
kith_modbus_quirks_merge (KithModbusQuirks *out, const KithModbusQuirks *a,
                          const KithModbusQuirks *b)
{
	KithModbusQuirks merged;
	merged.max_registers = kith_modbus_min_set (a->max_registers, b->max_registers, 0);
	merged.max_bits = kith_modbus_min_set (a->max_bits, b->max_bits, 0);
	merged.max_gap = kith_modbus_min_set (a->max_gap, b->max_gap, -1);
	merged.one_per_field = MAX (a->one_per_field, b->one_per_field);
	merged.write_multiple = MAX (a->write_multiple, b->write_multiple);
	merged.request_pause = MAX (a->request_pause, b->request_pause);
	merged.switch_delay = MAX (a->switch_delay, b->switch_delay);
	*out = merged;
}

gboolean
kith_modbus_quirks_load (KithModbusQuirks *quirks, GKeyFile *keyfile, const gchar *group,
                         GError **error)
{
	guint64 value;

	value = 0;
	if (!kith_modbus_key_get_unsigned (keyfile, group, "MaxRegisters", 125, &value, error))
		return FALSE;
	if (g_key_file_has_key (keyfile, group, "MaxRegisters", NULL)) {
		if (value == 0)
			return kith_modbus_key_fail (error, group, "MaxRegisters",
			                             "must be 1..125");
		quirks->max_registers = (gint)value;
	}
	value = 0;
	if (!kith_modbus_key_get_unsigned (keyfile, group, "MaxBits", 2000, &value, error))
		return FALSE;
	if (g_key_file_has_key (keyfile, group, "MaxBits", NULL)) {
		if (value == 0)
			return kith_modbus_key_fail (error, group, "MaxBits", "must be 1..2000");
		quirks->max_bits = (gint)value;
	}
	if (g_key_file_has_key (keyfile, group, "MaxGap", NULL)) {
		if (!kith_modbus_key_get_unsigned (keyfile, group, "MaxGap", 124, &value, error))
			return FALSE;
		quirks->max_gap = (gint)value;
	}
	if (!kith_modbus_key_get_bool (keyfile, group, "OneRequestPerField", &quirks->one_per_field,
	                               error) ||
	    !kith_modbus_key_get_bool (keyfile, group, "WriteMultiple", &quirks->write_multiple,
	                               error) ||
	    !kith_modbus_key_get_seconds (keyfile, group, "RequestPause", 0, 60,
	                                  &quirks->request_pause, error) ||
	    !kith_modbus_key_get_seconds (keyfile, group, "UnitSwitchDelay", 0, 60,
	                                  &quirks->switch_delay, error))
		return FALSE;
	return TRUE;
}

static void
kith_modbus_field_free (KithModbusField *field)
{
	g_free (field->name);
	g_free (field->unit);
	g_free (field);
}

static void
kith_modbus_profile_free (KithModbusProfile *profile)
{
	g_free (profile->name);
	g_free (profile->path);
	g_free (profile->manufacturer);
	g_free (profile->model);
	g_free (profile->class_name);
	g_free (profile->match_vendor);
	g_free (profile->match_product);
	g_free (profile->match_server_id);
	g_ptr_array_unref (profile->fields);
}

KithModbusProfile *
kith_modbus_profile_ref (KithModbusProfile *profile)
{
	return g_rc_box_acquire (profile);
}

void
kith_modbus_profile_unref (KithModbusProfile *profile)
{
	g_rc_box_release_full (profile, (GDestroyNotify)kith_modbus_profile_free);
}

static gboolean
kith_modbus_check_keys (GKeyFile *keyfile, const gchar *group, const gchar *const *known,
                        GError **error)
{
	g_auto (GStrv) keys = g_key_file_get_keys (keyfile, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
		if (!g_strv_contains (known, keys[i]))
			return kith_modbus_key_fail (error, group, keys[i], "unknown key");
	return TRUE;
}

/* decimals that show a value of this scale without losing a digit (0.1 → 1, 0.25 → 2) */
static gint
kith_modbus_scale_decimals (gdouble scale)
{
	for (gint decimals = 0; decimals < 6; decimals++) {
		gdouble shifted = fabs (scale) * pow (10, decimals);
		if (fabs (shifted - round (shifted)) < 1e-9 * MAX (1.0, shifted))
			return decimals;
	}
	return 6;
}

static gboolean
kith_modbus_field_load_where (KithModbusField *field, GKeyFile *keyfile, const gchar *group,
                              GError **error)
{
	g_autofree gchar *table = g_key_file_get_value (keyfile, group, "Table", NULL);
	g_autofree gchar *type = g_key_file_get_value (keyfile, group, "Type", NULL);
	guint64 address = G_MAXUINT64;

	if (table == NULL)
		return kith_modbus_key_fail (error, group, "Table",
		                             "missing (coil, discrete, input or holding)");
	if (!kith_modbus_table_from_string (g_strstrip (table), &field->table))
		return kith_modbus_key_fail (
		        error, group, "Table",
		        "unknown table '%s' (coil, discrete, input or holding)", table);
	if (!kith_modbus_key_get_unsigned (keyfile, group, "Address", 65535, &address, error))
		return FALSE;
	if (address == G_MAXUINT64)
		return kith_modbus_key_fail (error, group, "Address", "missing");
	field->address = (guint16)address;
	if (type == NULL) {
		field->type = kith_modbus_table_is_bits (field->table) ? KITH_MODBUS_TYPE_BIT
		                                                       : KITH_MODBUS_TYPE_U16;
		field->count = 1;
	} else if (g_strcmp0 (g_strstrip (type), "bit") == 0) {
		field->type = KITH_MODBUS_TYPE_BIT;
		field->count = 1;
	} else if (!kith_modbus_type_from_string (type, &field->type, &field->count)) {
		return kith_modbus_key_fail (
		        error, group, "Type",
		        "unknown type '%s' (bit u16 s16 u32 s32 u64 s64 f32 f64 "
		        "string:<1-125 registers>)",
		        type);
	}
	if (kith_modbus_table_is_bits (field->table) != (field->type == KITH_MODBUS_TYPE_BIT))
		return kith_modbus_key_fail (
		        error, group, "Type", "%s fits %s tables only (Table=%s)",
		        kith_modbus_type_to_string (field->type),
		        field->type == KITH_MODBUS_TYPE_BIT ? "coil and discrete"
		                                            : "input and holding",
		        kith_modbus_table_to_string (field->table));
	if (field->address + field->count > 65536)
		return kith_modbus_key_fail (error, group, "Address",
		                             "%u registers from %u run past 65535", field->count,
		                             field->address);
	return TRUE;
}

static gboolean
kith_modbus_field_load_order (KithModbusField *field, GKeyFile *keyfile, const gchar *group,
                              const gchar *key, gboolean *little, GError **error)
{
	g_autofree gchar *order = g_key_file_get_value (keyfile, group, key, NULL);

	if (order == NULL)
		return TRUE;
	g_strstrip (order);
	if (g_ascii_strcasecmp (order, "big") != 0 && g_ascii_strcasecmp (order, "little") != 0)
		return kith_modbus_key_fail (error, group, key, "'%s' is not big or little", order);
	*little = g_ascii_strcasecmp (order, "little") == 0;
	return TRUE;
}

static gboolean
kith_modbus_field_load_control (KithModbusField *field, GKeyFile *keyfile, const gchar *group,
                                GError **error)
{
	gint writable = 0;

	if (!kith_modbus_key_get_bool (keyfile, group, "Writable", &writable, error))
		return FALSE;
	field->writable = writable;
	if (field->writable && field->table != KITH_MODBUS_TABLE_COIL &&
	    field->table != KITH_MODBUS_TABLE_HOLDING)
		return kith_modbus_key_fail (error, group, "Writable",
		                             "only coils and holding registers are writable");
	if (field->writable && field->type == KITH_MODBUS_TYPE_STRING)
		return kith_modbus_key_fail (error, group, "Writable", "strings are read-only");
	if (!kith_modbus_key_get_double (keyfile, group, "Min", &field->min, error) ||
	    !kith_modbus_key_get_double (keyfile, group, "Max", &field->max, error))
		return FALSE;
	if (g_key_file_has_key (keyfile, group, "Min", NULL) !=
	    g_key_file_has_key (keyfile, group, "Max", NULL))
		return kith_modbus_key_fail (
		        error, group,
		        g_key_file_has_key (keyfile, group, "Min", NULL) ? "Max" : "Min",
		        "missing: Min and Max go together");
	if (g_key_file_has_key (keyfile, group, "Min", NULL) && field->min > field->max)
		return kith_modbus_key_fail (error, group, "Min", "%g is above Max=%g", field->min,
		                             field->max);
	return TRUE;
}

static gboolean
kith_modbus_field_load_value (KithModbusField *field, GKeyFile *keyfile, const gchar *group,
                              GError **error)
{
	guint64 decimals = G_MAXUINT64;
	gint presence = 0;

	if (!kith_modbus_field_load_order (field, keyfile, group, "WordOrder", &field->word_little,
	                                   error) ||
	    !kith_modbus_field_load_order (field, keyfile, group, "ByteOrder", &field->byte_little,
	                                   error) ||
	    !kith_modbus_key_get_double (keyfile, group, "Scale", &field->scale, error) ||
	    !kith_modbus_key_get_double (keyfile, group, "Offset", &field->offset, error) ||
	    !kith_modbus_key_get_double (keyfile, group, "Deadband", &field->deadband, error) ||
	    !kith_modbus_key_get_double (keyfile, group, "Interval", &field->interval, error) ||
	    !kith_modbus_key_get_unsigned (keyfile, group, "Decimals", 9, &decimals, error) ||
	    !kith_modbus_key_get_bool (keyfile, group, "Presence", &presence, error))
		return FALSE;
	if (field->scale == 0)
		return kith_modbus_key_fail (error, group, "Scale", "must not be 0");
	if ((field->scale != 1 || field->offset != 0) &&
	    (field->type == KITH_MODBUS_TYPE_BIT || field->type == KITH_MODBUS_TYPE_STRING))
		return kith_modbus_key_fail (error, group, field->scale != 1 ? "Scale" : "Offset",
		                             "does not apply to type %s",
		                             kith_modbus_type_to_string (field->type));
	if (field->deadband < 0)
		return kith_modbus_key_fail (error, group, "Deadband", "must not be negative");
	if (g_key_file_has_key (keyfile, group, "Interval", NULL) &&
	    (field->interval < 0.05 || field->interval > 86400))
		return kith_modbus_key_fail (error, group, "Interval",
		                             "%g is out of range 0.05..86400 seconds",
		                             field->interval);
	field->presence = presence;
	if (decimals != G_MAXUINT64)
		field->decimals = (gint)decimals;
	else if (field->type == KITH_MODBUS_TYPE_F32 || field->type == KITH_MODBUS_TYPE_F64)
		field->decimals = 2;
	else
		field->decimals = kith_modbus_scale_decimals (field->scale);
	return TRUE;
}

static KithModbusField *
kith_modbus_field_load (GKeyFile *keyfile, const gchar *group, GError **error)
{
	g_autoptr (GError) error_local = NULL;
	KithModbusField *field = g_new0 (KithModbusField, 1);

	field->name = g_strdup (group + strlen ("field:"));
	field->scale = 1;
	field->min = 1;
	field->max = 0;
	field->unit = g_key_file_get_string (keyfile, group, "Unit", NULL);
	if (field->unit == NULL)
		field->unit = g_strdup ("");
	if (field->name[0] == '\0' || !g_utf8_validate (field->name, -1, NULL)) {
		kith_modbus_key_fail (error, group, NULL, "a field needs a name: [field:NAME]");
		kith_modbus_field_free (field);
		return NULL;
	}
	if (!kith_modbus_check_keys (keyfile, group, kith_modbus_field_keys, error) ||
	    !kith_modbus_field_load_where (field, keyfile, group, error) ||
	    !kith_modbus_field_load_control (field, keyfile, group, error) ||
	    !kith_modbus_field_load_value (field, keyfile, group, error)) {
		kith_modbus_field_free (field);
		return NULL;
	}
	return field;
}

static gboolean
kith_modbus_profile_load_header (KithModbusProfile *profile, GKeyFile *keyfile, GError **error)
{
	const gchar *group = "profile";

	if (!g_key_file_has_group (keyfile, group))
		return kith_modbus_key_fail (
		        error, group, NULL,
		        "missing (Manufacturer, Model and Class of the device)");
	if (!kith_modbus_check_keys (keyfile, group, kith_modbus_profile_keys, error))
		return FALSE;
	profile->manufacturer = g_key_file_get_string (keyfile, group, "Manufacturer", NULL);
	profile->model = g_key_file_get_string (keyfile, group, "Model", NULL);
	profile->class_name = g_key_file_get_string (keyfile, group, "Class", NULL);
	profile->match_vendor = g_key_file_get_string (keyfile, group, "MatchVendor", NULL);
	profile->match_product = g_key_file_get_string (keyfile, group, "MatchProduct", NULL);
	profile->match_server_id = g_key_file_get_string (keyfile, group, "MatchServerId", NULL);
	if (profile->model == NULL || profile->model[0] == '\0')
		return kith_modbus_key_fail (error, group, "Model", "missing");
	if (profile->manufacturer == NULL)
		profile->manufacturer = g_strdup ("");
	if (profile->class_name == NULL)
		profile->class_name = g_strdup ("");
	if (profile->match_product != NULL && profile->match_vendor == NULL)
		return kith_modbus_key_fail (error, group, "MatchVendor",
		                             "missing: MatchProduct needs it");
	kith_modbus_quirks_init (&profile->quirks);
	return kith_modbus_quirks_load (&profile->quirks, keyfile, group, error);
}

KithModbusProfile *
kith_modbus_profile_load_data (const gchar *name, const gchar *path, const gchar *data,
                               GError **error)
{
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (KithModbusProfile) profile = g_rc_box_new0 (KithModbusProfile);
	g_auto (GStrv) groups = NULL;

	profile->name = g_strdup (name);
	profile->path = g_strdup (path);
	profile->fields = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_modbus_field_free);
	if (!g_key_file_load_from_data (keyfile, data, (gsize)-1, G_KEY_FILE_NONE, error) ||
	    !kith_modbus_profile_load_header (profile, keyfile, error)) {
		g_prefix_error (error, "%s: ", path);
		return NULL;
	}
	groups = g_key_file_get_groups (keyfile, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		KithModbusField *field;
		if (g_strcmp0 (groups[i], "profile") == 0)
			continue;
		if (!g_str_has_prefix (groups[i], "field:")) {
			kith_modbus_key_fail (error, groups[i], NULL,
			                      "unknown group ([profile] or [field:NAME])");
			g_prefix_error (error, "%s: ", path);
			return NULL;
		}
		field = kith_modbus_field_load (keyfile, groups[i], error);
		if (field == NULL) {
			g_prefix_error (error, "%s: ", path);
			return NULL;
		}
		g_ptr_array_add (profile->fields, field);
	}
	if (profile->fields->len == 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "%s: no [field:NAME] group",
		             path);
		return NULL;
	}
	return g_steal_pointer (&profile);
}

gboolean
kith_modbus_profile_name_is_valid (const gchar *name)
{
	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++)
		if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	return TRUE;
}

KithModbusProfile *
kith_modbus_profile_load_file (const gchar *path, GError **error)
{
	g_autofree gchar *data = NULL;
	g_autofree gchar *base = g_path_get_basename (path);

	if (!g_file_get_contents (path, &data, NULL, error))
		return NULL;
	if (g_str_has_suffix (base, ".conf"))
		base[strlen (base) - 5] = '\0';
	return kith_modbus_profile_load_data (base, path, data, error);
}

KithModbusProfile *
kith_modbus_profile_find (const gchar *const *dirs, const gchar *name, GError **error)
{
	g_autoptr (GString) searched = g_string_new (NULL);
	g_autofree gchar *file = g_strconcat (name, ".conf", NULL);

	if (!kith_modbus_profile_name_is_valid (name)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
		             "'%s' is not a profile name (letters, digits, '-', '_', '.')", name);
		return NULL;
	}
	for (guint i = 0; dirs[i] != NULL; i++) {
		g_autofree gchar *path = g_build_filename (dirs[i], file, NULL);
		if (g_file_test (path, G_FILE_TEST_EXISTS))
			return kith_modbus_profile_load_file (path, error);
		g_string_append_printf (searched, "%s%s", i > 0 ? ", " : "", dirs[i]);
	}
	g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND, "no profile %s (looked in %s)", name,
	             searched->str);
	return NULL;
}

static gint
kith_modbus_profile_compare (gconstpointer a, gconstpointer b)
{
	const KithModbusProfile *pa = *(KithModbusProfile *const *)a;
	const KithModbusProfile *pb = *(KithModbusProfile *const *)b;
	return g_strcmp0 (pa->name, pb->name);
}

GPtrArray *
kith_modbus_profile_list (const gchar *const *dirs, GPtrArray *errors)
{
	GPtrArray *profiles =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_modbus_profile_unref);
	g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; dirs[i] != NULL; i++) {
		g_autoptr (GDir) dir = g_dir_open (dirs[i], 0, NULL);
		const gchar *entry;
		while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL) {
			g_autofree gchar *path = NULL;
			g_autoptr (GError) error = NULL;
			KithModbusProfile *profile;
			if (!g_str_has_suffix (entry, ".conf") || entry[0] == '.' ||
			    g_hash_table_contains (seen, entry))
				continue;
			g_hash_table_add (seen, g_strdup (entry));
			path = g_build_filename (dirs[i], entry, NULL);
			profile = kith_modbus_profile_load_file (path, &error);
			if (profile != NULL)
				g_ptr_array_add (profiles, profile);
			else if (errors != NULL)
				g_ptr_array_add (errors, g_strdup (error->message));
		}
	}
	g_ptr_array_sort (profiles, kith_modbus_profile_compare);
	return profiles;
}

gchar *
kith_modbus_profile_shipped_dir (void)
{
	const gchar *env = g_getenv ("KITH_MODBUS_PROFILE_DIR");

	if (env != NULL && env[0] != '\0')
		return g_strdup (env);
	if (g_file_test (KITH_MODBUS_PROFILE_DIR, G_FILE_TEST_IS_DIR))
		return g_strdup (KITH_MODBUS_PROFILE_DIR);
	return g_strdup (KITH_MODBUS_SOURCE_PROFILE_DIR);
}

const KithModbusField *
kith_modbus_profile_find_field (const KithModbusProfile *profile, const gchar *name)
{
	for (guint i = 0; i < profile->fields->len; i++) {
		const KithModbusField *field = g_ptr_array_index (profile->fields, i);
		if (g_strcmp0 (field->name, name) == 0)
			return field;
	}
	return NULL;
}
