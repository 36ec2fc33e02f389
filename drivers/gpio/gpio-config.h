/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "chip.h"

G_BEGIN_DECLS

typedef enum {
	KITH_GPIO_INPUT,
	KITH_GPIO_OUTPUT,
} KithGpioDirection;

typedef enum {
	KITH_GPIO_MODE_STATE,   /* the line's level as a boolean field */
	KITH_GPIO_MODE_COUNTER, /* a pulse meter: Count and Rate */
} KithGpioMode;

typedef enum {
	KITH_GPIO_EDGE_RISING = 1 << 0,
	KITH_GPIO_EDGE_FALLING = 1 << 1,
	KITH_GPIO_EDGE_BOTH = KITH_GPIO_EDGE_RISING | KITH_GPIO_EDGE_FALLING,
} KithGpioEdge;

/* one [bus:NAME:ITEM] group: a line or a group of lines, one device */
typedef struct {
	gchar *item;  /* ITEM */
	gchar *group; /* "bus:NAME:ITEM", for messages */
	gchar *label;
	gchar *chip;  /* the item's Chip=, else the bus's; NULL: lines by name on any chip */
	GStrv lines;  /* as written: a line name or an offset */
	GStrv fields; /* the field of each line */
	KithGpioDirection direction;
	KithGpioBias bias;
	gboolean active_low;
	guint debounce_ms;
	KithGpioMode mode;
	KithGpioEdge count_edge;
	guint rate_interval; /* seconds between Rate updates */
	gboolean initial;    /* outputs: the level set when the line is requested */
} KithGpioItemConfig;

extern const gchar *const kith_gpio_bus_keys[];
extern const gchar *const kith_gpio_item_keys[];

/* parses a [bus:NAME:ITEM] group; bus_chip: the bus's Chip= (NULL if none) */
KithGpioItemConfig *kith_gpio_item_config_parse (GKeyFile *keyfile, const gchar *group,
                                                 const gchar *bus_chip, GError **error);
void kith_gpio_item_config_free (KithGpioItemConfig *config);
/* TRUE and the offset if text is a line offset (decimal digits) */
gboolean kith_gpio_line_is_offset (const gchar *text, guint *offset);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithGpioItemConfig, kith_gpio_item_config_free)

G_END_DECLS
