/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Output: aligned tables, human sizes and JSON. */

#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "ctl.h"

#define COLUMN_GAP "  "

struct Table {
        guint n_columns;
        GPtrArray *rows; /* of char ** (n_columns strings each); row 0 is the header */
};

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

Table *table_new(guint n_columns, const char *const *headers)
{
        Table *table = g_new0(Table, 1);

        table->n_columns = n_columns;
        table->rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
        table_add_row(table, headers);
        return table;
}

void table_add_row(Table *table, const char *const *cells)
{
        char **row = g_new0(char *, table->n_columns + 1);

        for (guint i = 0; i < table->n_columns; i++)
                row[i] = sanitize_text(cells[i]);
        g_ptr_array_add(table->rows, row);
}

void table_free(Table *table)
{
        if (!table)
                return;
        g_ptr_array_unref(table->rows);
        g_free(table);
}

static glong cell_width(const char *s)
{
        return g_utf8_validate(s, -1, NULL) ? g_utf8_strlen(s, -1) : (glong) strlen(s);
}

static void table_widths(const Table *table, glong *widths, guint first_row)
{
        for (guint c = 0; c < table->n_columns; c++)
                widths[c] = 0;
        for (guint r = first_row; r < table->rows->len; r++) {
                char **row = g_ptr_array_index(table->rows, r);

                for (guint c = 0; c < table->n_columns; c++)
                        widths[c] = MAX(widths[c], cell_width(row[c]));
        }
}

static void print_row(const Table *table, char **row, const glong *widths)
{
        g_autoptr(GString) line = g_string_new(NULL);

        for (guint c = 0; c < table->n_columns; c++) {
                if (c > 0)
                        g_string_append(line, COLUMN_GAP);
                g_string_append(line, row[c]);
                if (c + 1 < table->n_columns)
                        for (glong pad = cell_width(row[c]); pad < widths[c]; pad++)
                                g_string_append_c(line, ' ');
        }
        while (line->len > 0 && line->str[line->len - 1] == ' ')
                g_string_truncate(line, line->len - 1);
        printf("%s\n", line->str);
}

void table_print(const Table *table, bool header)
{
        guint first = header ? 0 : 1;
        g_autofree glong *widths = g_new0(glong, table->n_columns);

        table_widths(table, widths, first);
        for (guint r = first; r < table->rows->len; r++)
                print_row(table, g_ptr_array_index(table->rows, r), widths);
}

/* Sizes as lsblk shows them: binary units, one decimal only when needed
 * (512B, 8G, 465.8G, 1.8T). */
char *format_size(guint64 bytes)
{
        static const char units[] = "BKMGTPE";
        guint exp = 0;
        guint64 unit = 1, whole, tenths;

        while (exp + 1 < sizeof(units) - 1 && bytes >= unit * 1024) {
                unit *= 1024;
                exp++;
        }
        whole = bytes / unit;
        tenths = ((bytes % unit) * 10 + unit / 2) / unit;
        if (tenths == 10) {
                whole++;
                tenths = 0;
        }
        if (whole == 1024 && exp + 1 < sizeof(units) - 1) {
                whole = 1;
                exp++;
        }
        if (tenths == 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT "%c", whole, units[exp]);
        return g_strdup_printf("%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT "%c", whole, tenths, units[exp]);
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

void ctl_print_list(const Ctl *ctl, const ListSpec *spec, GPtrArray *records)
{
        g_autoptr(Table) table = NULL;

        if (ctl->json) {
                print_records_json(records);
                return;
        }
        table = table_new(spec->n_columns, spec->headers);
        for (guint i = 0; i < records->len; i++)
                spec->add_row(table, g_ptr_array_index(records, i));
        table_print(table, ctl->legend);
}

/* Fetch a listing and print it as a table or JSON. The records are handed
 * back (when ret is not NULL) for verbs that print hints after the table. */
int ctl_show_list(Ctl *ctl, const ListSpec *spec, const char *domain, GPtrArray **ret)
{
        g_autoptr(GPtrArray) records = NULL;
        int r;

        if (spec->interface)
                r = ctl_fetch_objects(ctl, spec->interface, &records);
        else
                r = ctl_fetch_records(ctl, spec->method, domain, &records);
        if (r != CTL_EXIT_OK)
                return r;
        if (spec->compare)
                g_ptr_array_sort(records, spec->compare);
        ctl_print_list(ctl, spec, records);
        if (ret)
                *ret = g_steal_pointer(&records);
        return CTL_EXIT_OK;
}
