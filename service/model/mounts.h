/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing /proc/self/mountinfo and /proc/swaps: pure functions on text, so
 * tests feed them fixture files. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct {
        dev_t devnum;          /* st_dev of the mount (major:minor field) */
        char *mount_point;     /* unescaped (\040 -> space) */
        char *fstype;
        char *source;          /* mount source after " - fstype ", unescaped */
} MountEntry;

typedef struct {
        GPtrArray *entries;    /* MountEntry* */
} MountTable;

/* Parse mountinfo text. Malformed lines are skipped; never fails on content. */
MountTable *mount_table_parse(const char *mountinfo_text);
MountTable *mount_table_read(const char *path, GError **error);  /* e.g. /proc/self/mountinfo */
void mount_table_free(MountTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MountTable, mount_table_free)

/* Parse /proc/swaps text: returns the unescaped file names (char*). */
GPtrArray *swaps_parse(const char *swaps_text);
GPtrArray *swaps_read(const char *path, GError **error);

/* Unescape the octal escapes (\040 \011 \012 \134) used in these files. */
char *mounts_unescape(const char *s);
