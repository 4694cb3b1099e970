/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attached, disk-attached, usb-attached: a domain's host devices, from
 * ListAttached, all of them or those of one kind. */

#include <string.h>

#include "ctl.h"

/* A key USB entries do not have: "-". */
static const char *or_dash(const char *s)
{
        return *s ? s : "-";
}

static void attached_add_row(Table *table, GVariant *record)
{
        table_add_row(table, (const char *const[]) {
                record_string(record, "Kind"), record_string(record, "Id"),
                record_string(record, "Source"), record_string(record, "Target"),
                or_dash(record_string(record, "Bus")), or_dash(record_string(record, "Mode")),
        });
}

static void keep_kind(GPtrArray *records, const char *kind)
{
        for (guint i = records->len; i > 0; i--)
                if (strcmp(record_string(g_ptr_array_index(records, i - 1), "Kind"), kind) != 0)
                        g_ptr_array_remove_index(records, i - 1);
}

/* kind: "disk", "usb" or NULL for all. */
static int show_attached(Ctl *ctl, const char *domain, const char *kind)
{
        static const char *const headers[] = { "KIND", "ID", "SOURCE", "TARGET", "BUS", "MODE" };
        static const ListSpec spec = { "ListAttached", G_N_ELEMENTS(headers), headers, attached_add_row };
        g_autoptr(GPtrArray) records = NULL;
        int r;

        r = ctl_fetch_records(ctl, spec.method, domain, &records);
        if (r != CTL_EXIT_OK)
                return r;
        if (kind)
                keep_kind(records, kind);
        ctl_print_list(ctl, &spec, records);
        return CTL_EXIT_OK;
}

int verb_attached(Ctl *ctl, char **args)
{
        return show_attached(ctl, args[0], NULL);
}

int verb_disk_attached(Ctl *ctl, char **args)
{
        return show_attached(ctl, args[0], "disk");
}

int verb_usb_attached(Ctl *ctl, char **args)
{
        return show_attached(ctl, args[0], "usb");
}
