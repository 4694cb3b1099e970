/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <blkid.h>
#include <fcntl.h>
#include <unistd.h>

#include "contents.h"
#include "udev-util.h"

void disk_contents_free(DiskContents *contents) {
        if (!contents)
                return;
        g_free(contents->fs_type);
        g_free(contents->label);
        g_free(contents->partition_table);
        g_free(contents);
}

/* A value libblkid found, cleaned for the bus (printable ASCII). */
static char *lookup(blkid_probe probe, const char *name) {
        const char *value = NULL;

        if (blkid_probe_lookup_value(probe, name, &value, NULL) < 0 || !value)
                return g_strdup("");
        return device_string_clean(value);
}

static void probe_fd(DiskContents *contents, int fd) {
        blkid_probe probe = blkid_new_probe();

        if (!probe)
                return;
        if (blkid_probe_set_device(probe, fd, 0, 0) == 0) {
                blkid_probe_enable_superblocks(probe, 1);
                blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
                blkid_probe_enable_partitions(probe, 1);
                if (blkid_do_safeprobe(probe) == 0) {
                        g_free(contents->fs_type);
                        contents->fs_type = lookup(probe, "TYPE");
                        g_free(contents->label);
                        contents->label = lookup(probe, "LABEL");
                        g_free(contents->partition_table);
                        contents->partition_table = lookup(probe, "PTTYPE");
                }
        }
        blkid_free_probe(probe);
}

DiskContents *disk_contents_new_empty(void) {
        DiskContents *contents = g_new0(DiskContents, 1);

        contents->fs_type = g_strdup("");
        contents->label = g_strdup("");
        contents->partition_table = g_strdup("");
        return contents;
}

DiskContents *disk_contents_probe(const char *path) {
        DiskContents *contents = disk_contents_new_empty();
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

        if (fd >= 0) {
                probe_fd(contents, fd);
                close(fd);
        }
        return contents;
}
