/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domains */

#include "ctl.h"

static void domain_add_row(Table *table, GVariant *record)
{
        table_add_row(table, (const char *const[]) {
                record_string(record, "Name"), record_string(record, "State"),
                record_string(record, "Uuid"),
        });
}

int verb_domains(Ctl *ctl, char **args)
{
        static const char *const headers[] = { "NAME", "STATE", "UUID" };
        static const ListSpec spec = { "ListDomains", G_N_ELEMENTS(headers), headers, domain_add_row };

        return ctl_show_list(ctl, &spec, NULL, NULL);
}
