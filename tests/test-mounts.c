/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the mountinfo and swaps parsers. */
#include "config.h"

#include <string.h>
#include <sys/sysmacros.h>

#include "errors.h"
#include "mounts.h"

static char *fixture_text(const char *name) {
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", name, NULL);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, &error));
        g_assert_no_error(error);
        return text;
}

static const MountEntry *entry_at(const MountTable *table, const char *mount_point) {
        for (guint i = 0; i < table->entries->len; i++) {
                const MountEntry *entry = table->entries->pdata[i];

                if (g_str_equal(entry->mount_point, mount_point))
                        return entry;
        }
        return NULL;
}

static void assert_entry(const MountTable *table, const char *mount_point, guint maj, guint min,
                         const char *fstype, const char *source) {
        const MountEntry *entry = entry_at(table, mount_point);

        g_assert(entry != NULL);
        g_assert_cmpuint(major(entry->devnum), ==, maj);
        g_assert_cmpuint(minor(entry->devnum), ==, min);
        g_assert_cmpstr(entry->fstype, ==, fstype);
        g_assert_cmpstr(entry->source, ==, source);
}

static void test_unescape(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "/mnt/my\\040disk", "/mnt/my disk" },
                { "a\\011b\\012c", "a\tb\nc" },
                { "back\\134slash", "back\\slash" },
                { "\\040\\040", "  " },
                { "nul\\000kept", "nul\\000kept" },         /* would cut the string */
                { "big\\400kept", "big\\400kept" },         /* not a byte */
                { "short\\04", "short\\04" },
                { "not\\9octal", "not\\9octal" },
                { "trailing\\", "trailing\\" },
                { "", "" },
                { "plain", "plain" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *out = mounts_unescape(cases[i].in);

                g_assert_cmpstr(out, ==, cases[i].out);
        }
}

static void test_mountinfo_basic(void) {
        g_autofree char *text = fixture_text("mountinfo-basic");
        g_autoptr(MountTable) table = mount_table_parse(text);

        g_assert_cmpuint(table->entries->len, ==, 9);
        assert_entry(table, "/", 254, 0, "ext4", "/dev/vda");
        assert_entry(table, "/proc", 0, 21, "proc", "proc");
        assert_entry(table, "/mnt/my disk", 8, 17, "ext4", "/dev/sdb1");
        assert_entry(table, "/boot/efi", 8, 1, "vfat", "/dev/sda1");
        assert_entry(table, "/mnt/back\\slash", 0, 50, "tmpfs", "tmp fs");
        assert_entry(table, "/mnt/nul\\000kept", 0, 51, "tmpfs", "none");
}

/* btrfs reports an anonymous 0:N device; the source names the real disk. */
static void test_mountinfo_btrfs(void) {
        g_autofree char *text = fixture_text("mountinfo-basic");
        g_autoptr(MountTable) table = mount_table_parse(text);

        assert_entry(table, "/home", 0, 45, "btrfs", "/dev/sdc2");
        assert_entry(table, "/srv", 0, 45, "btrfs", "/dev/sdc2");
}

/* A bind mount with several optional fields and escaped tab and newline. */
static void test_mountinfo_bind(void) {
        g_autofree char *text = fixture_text("mountinfo-basic");
        g_autoptr(MountTable) table = mount_table_parse(text);

        assert_entry(table, "/mnt/bind\ttab\nnl", 8, 17, "ext4", "/dev/sdb1");
        g_assert_null(entry_at(table, "/mnt/bind\\011tab\\012nl"));
}

static void test_mountinfo_malformed(void) {
        g_autofree char *text = fixture_text("mountinfo-malformed");
        g_autoptr(MountTable) table = mount_table_parse(text);

        g_assert_cmpuint(table->entries->len, ==, 2);
        assert_entry(table, "/ok", 8, 1, "ext4", "/dev/sda1");
        assert_entry(table, "/ok2", 8, 2, "ext4", "/dev/sda2");
}

static void test_mountinfo_empty(void) {
        g_autoptr(MountTable) empty = mount_table_parse("");
        g_autoptr(MountTable) null = mount_table_parse(NULL);
        g_autoptr(MountTable) no_newline = mount_table_parse("1 2 8:3 / /x rw - ext4 /dev/sda3 rw");

        g_assert_cmpuint(empty->entries->len, ==, 0);
        g_assert_cmpuint(null->entries->len, ==, 0);
        g_assert_cmpuint(no_newline->entries->len, ==, 1);
        assert_entry(no_newline, "/x", 8, 3, "ext4", "/dev/sda3");
}

/* Random bytes and truncated copies of a good line never crash the parser. */
static void test_mountinfo_fuzz(void) {
        const char *good = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue";
        g_autoptr(GRand) rand = g_rand_new_with_seed(42);

        for (size_t len = 0; len <= strlen(good); len++) {
                g_autofree char *cut = g_strndup(good, len);
                g_autoptr(MountTable) table = mount_table_parse(cut);

                g_assert_cmpuint(table->entries->len, <=, 1);
        }
        for (int round = 0; round < 200; round++) {
                char buf[256];
                g_autoptr(MountTable) table = NULL;

                for (gsize i = 0; i < sizeof(buf) - 1; i++)
                        buf[i] = (char) g_rand_int_range(rand, 1, 256);
                buf[sizeof(buf) - 1] = '\0';
                table = mount_table_parse(buf);
                g_assert_nonnull(table->entries);
        }
}

static void test_mountinfo_read(void) {
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", "mountinfo-basic", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(MountTable) table = mount_table_read(path, &error);
        g_autoptr(MountTable) missing = NULL;
        g_autoptr(MountTable) real = NULL;

        g_assert_no_error(error);
        g_assert_cmpuint(table->entries->len, ==, 9);

        missing = mount_table_read("/nonexistent/mountinfo", &error);
        g_assert_null(missing);
        g_assert_error(error, PT_ERROR, PT_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "/nonexistent/mountinfo"));
        g_clear_error(&error);

        real = mount_table_read("/proc/self/mountinfo", &error);
        g_assert_no_error(error);
        g_assert_nonnull(entry_at(real, "/"));
        g_assert_nonnull(entry_at(real, "/proc"));
}

static void test_swaps(void) {
        g_autofree char *text = fixture_text("swaps");
        g_autoptr(GPtrArray) swaps = swaps_parse(text);

        g_assert_cmpuint(swaps->len, ==, 3);
        g_assert_cmpstr(swaps->pdata[0], ==, "/dev/sdb2");
        g_assert_cmpstr(swaps->pdata[1], ==, "/swap file");
        g_assert_cmpstr(swaps->pdata[2], ==, "/dev/dm-1");
}

static void test_swaps_empty(void) {
        g_autoptr(GPtrArray) header_only = swaps_parse("Filename\tType\tSize\tUsed\tPriority\n");
        g_autoptr(GPtrArray) null = swaps_parse(NULL);
        g_autoptr(GPtrArray) name_only = swaps_parse("/dev/sdb2\n");

        g_assert_cmpuint(header_only->len, ==, 0);
        g_assert_cmpuint(null->len, ==, 0);
        g_assert_cmpuint(name_only->len, ==, 0);
}

static void test_swaps_read(void) {
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", "swaps", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) swaps = swaps_read(path, &error);
        g_autoptr(GPtrArray) missing = NULL;

        g_assert_no_error(error);
        g_assert_cmpuint(swaps->len, ==, 3);
        missing = swaps_read("/nonexistent/swaps", &error);
        g_assert_null(missing);
        g_assert_error(error, PT_ERROR, PT_ERROR_FAILED);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/mounts/unescape", test_unescape);
        g_test_add_func("/mounts/mountinfo/basic", test_mountinfo_basic);
        g_test_add_func("/mounts/mountinfo/btrfs", test_mountinfo_btrfs);
        g_test_add_func("/mounts/mountinfo/bind", test_mountinfo_bind);
        g_test_add_func("/mounts/mountinfo/malformed", test_mountinfo_malformed);
        g_test_add_func("/mounts/mountinfo/empty", test_mountinfo_empty);
        g_test_add_func("/mounts/mountinfo/fuzz", test_mountinfo_fuzz);
        g_test_add_func("/mounts/mountinfo/read", test_mountinfo_read);
        g_test_add_func("/mounts/swaps/parse", test_swaps);
        g_test_add_func("/mounts/swaps/empty", test_swaps_empty);
        g_test_add_func("/mounts/swaps/read", test_swaps_read);
        return g_test_run();
}
