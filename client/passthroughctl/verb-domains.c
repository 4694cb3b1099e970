/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domains: the Domain objects */

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
        static const ListSpec spec = {
                .n_columns = G_N_ELEMENTS(headers),
                .headers = headers,
                .add_row = domain_add_row,
                .interface = DOMAIN_INTERFACE,
                .compare = record_compare_name,
        };

        return ctl_show_list(ctl, &spec, NULL, NULL);
}
