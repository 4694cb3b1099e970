/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthroughctl's sizes (format_size() in client/passthroughctl/output.c)
 * against what lsblk (util-linux 2.38) showed for loop devices of the same
 * sizes: tests/fixtures/lsblk-sizes.txt, written by tests/lsblk-sizes.sh. */

#include <glib.h>

#include "ctl.h"

#define MIN_ROWS 800 /* what lsblk-sizes.sh writes, give or take */

static void test_as_lsblk(void)
{
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", "lsblk-sizes.txt", NULL);
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        guint rows = 0, wrong = 0;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        lines = g_strsplit(text, "\n", -1);
        for (char **line = lines; *line; line++) {
                g_auto(GStrv) fields = g_strsplit(*line, " ", 2);
                g_autofree char *ours = NULL;

                if (!**line || **line == '#')
                        continue;
                g_assert_cmpuint(g_strv_length(fields), ==, 2);
                ours = format_size(g_ascii_strtoull(fields[0], NULL, 10));
                rows++;
                if (g_strcmp0(ours, fields[1]) != 0) {
                        g_test_message("%s bytes: lsblk %s, passthroughctl %s", fields[0], fields[1], ours);
                        wrong++;
                }
        }
        g_test_message("%u sizes, %u shown otherwise than lsblk", rows, wrong);
        g_assert_cmpuint(rows, >=, MIN_ROWS);
        g_assert_cmpuint(wrong, ==, 0);
}

/* The reviewer's example and the edges, spelled out. */
static void test_edges(void)
{
        static const struct {
                guint64 bytes;
                const char *shown;
        } cases[] = {
                { 0, "0B" },
                { 1023, "1023B" },
                { 1024, "1K" },
                { G_GUINT64_CONSTANT(2083059712), "1.9G" },              /* 1.94 GiB */
                { G_GUINT64_CONSTANT(1127428915), "1G" },                /* just under 1.05 GiB */
                { G_GUINT64_CONSTANT(1127428916), "1.1G" },              /* 1.05 GiB */
                { G_GUINT64_CONSTANT(1073689395), "1023.9M" },           /* just under 1023.95 MiB */
                { G_GUINT64_CONSTANT(1073689396), "1024M" },             /* 1023.95 MiB */
                { G_MAXUINT64, "16E" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *shown = format_size(cases[i].bytes);

                g_assert_cmpstr(shown, ==, cases[i].shown);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/format-size/as-lsblk", test_as_lsblk);
        g_test_add_func("/format-size/edges", test_edges);
        return g_test_run();
}
