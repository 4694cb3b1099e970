/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domains: the Domain objects */

#include "ctl.h"

static char *domain_devices_cell(GVariant *record)
{
        g_autofree const char **devices = record_strv(record, "Devices");

        return g_strdup_printf("%u", g_strv_length((char **) devices));
}

static const ListColumn domain_columns[] = {
        { "NAME", N_("the VM's name"), "Name", CELL_TEXT, NULL, 0 },
        { "STATE", N_("running, paused, shut off, ... (as virsh list)"), "State", CELL_TEXT, NULL, 0 },
        { "UUID", N_("the VM's UUID"), "Uuid", CELL_TEXT, NULL, 0 },
        { "DEVICES", N_("how many host devices it has"), NULL, CELL_TEXT, domain_devices_cell, 0 },
};

const ListSpec domains_spec = {
        .interface = DOMAIN_INTERFACE,
        .compare = record_compare_name,
        .columns = domain_columns,
        .n_known = G_N_ELEMENTS(domain_columns),
        .default_columns = "NAME,STATE,UUID",
};

int verb_domains(Ctl *ctl, char **args)
{
        return ctl_show_list(ctl, &domains_spec, NULL, NULL);
}
