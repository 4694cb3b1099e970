/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/sysmacros.h>

#include "errors.h"
#include "mounts.h"

static gboolean is_octal(char c) {
        return c >= '0' && c <= '7';
}

char *mounts_unescape(const char *s) {
        GString *out = g_string_sized_new(strlen(s));

        while (*s) {
                if (s[0] == '\\' && is_octal(s[1]) && is_octal(s[2]) && is_octal(s[3])) {
                        int value = (s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0');

                        /* \000 and values above a byte are kept as written */
                        if (value > 0 && value <= 0xff) {
                                g_string_append_c(out, (char) value);
                                s += 4;
                                continue;
                        }
                }
                g_string_append_c(out, *s);
                s++;
        }
        return g_string_free(out, FALSE);
}

static void mount_entry_free(MountEntry *entry) {
        g_free(entry->mount_point);
        g_free(entry->fstype);
        g_free(entry->source);
        g_free(entry);
}

void mount_table_free(MountTable *table) {
        if (!table)
                return;
        g_ptr_array_unref(table->entries);
        g_free(table);
}

static gboolean parse_number(const char *s, guint64 max, guint64 *ret) {
        return g_ascii_string_to_unsigned(s, 10, 0, max, ret, NULL);
}

/* "8:17" -> makedev(8, 17) */
static gboolean parse_devnum(const char *s, dev_t *ret) {
        g_auto(GStrv) parts = g_strsplit(s, ":", -1);
        guint64 major_nr, minor_nr;

        if (g_strv_length(parts) != 2)
                return FALSE;
        if (!parse_number(parts[0], 0xfff, &major_nr) ||
            !parse_number(parts[1], 0xfffff, &minor_nr))
                return FALSE;
        *ret = makedev((unsigned) major_nr, (unsigned) minor_nr);
        return TRUE;
}

/* The optional fields end with a lone "-"; it comes after the six fixed fields. */
static int find_separator(char **fields, guint n) {
        for (guint i = 6; i < n; i++)
                if (g_str_equal(fields[i], "-"))
                        return (int) i;
        return -1;
}

static MountEntry *parse_mountinfo_line(const char *line) {
        g_auto(GStrv) fields = g_strsplit(line, " ", -1);
        guint n = g_strv_length(fields);
        MountEntry *entry;
        dev_t devnum;
        int sep;

        if (n < 9)
                return NULL;
        sep = find_separator(fields, n);
        if (sep < 0 || (guint) sep + 2 >= n)
                return NULL;
        if (!parse_devnum(fields[2], &devnum))
                return NULL;
        if (fields[4][0] != '/' || fields[sep + 1][0] == '\0')
                return NULL;

        entry = g_new0(MountEntry, 1);
        entry->devnum = devnum;
        entry->mount_point = mounts_unescape(fields[4]);
        entry->fstype = mounts_unescape(fields[sep + 1]);
        entry->source = mounts_unescape(fields[sep + 2]);
        return entry;
}

MountTable *mount_table_parse(const char *mountinfo_text) {
        g_auto(GStrv) lines = g_strsplit(mountinfo_text ? mountinfo_text : "", "\n", -1);
        MountTable *table = g_new0(MountTable, 1);

        table->entries = g_ptr_array_new_with_free_func((GDestroyNotify) mount_entry_free);
        for (guint i = 0; lines[i]; i++) {
                MountEntry *entry = parse_mountinfo_line(lines[i]);

                if (entry)
                        g_ptr_array_add(table->entries, entry);
        }
        return table;
}

static char *read_text(const char *path, GError **error) {
        g_autoptr(GError) local = NULL;
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, &local)) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                            "Cannot read %s: %s", path, local->message);
                return NULL;
        }
        return text;
}

MountTable *mount_table_read(const char *path, GError **error) {
        g_autofree char *text = read_text(path, error);

        if (!text)
                return NULL;
        return mount_table_parse(text);
}

/* "/dev/sda2  partition  1048572  0  -2": the first field is the file name. */
static char *parse_swaps_line(const char *line) {
        g_auto(GStrv) fields = g_strsplit_set(line, " \t", -1);
        guint count = 0;
        const char *name = NULL;

        for (guint i = 0; fields[i]; i++) {
                if (fields[i][0] == '\0')
                        continue;
                if (count == 0)
                        name = fields[i];
                count++;
        }
        if (!name || count < 2 || name[0] != '/')
                return NULL;
        return mounts_unescape(name);
}

GPtrArray *swaps_parse(const char *swaps_text) {
        g_auto(GStrv) lines = g_strsplit(swaps_text ? swaps_text : "", "\n", -1);
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; lines[i]; i++) {
                char *name;

                if (g_str_has_prefix(lines[i], "Filename"))
                        continue;
                name = parse_swaps_line(lines[i]);
                if (name)
                        g_ptr_array_add(names, name);
        }
        return names;
}

GPtrArray *swaps_read(const char *path, GError **error) {
        g_autofree char *text = read_text(path, error);

        if (!text)
                return NULL;
        return swaps_parse(text);
}
