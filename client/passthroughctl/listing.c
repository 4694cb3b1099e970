/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Listings: fetch the records, sort them, print them as JSON (the bus's
 * keys, whatever -o says) or as a table of the chosen columns (-o LIST,
 * "-o +LIST" to add to the defaults, as lsblk; --list-columns or -o help
 * lists a verb's columns). */

#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define COLUMNS_HELP "help"

typedef struct {
        const char *verb;
        const ListSpec *spec;
} VerbListing;

static const VerbListing verb_listings[] = {
        { "disk-list", &disk_list_spec },
        { "usb-list", &usb_list_spec },
        { "domains", &domains_spec },
        { "attached", &attached_spec },
        { "disk-attached", &attached_spec },
        { "usb-attached", &attached_spec },
};

static const ListSpec *find_listing(const char *verb)
{
        for (size_t i = 0; i < G_N_ELEMENTS(verb_listings); i++)
                if (g_str_equal(verb_listings[i].verb, verb))
                        return verb_listings[i].spec;
        return NULL;
}

static const ListColumn *find_column(const ListSpec *spec, const char *name)
{
        for (guint i = 0; i < spec->n_known; i++)
                if (g_ascii_strcasecmp(spec->columns[i].name, name) == 0)
                        return &spec->columns[i];
        return NULL;
}

/* The columns -o asks for ("NAME,SIZE", or "+MODEL" after the defaults),
 * or NULL with *ret_unknown the first name that is no column. */
static GPtrArray *choose_columns(const ListSpec *spec, const char *wanted, char **ret_unknown)
{
        g_autoptr(GPtrArray) chosen = g_ptr_array_new();
        g_autofree char *list = NULL;
        g_auto(GStrv) names = NULL;

        if (!wanted)
                list = g_strdup(spec->default_columns);
        else if (wanted[0] == '+')
                list = g_strconcat(spec->default_columns, ",", wanted + 1, NULL);
        else
                list = g_strdup(wanted);
        names = g_strsplit(list, ",", -1);
        for (char **name = names; *name; name++) {
                const ListColumn *column = find_column(spec, g_strstrip(*name));

                if (!column) {
                        *ret_unknown = g_strdup(*name);
                        return NULL;
                }
                g_ptr_array_add(chosen, (gpointer) column);
        }
        return g_steal_pointer(&chosen);
}

/* As lsblk --help lists its columns: the name right-aligned, then what it is. */
static void print_columns(const ListSpec *spec)
{
        for (guint i = 0; i < spec->n_known; i++)
                printf("%12s  %s\n", spec->columns[i].name, _(spec->columns[i].help));
}

int listing_check_options(Ctl *ctl, const char *verb)
{
        const ListSpec *spec = find_listing(verb);
        g_autoptr(GPtrArray) chosen = NULL;
        g_autofree char *unknown = NULL;

        if (!ctl->columns && !ctl->list_columns)
                return -1;
        if (!spec)
                return ctl_usage_error(_("option %s is not valid for '%s'"),
                                       ctl->columns ? "-o" : "--list-columns", verb);
        if (ctl->list_columns || g_ascii_strcasecmp(ctl->columns, COLUMNS_HELP) == 0) {
                print_columns(spec);
                return CTL_EXIT_OK;
        }
        chosen = choose_columns(spec, ctl->columns, &unknown);
        if (chosen && chosen->len == 0)
                return ctl_usage_error(_("-o needs column names (%s %s --list-columns lists them)"),
                                       CTL_PROGRAM, verb);
        if (!chosen)
                return ctl_usage_error(_("unknown column '%s' for %s (%s %s --list-columns lists them)"),
                                       unknown, verb, CTL_PROGRAM, verb);
        return -1;
}

/* ---- cells ---- */

static char *join_list(GVariant *record, const char *key)
{
        g_autofree const char **items = record_strv(record, key);

        return g_strjoinv(",", (char **) items);
}

static char *cell_text(const ListColumn *column, GVariant *record)
{
        if (column->cell)
                return column->cell(record);
        switch (column->format) {
        case CELL_SIZE:
                return format_size(record_uint(record, column->key));
        case CELL_FLAG:
                return g_strdup(record_bool(record, column->key) ? "1" : "0");
        case CELL_LIST:
                return join_list(record, column->key);
        case CELL_TEXT:
        default:
                return g_strdup(record_string(record, column->key));
        }
}

static void add_cells(Table *table, GPtrArray *chosen, GVariant *record)
{
        g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < chosen->len; i++)
                g_ptr_array_add(cells, cell_text(g_ptr_array_index(chosen, i), record));
        table_add_row(table, (const char *const *) cells->pdata);
}

static Table *columns_table(const Ctl *ctl, const ListSpec *spec, GPtrArray *records)
{
        g_autofree char *unknown = NULL;
        g_autoptr(GPtrArray) chosen = choose_columns(spec, ctl->columns, &unknown);
        Table *table = table_new_empty();

        /* listing_check_options() has refused unknown columns already. */
        g_return_val_if_fail(chosen, table);
        for (guint i = 0; i < chosen->len; i++) {
                const ListColumn *column = g_ptr_array_index(chosen, i);

                table_add_column(table, column->name, column->flags);
        }
        for (guint i = 0; i < records->len; i++)
                add_cells(table, chosen, g_ptr_array_index(records, i));
        return table;
}

static Table *fixed_table(const ListSpec *spec, GPtrArray *records)
{
        Table *table = table_new(spec->n_columns, spec->headers);

        for (guint i = 0; i < records->len; i++)
                spec->add_row(table, g_ptr_array_index(records, i));
        return table;
}

void ctl_print_list(const Ctl *ctl, const ListSpec *spec, GPtrArray *records)
{
        g_autoptr(Table) table = NULL;

        if (ctl->json) {
                print_records_json(records);
                return;
        }
        table = spec->columns ? columns_table(ctl, spec, records) : fixed_table(spec, records);
        table_print(table, ctl);
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
