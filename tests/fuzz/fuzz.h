/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What every harness shares: libFuzzer's entry points (a harness defines both; fuzz-replay.c
 * calls them where libFuzzer is not linked), a quiet log in which a critical or an error is a
 * crash (as G_DEBUG=fatal-criticals makes it in the unit tests), and a scratch directory.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* the log and the environment; call first in LLVMFuzzerInitialize. KITH_FUZZ_LOG=1 shows
 * every message (to see what an input does) */
void kith_fuzz_init (void);
/* TRUE with KITH_FUZZ_LOG=1: a harness may say more of what it sees */
gboolean kith_fuzz_verbose (void);
/* a private directory for the process, removed at exit */
const gchar *kith_fuzz_scratch (void);
/* removes a directory and everything in it */
void kith_fuzz_remove_tree (const gchar *path);
/* the input as a NUL-terminated string (it may hold NUL bytes of its own) */
gchar *kith_fuzz_text (const uint8_t *data, size_t size);

G_END_DECLS
