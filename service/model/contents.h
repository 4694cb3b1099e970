/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a disk holds, as libblkid reads it: a file system or another
 * signature on the whole disk (ext4, LVM2_member, crypto_LUKS,
 * linux_raid_member, ...), its label, a partition table. Shown, not refused.
 * Reads the device: a worker's job. */
#pragma once

#include <glib.h>

typedef struct {
        char *fs_type;           /* "" when none */
        char *label;             /* "" when none */
        char *partition_table;   /* "gpt", "dos" or "" */
} DiskContents;

/* Nothing known ("" everywhere). */
DiskContents *disk_contents_new_empty(void);
void disk_contents_free(DiskContents *contents);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DiskContents, disk_contents_free)

/* Probe `path` (read-only, non-blocking open); an unreadable device holds
 * nothing we can tell ("" everywhere). */
DiskContents *disk_contents_probe(const char *path);
