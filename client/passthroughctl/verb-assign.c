/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* assign, unassign, assignments: the service's persistent assignments of
 * devices, named by match strings such as usb:serial=SN, to domains. */

#include <stdio.h>

#include "ctl.h"

int ctl_assign(Ctl *ctl, const char *device, const char *domain)
{
        static const ChangeCall spec = { "Assign", 2, NULL, 0 };
        char *args[] = { (char *) device, (char *) domain, NULL };

        return ctl_change(ctl, &spec, args, NULL);
}

/* Does libvirt know domain (by name or UUID)? Unknown when the objects
 * cannot be read: then nothing is said. */
static bool domain_unknown(Ctl *ctl, const char *domain)
{
        g_autoptr(GPtrArray) domains = NULL;

        if (ctl_fetch_objects(ctl, DOMAIN_INTERFACE, &domains) != CTL_EXIT_OK)
                return false;
        for (guint i = 0; i < domains->len; i++) {
                GVariant *record = g_ptr_array_index(domains, i);

                if (g_str_equal(record_string(record, "Name"), domain) ||
                    g_str_equal(record_string(record, "Uuid"), domain))
                        return false;
        }
        return true;
}

/* assign VM DEVICE: done even for a VM libvirt does not know (yet), with a
 * warning. */
int verb_assign(Ctl *ctl, char **args)
{
        int r;

        r = ctl_assign(ctl, args[1], args[0]);
        if (r != CTL_EXIT_OK)
                return r;
        printf(_("Assigned %s to %s\n"), args[1], args[0]);
        if (domain_unknown(ctl, args[0]))
                ctl_warning(_("libvirt knows no VM '%s' (yet): the device is attached once a VM "
                              "of that name or UUID runs."), args[0]);
        return CTL_EXIT_OK;
}

/* unassign DEVICE */
int verb_unassign(Ctl *ctl, char **args)
{
        static const ChangeCall spec = { "Unassign", 1, NULL, 0 };
        int r;

        r = ctl_change(ctl, &spec, args, NULL);
        if (r != CTL_EXIT_OK)
                return r;
        printf(_("Unassigned %s\n"), args[0]);
        return CTL_EXIT_OK;
}

static const char *yes_no(gboolean value)
{
        return value ? "yes" : "no";
}

static void assignment_add_row(Table *table, GVariant *record)
{
        table_add_row(table, (const char *const[]) {
                record_string(record, "Match"), record_string(record, "Kind"),
                record_string(record, "Domain"), yes_no(record_bool(record, "Present")),
                yes_no(record_bool(record, "Attached")), record_string(record, "Id"),
        });
}

int verb_assignments(Ctl *ctl, char **args)
{
        static const char *const headers[] = { "MATCH", "KIND", "DOMAIN", "PRESENT", "ATTACHED", "ID" };
        static const ListSpec spec = { "ListAssignments", G_N_ELEMENTS(headers), headers, assignment_add_row };

        return ctl_show_list(ctl, &spec, NULL, NULL);
}
