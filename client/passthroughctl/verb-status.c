/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthroughctl without a command: what each running VM holds from the
 * host, from the live model (the Domain objects' Devices). */

#include <stdio.h>

#include "ctl.h"

static const CtlObject *find_object(GPtrArray *objects, const char *path)
{
        for (guint i = 0; i < objects->len; i++) {
                const CtlObject *object = g_ptr_array_index(objects, i);

                if (g_str_equal(object->path, path))
                        return object;
        }
        return NULL;
}

/* "disk /dev/sdb (Samsung SSD 870)", "usb 46f4:0001:SN (QEMU USB HARDDRIVE)". */
static char *device_text(const CtlObject *device)
{
        bool disk = g_str_equal(device->interface, DISK_INTERFACE);
        const char *name = record_string(device->properties, disk ? "Path" : "Id");
        const char *model = record_string(device->properties, disk ? "Model" : "Product");
        g_autofree char *text = model[0] ? g_strdup_printf("%s %s (%s)", disk ? "disk" : "usb", name, model)
                                         : g_strdup_printf("%s %s", disk ? "disk" : "usb", name);

        return sanitize_text(text);
}

static void print_domain(GPtrArray *objects, GVariant *domain)
{
        g_autofree const char **devices = record_strv(domain, "Devices");
        g_autofree char *name = sanitize_text(record_string(domain, "Name"));
        guint shown = 0;

        for (guint i = 0; devices[i]; i++) {
                const CtlObject *device = find_object(objects, devices[i]);
                g_autofree char *text = NULL;

                if (!device)
                        continue;
                text = device_text(device);
                if (shown++ == 0)
                        printf("%s:\n", name);
                printf("  %s\n", text);
        }
        if (shown == 0)
                printf(_("%s: nothing from the host\n"), name);
}

/* The running Domain objects, by name. */
static GPtrArray *running_domains(GPtrArray *objects)
{
        GPtrArray *domains = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);

        for (guint i = 0; i < objects->len; i++) {
                const CtlObject *object = g_ptr_array_index(objects, i);

                if (g_str_equal(object->interface, DOMAIN_INTERFACE) &&
                    g_str_equal(record_string(object->properties, "State"), "running"))
                        g_ptr_array_add(domains, g_variant_ref(object->properties));
        }
        g_ptr_array_sort(domains, record_compare_name);
        return domains;
}

int verb_status(Ctl *ctl, char **args)
{
        g_autoptr(GPtrArray) objects = NULL;
        g_autoptr(GPtrArray) domains = NULL;
        int r;

        r = ctl_fetch_managed_objects(ctl, &objects);
        if (r != CTL_EXIT_OK)
                return r;
        domains = running_domains(objects);
        if (ctl->json) {
                print_records_json(domains);
                return CTL_EXIT_OK;
        }
        if (domains->len == 0)
                printf("%s\n", _("No VM is running."));
        for (guint i = 0; i < domains->len; i++)
                print_domain(objects, g_ptr_array_index(domains, i));
        ctl_hint(_("'%s --help' lists the commands; '%s disk-list' and '%s usb-list' show the host's devices."),
                 CTL_PROGRAM, CTL_PROGRAM, CTL_PROGRAM);
        return CTL_EXIT_OK;
}
