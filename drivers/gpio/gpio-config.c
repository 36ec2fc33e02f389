/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "gpio-config.h"

#include <string.h>

#include "kith-error.h"

const gchar *const kith_gpio_bus_keys[] = { "Driver", "Chip", NULL };
const gchar *const kith_gpio_item_keys[] = {
	"Label",  "Chip",      "Line",         "Lines",     "Field",
	"Fields", "Direction", "Bias",         "ActiveLow", "Debounce",
	"Mode",   "CountEdge", "RateInterval", "Initial",   NULL,
};

void
kith_gpio_item_config_free (KithGpioItemConfig *config)
{
	if (config == NULL)
		return;
	g_free (config->item);
	g_free (config->group);
	g_free (config->label);
	g_free (config->chip);
	g_strfreev (config->lines);
	g_strfreev (config->fields);
	g_free (config);
}

gboolean
kith_gpio_line_is_offset (const gchar *text, guint *offset)
{
	guint64 value;
	if (text[0] == '\0' || strspn (text, "0123456789") != strlen (text))
		return FALSE;
	if (!g_ascii_string_to_unsigned (text, 10, 0, 1023, &value, NULL))
		return FALSE;
	if (offset != NULL)
		*offset = (guint)value;
	return TRUE;
}

static gboolean kith_gpio_fail (GError **error, const gchar *group, const gchar *key,
                                const gchar *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
kith_gpio_fail (GError **error, const gchar *group, const gchar *key, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	if (key != NULL)
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] %s: %s", group, key,
		             message);
	else
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] %s", group, message);
	return FALSE;
}

/* a string key, trimmed; NULL if absent or empty */
static gchar *
kith_gpio_get_string (GKeyFile *keyfile, const gchar *group, const gchar *key)
{
	g_autofree gchar *value = g_key_file_get_string (keyfile, group, key, NULL);
	if (value == NULL || g_strstrip (value)[0] == '\0')
		return NULL;
	return g_steal_pointer (&value);
}

static gboolean
kith_gpio_get_choice (GKeyFile *keyfile, const gchar *group, const gchar *key,
                      const gchar *const *choices, guint fallback, guint *out, GError **error)
{
	g_autofree gchar *value = kith_gpio_get_string (keyfile, group, key);
	g_autofree gchar *known = NULL;

	*out = fallback;
	if (value == NULL)
		return TRUE;
	for (guint i = 0; choices[i] != NULL; i++) {
		if (g_ascii_strcasecmp (value, choices[i]) == 0) {
			*out = i;
			return TRUE;
		}
	}
	known = g_strjoinv (", ", (gchar **)choices);
	return kith_gpio_fail (error, group, key, "'%s' is not one of %s", value, known);
}

static gboolean
kith_gpio_get_bool (GKeyFile *keyfile, const gchar *group, const gchar *key, gboolean *out,
                    GError **error)
{
	g_autofree gchar *value = kith_gpio_get_string (keyfile, group, key);
	if (value == NULL)
		return TRUE;
	if (g_ascii_strcasecmp (value, "true") == 0 || g_strcmp0 (value, "1") == 0) {
		*out = TRUE;
	} else if (g_ascii_strcasecmp (value, "false") == 0 || g_strcmp0 (value, "0") == 0) {
		*out = FALSE;
	} else {
		return kith_gpio_fail (error, group, key, "'%s' is not true or false", value);
	}
	return TRUE;
}

static gboolean
kith_gpio_get_uint (GKeyFile *keyfile, const gchar *group, const gchar *key, guint min, guint max,
                    guint *out, GError **error)
{
	g_autofree gchar *value = kith_gpio_get_string (keyfile, group, key);
	guint64 number;
	if (value == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned (value, 10, min, max, &number, NULL))
		return kith_gpio_fail (error, group, key, "'%s' is not a number in %u..%u", value,
		                       min, max);
	*out = (guint)number;
	return TRUE;
}

/* a ;-list, trimmed; NULL on an empty entry */
static GStrv
kith_gpio_get_list (GKeyFile *keyfile, const gchar *group, const gchar *key, GError **error)
{
	g_autofree gchar *value = kith_gpio_get_string (keyfile, group, key);
	g_auto (GStrv) list = NULL;

	if (value == NULL)
		return NULL;
	list = g_strsplit (value, ";", -1);
	for (guint i = 0; list[i] != NULL; i++) {
		g_strstrip (list[i]);
		/* a trailing ';' is GKeyFile style: drop that one empty entry */
		if (list[i][0] == '\0' && list[i + 1] == NULL && i > 0) {
			g_free (list[i]);
			list[i] = NULL;
			break;
		}
		if (list[i][0] == '\0') {
			kith_gpio_fail (error, group, key, "an empty entry");
			return NULL;
		}
	}
	return g_steal_pointer (&list);
}

static gboolean
kith_gpio_parse_lines (KithGpioItemConfig *config, GKeyFile *keyfile, GError **error)
{
	const gchar *group = config->group;
	gboolean has_line = g_key_file_has_key (keyfile, group, "Line", NULL);
	gboolean has_lines = g_key_file_has_key (keyfile, group, "Lines", NULL);
	g_autofree gchar *line = NULL;
	GError *error_local = NULL;

	if (has_line && has_lines)
		return kith_gpio_fail (error, group, NULL,
		                       "Line= and Lines= together: one line or a group");
	if (has_line) {
		line = kith_gpio_get_string (keyfile, group, "Line");
		if (line == NULL)
			return kith_gpio_fail (error, group, "Line", "empty");
		config->lines = g_new0 (gchar *, 2);
		config->lines[0] = g_steal_pointer (&line);
	} else if (has_lines) {
		config->lines = kith_gpio_get_list (keyfile, group, "Lines", &error_local);
		if (error_local != NULL) {
			g_propagate_error (error, error_local);
			return FALSE;
		}
		if (config->lines == NULL)
			return kith_gpio_fail (error, group, "Lines", "empty");
		if (g_strv_length (config->lines) > 64)
			return kith_gpio_fail (error, group, "Lines", "more than 64 lines");
	} else {
		return kith_gpio_fail (error, group, "Line",
		                       "missing (a line name such as GPIO17, or an offset)");
	}
	for (guint i = 0; config->lines[i] != NULL; i++) {
		if (config->chip == NULL && kith_gpio_line_is_offset (config->lines[i], NULL))
			return kith_gpio_fail (error, group, has_line ? "Line" : "Lines",
			                       "%s is a line offset: it needs Chip= (here or in "
			                       "the bus's group), or give the line's name",
			                       config->lines[i]);
		for (guint j = 0; j < i; j++) {
			if (g_strcmp0 (config->lines[i], config->lines[j]) == 0)
				return kith_gpio_fail (error, group, "Lines", "%s is listed twice",
				                       config->lines[i]);
		}
	}
	return TRUE;
}

/* the field names: Field=/Fields=, else State/Output for one line, the lines for a group */
static gboolean
kith_gpio_parse_fields (KithGpioItemConfig *config, GKeyFile *keyfile, GError **error)
{
	const gchar *group = config->group;
	guint n = g_strv_length (config->lines);
	GError *error_local = NULL;

	if (n == 1 && g_key_file_has_key (keyfile, group, "Fields", NULL))
		return kith_gpio_fail (error, group, "Fields", "for a group of lines (use Field=)");
	if (n > 1 && g_key_file_has_key (keyfile, group, "Field", NULL))
		return kith_gpio_fail (error, group, "Field", "for one line (use Fields=)");
	if (n == 1) {
		gchar *field = kith_gpio_get_string (keyfile, group, "Field");
		if (field == NULL)
			field = g_strdup (config->direction == KITH_GPIO_OUTPUT ? "Output"
			                                                        : "State");
		config->fields = g_new0 (gchar *, 2);
		config->fields[0] = field;
		return TRUE;
	}
	config->fields = kith_gpio_get_list (keyfile, group, "Fields", &error_local);
	if (error_local != NULL) {
		g_propagate_error (error, error_local);
		return FALSE;
	}
	if (config->fields == NULL) {
		config->fields = g_new0 (gchar *, n + 1);
		for (guint i = 0; i < n; i++)
			config->fields[i] = kith_gpio_line_is_offset (config->lines[i], NULL)
			                            ? g_strdup_printf ("Line%s", config->lines[i])
			                            : g_strdup (config->lines[i]);
	}
	if (g_strv_length (config->fields) != n)
		return kith_gpio_fail (error, group, "Fields", "%u names for %u lines",
		                       g_strv_length (config->fields), n);
	for (guint i = 0; i < n; i++) {
		for (guint j = 0; j < i; j++) {
			if (g_strcmp0 (config->fields[i], config->fields[j]) == 0)
				return kith_gpio_fail (error, group, "Fields", "%s names two lines",
				                       config->fields[i]);
		}
		if (g_strcmp0 (config->fields[i], "Pulse") == 0)
			return kith_gpio_fail (error, group, "Fields", "Pulse is taken");
	}
	return TRUE;
}

/* the keys that only apply to one direction or mode */
static gboolean
kith_gpio_check_applicable (KithGpioItemConfig *config, GKeyFile *keyfile, GError **error)
{
	static const gchar *const input_only[] = { "Debounce", "Mode", "CountEdge", "RateInterval",
		                                   NULL };
	static const gchar *const counter_only[] = { "CountEdge", "RateInterval", NULL };
	const gchar *group = config->group;

	for (guint i = 0; config->direction == KITH_GPIO_OUTPUT && input_only[i] != NULL; i++) {
		if (g_key_file_has_key (keyfile, group, input_only[i], NULL))
			return kith_gpio_fail (error, group, input_only[i], "only for inputs");
	}
	if (config->direction == KITH_GPIO_INPUT &&
	    g_key_file_has_key (keyfile, group, "Initial", NULL))
		return kith_gpio_fail (error, group, "Initial", "only for outputs");
	for (guint i = 0; config->mode != KITH_GPIO_MODE_COUNTER && counter_only[i] != NULL; i++) {
		if (g_key_file_has_key (keyfile, group, counter_only[i], NULL))
			return kith_gpio_fail (error, group, counter_only[i],
			                       "only for Mode=counter");
	}
	if (config->mode == KITH_GPIO_MODE_COUNTER && g_strv_length (config->lines) != 1)
		return kith_gpio_fail (error, group, "Mode", "a counter counts one line (Line=)");
	if (config->mode == KITH_GPIO_MODE_COUNTER &&
	    g_key_file_has_key (keyfile, group, "Field", NULL))
		return kith_gpio_fail (error, group, "Field",
		                       "a counter's fields are Count and Rate");
	return TRUE;
}

KithGpioItemConfig *
kith_gpio_item_config_parse (GKeyFile *keyfile, const gchar *group, const gchar *bus_chip,
                             GError **error)
{
	static const gchar *const directions[] = { "input", "output", NULL };
	static const gchar *const biases[] = { "as-is", "disable", "pull-up", "pull-down", NULL };
	static const gchar *const modes[] = { "state", "counter", NULL };
	static const gchar *const edges[] = { "rising", "falling", "both", NULL };
	g_autoptr (KithGpioItemConfig) config = g_new0 (KithGpioItemConfig, 1);
	const gchar *item = strrchr (group, ':');
	guint choice;

	config->group = g_strdup (group);
	config->item = g_strdup (item != NULL ? item + 1 : group);
	config->count_edge = KITH_GPIO_EDGE_RISING;
	config->rate_interval = 60;
	config->label = kith_gpio_get_string (keyfile, group, "Label");
	config->chip = kith_gpio_get_string (keyfile, group, "Chip");
	if (config->chip == NULL && bus_chip != NULL && bus_chip[0] != '\0')
		config->chip = g_strdup (bus_chip);
	if (!kith_gpio_get_choice (keyfile, group, "Direction", directions, KITH_GPIO_INPUT,
	                           &choice, error))
		return NULL;
	config->direction = choice;
	if (!kith_gpio_get_choice (keyfile, group, "Mode", modes, KITH_GPIO_MODE_STATE, &choice,
	                           error))
		return NULL;
	config->mode = choice;
	if (!kith_gpio_get_choice (keyfile, group, "Bias", biases, KITH_GPIO_BIAS_AS_IS, &choice,
	                           error))
		return NULL;
	config->bias = choice;
	if (!kith_gpio_get_choice (keyfile, group, "CountEdge", edges, 0, &choice, error))
		return NULL;
	config->count_edge = choice + 1; /* rising, falling, both: 1, 2, 3 */
	if (!kith_gpio_get_bool (keyfile, group, "ActiveLow", &config->active_low, error) ||
	    !kith_gpio_get_bool (keyfile, group, "Initial", &config->initial, error) ||
	    !kith_gpio_get_uint (keyfile, group, "Debounce", 0, 60000, &config->debounce_ms,
	                         error) ||
	    !kith_gpio_get_uint (keyfile, group, "RateInterval", 1, 86400, &config->rate_interval,
	                         error))
		return NULL;
	if (!kith_gpio_parse_lines (config, keyfile, error) ||
	    !kith_gpio_check_applicable (config, keyfile, error) ||
	    !kith_gpio_parse_fields (config, keyfile, error))
		return NULL;
	return g_steal_pointer (&config);
}
