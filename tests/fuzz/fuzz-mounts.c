/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /proc/self/mountinfo and /proc/swaps readers (what decides whether a
 * disk is mounted or swap). The input goes through a memfd and the readers'
 * path (/proc/self/fd/N), as the service reads /proc, and must give what
 * the text parsers give; entries hold what the formats allow. */
#include "config.h"

#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "mounts.h"

static int fd = -1;
static char *path;

static void write_input(const uint8_t *data, size_t size) {
        FUZZ_CHECK(ftruncate(fd, 0) == 0);
        FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t) size);
}

static void check_mount(const MountEntry *e) {
        FUZZ_CHECK(e->mount_point[0] == '/');
        FUZZ_CHECK(e->fstype[0] != '\0');
        FUZZ_CHECK(e->source != NULL);
}

static void check_mountinfo(const char *text) {
        g_autoptr(GError) error = NULL;
        g_autoptr(MountTable) read = mount_table_read(path, &error);
        g_autoptr(MountTable) parsed = mount_table_parse(text);

        FUZZ_CHECK(read != NULL && error == NULL);
        FUZZ_CHECK(read->entries->len == parsed->entries->len);
        for (guint i = 0; i < read->entries->len; i++) {
                const MountEntry *a = read->entries->pdata[i], *b = parsed->entries->pdata[i];

                check_mount(a);
                FUZZ_CHECK(a->devnum == b->devnum && g_str_equal(a->mount_point, b->mount_point));
                FUZZ_CHECK(g_str_equal(a->fstype, b->fstype) && g_str_equal(a->source, b->source));
        }
}

static void check_swaps(const char *text) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) read = swaps_read(path, &error);
        g_autoptr(GPtrArray) parsed = swaps_parse(text);

        FUZZ_CHECK(read != NULL && error == NULL);
        FUZZ_CHECK(read->len == parsed->len);
        for (guint i = 0; i < read->len; i++) {
                FUZZ_CHECK(((const char *) read->pdata[i])[0] == '/');
                FUZZ_CHECK(g_str_equal(read->pdata[i], parsed->pdata[i]));
        }
}

/* Unescaping never lengthens, and leaves text without backslashes alone. */
static void check_unescape(const char *text) {
        g_autofree char *plain = mounts_unescape(text);

        FUZZ_CHECK(strlen(plain) <= strlen(text));
        FUZZ_CHECK(strchr(text, '\\') || g_str_equal(plain, text));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        fd = memfd_create("fuzz-mounts", MFD_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        path = g_strdup_printf("/proc/self/fd/%d", fd);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *text = fuzz_string(data, size);

        write_input(data, size);
        check_mountinfo(text);
        check_swaps(text);
        check_unescape(text);
        return 0;
}
