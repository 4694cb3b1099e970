/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Output: tables (libsmartcols), human sizes and JSON. */

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libsmartcols.h>

#include "ctl.h"

/* Device strings come from firmware: never let them drive the terminal. */
char *sanitize_text(const char *s)
{
        char *copy = g_strdup(s ? s : "");

        for (char *p = copy; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return copy;
}

/* For people: "sdb2" < "sdb10", "1-1.9" < "1-1.10". */
int natural_compare(const char *a, const char *b)
{
        while (*a && *b) {
                if (g_ascii_isdigit(*a) && g_ascii_isdigit(*b)) {
                        size_t n_a = strspn(a, "0123456789"), n_b = strspn(b, "0123456789");
                        int r;

                        if (n_a != n_b)
                                return n_a < n_b ? -1 : 1;
                        r = strncmp(a, b, n_a);
                        if (r != 0)
                                return r;
                        a += n_a;
                        b += n_b;
                        continue;
                }
                if (*a != *b)
                        break;
                a++;
                b++;
        }
        return (unsigned char) *a - (unsigned char) *b;
}

/* ---- tables ---- */

#define COLUMN_GAP "  "

struct Table {
        struct libscols_table *scols;
        GPtrArray *headers;
};

Table *table_new_empty(void)
{
        Table *table = g_new0(Table, 1);

        table->scols = scols_new_table();
        if (!table->scols)
                g_error("Out of memory");
        table->headers = g_ptr_array_new_with_free_func(g_free);
        return table;
}

void table_add_column(Table *table, const char *header, int flags)
{
        if (!scols_table_new_column(table->scols, header, 0, flags))
                g_error("Out of memory");
        g_ptr_array_add(table->headers, g_strdup(header));
}

Table *table_new(guint n_columns, const char *const *headers)
{
        Table *table = table_new_empty();

        for (guint i = 0; i < n_columns; i++)
                table_add_column(table, headers[i], 0);
        return table;
}

void table_add_row(Table *table, const char *const *cells)
{
        struct libscols_line *line = scols_table_new_line(table->scols, NULL);

        if (!line)
                g_error("Out of memory");
        for (guint i = 0; i < table->headers->len; i++) {
                g_autofree char *clean = sanitize_text(cells[i]);

                scols_line_set_data(line, i, clean);
        }
}

void table_free(Table *table)
{
        if (!table)
                return;
        scols_unref_table(table->scols);
        g_ptr_array_unref(table->headers);
        g_free(table);
}

/* An empty table: its header (libsmartcols prints nothing). */
static void print_header_only(const Table *table)
{
        g_autoptr(GString) line = g_string_new(NULL);

        for (guint i = 0; i < table->headers->len; i++)
                g_string_append_printf(line, "%s%s", i ? COLUMN_GAP : "",
                                       (const char *) g_ptr_array_index(table->headers, i));
        printf("%s\n", line->str);
}

/* Aligned, two spaces between columns, no trailing blanks; with --raw as
 * lsblk --raw: one space between cells, blanks inside them as \x20. */
void table_print(const Table *table, const Ctl *ctl)
{
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;

        scols_table_enable_noheadings(table->scols, !ctl->legend);
        /* Without them, the headers do not widen their columns either. */
        for (guint i = 0; !ctl->legend && i < table->headers->len; i++)
                scols_cell_set_data(scols_column_get_header(scols_table_get_column(table->scols, i)), "");
        scols_table_enable_raw(table->scols, ctl->raw);
        if (ctl->raw) {
                scols_print_table(table->scols);
                return;
        }
        if (scols_table_is_empty(table->scols)) {
                if (ctl->legend)
                        print_header_only(table);
                return;
        }
        scols_table_set_column_separator(table->scols, COLUMN_GAP);
        if (scols_print_table_to_string(table->scols, &text) < 0 || !text)
                return;
        lines = g_strsplit(text, "\n", -1);
        for (char **line = lines; *line; line++)
                if (**line || line[1])
                        printf("%s\n", g_strchomp(*line));
}

/* The tenths of rest (a fraction of 1 << shift) as lsblk (util-linux 2.38)
 * rounds them: first to thousandths, truncated, then to the nearest tenth
 * (so 1.9499 is 1.9 and 1.95 is 2.0). 0 to 10. */
static guint64 size_tenths(guint64 rest, guint shift)
{
        guint64 thousandths;

        if (rest >= G_MAXUINT64 / 1000) /* only with shift 60: no room for * 1000 */
                thousandths = ((rest >> 10) * 1000) >> (shift - 10);
        else
                thousandths = (rest * 1000) >> shift;
        return (thousandths + 50) / 100;
}

/* Sizes as lsblk (util-linux 2.38) shows them: binary units, one letter,
 * one decimal only when needed, rounded as lsblk rounds (512B, 8G, 465.8G,
 * 1.9G for 1.94 GiB, 1024M for 1023.96 MiB), with the locale's decimal
 * point. tests/test-format-size.c compares with lsblk's own output. */
char *format_size(guint64 bytes)
{
        static const char units[] = "BKMGTPE";
        const struct lconv *lc = localeconv();
        const char *point = lc && lc->decimal_point && lc->decimal_point[0] ? lc->decimal_point : ".";
        guint shift = 0;
        guint64 whole, rest, tenths = 0;

        while (shift < 60 && bytes >= (G_GUINT64_CONSTANT(1) << (shift + 10)))
                shift += 10;
        whole = bytes >> shift;
        rest = bytes & ((G_GUINT64_CONSTANT(1) << shift) - 1);
        if (rest)
                tenths = size_tenths(rest, shift);
        if (tenths == 10) {
                whole++;
                tenths = 0;
        }
        if (tenths == 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT "%c", whole, units[shift / 10]);
        return g_strdup_printf("%" G_GUINT64_FORMAT "%s%" G_GUINT64_FORMAT "%c", whole, point, tenths,
                               units[shift / 10]);
}

static void json_add_record(JsonBuilder *builder, GVariant *record);

static void json_add_value(JsonBuilder *builder, GVariant *value)
{
        switch (g_variant_classify(value)) {
        case G_VARIANT_CLASS_BOOLEAN:
                json_builder_add_boolean_value(builder, g_variant_get_boolean(value));
                break;
        case G_VARIANT_CLASS_BYTE:
                json_builder_add_int_value(builder, g_variant_get_byte(value));
                break;
        case G_VARIANT_CLASS_INT16:
                json_builder_add_int_value(builder, g_variant_get_int16(value));
                break;
        case G_VARIANT_CLASS_UINT16:
                json_builder_add_int_value(builder, g_variant_get_uint16(value));
                break;
        case G_VARIANT_CLASS_INT32:
                json_builder_add_int_value(builder, g_variant_get_int32(value));
                break;
        case G_VARIANT_CLASS_UINT32:
                json_builder_add_int_value(builder, g_variant_get_uint32(value));
                break;
        case G_VARIANT_CLASS_INT64:
                json_builder_add_int_value(builder, g_variant_get_int64(value));
                break;
        case G_VARIANT_CLASS_UINT64:
                if (g_variant_get_uint64(value) > G_MAXINT64)
                        json_builder_add_double_value(builder, (double) g_variant_get_uint64(value));
                else
                        json_builder_add_int_value(builder, (gint64) g_variant_get_uint64(value));
                break;
        case G_VARIANT_CLASS_DOUBLE:
                json_builder_add_double_value(builder, g_variant_get_double(value));
                break;
        case G_VARIANT_CLASS_STRING:
                json_builder_add_string_value(builder, g_variant_get_string(value, NULL));
                break;
        case G_VARIANT_CLASS_ARRAY:
                if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARDICT)) {
                        json_add_record(builder, value);
                        break;
                }
                json_builder_begin_array(builder);
                for (gsize i = 0; i < g_variant_n_children(value); i++) {
                        g_autoptr(GVariant) child = g_variant_get_child_value(value, i);

                        json_add_value(builder, child);
                }
                json_builder_end_array(builder);
                break;
        default:
                json_builder_add_null_value(builder);
                break;
        }
}

static void json_add_record(JsonBuilder *builder, GVariant *record)
{
        GVariantIter iter;
        const char *key;
        GVariant *value;

        json_builder_begin_object(builder);
        g_variant_iter_init(&iter, record);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                json_builder_set_member_name(builder, key);
                json_add_value(builder, value);
                g_variant_unref(value);
        }
        json_builder_end_object(builder);
}

static void print_json(JsonBuilder *builder, bool pretty)
{
        g_autoptr(JsonGenerator) generator = json_generator_new();
        g_autoptr(JsonNode) root = json_builder_get_root(builder);
        g_autofree char *text = NULL;

        json_generator_set_pretty(generator, pretty);
        json_generator_set_indent(generator, 2);
        json_generator_set_root(generator, root);
        text = json_generator_to_data(generator, NULL);
        printf("%s\n", text);
}

/* A listing: an array of objects, pretty-printed. */
void print_records_json(GPtrArray *records)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_array(builder);
        for (guint i = 0; i < records->len; i++)
                json_add_record(builder, g_ptr_array_index(records, i));
        json_builder_end_array(builder);
        print_json(builder, true);
}

/* One record as one line (JSON Lines). */
void print_record_json_line(GVariant *record)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_add_record(builder, record);
        print_json(builder, false);
}
