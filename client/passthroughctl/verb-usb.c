/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* usb-list (the UsbDevice objects), usb-attach, usb-detach */

#include <stdio.h>

#include "ctl.h"

/* The product name, else the manufacturer's; hubs (which cannot be
 * attached) are marked "(hub)". */
static char *usb_product(GVariant *record)
{
        const char *name = record_string(record, "Product");

        if (!name[0])
                name = record_string(record, "Manufacturer");
        if (!record_bool(record, "IsHub"))
                return g_strdup(name);
        return name[0] ? g_strdup_printf("(hub) %s", name) : g_strdup("(hub)");
}

static void usb_add_row(Table *table, GVariant *record)
{
        g_autofree char *bus = g_strdup_printf("%03" G_GUINT64_FORMAT, record_uint(record, "Bus"));
        g_autofree char *dev = g_strdup_printf("%03" G_GUINT64_FORMAT, record_uint(record, "Device"));
        g_autofree char *ids = g_strdup_printf("%s:%s", record_string(record, "VendorId"),
                                               record_string(record, "ProductId"));
        g_autofree char *product = usb_product(record);

        table_add_row(table, (const char *const[]) {
                bus, dev, record_string(record, "Id"), record_string(record, "Port"), ids,
                record_string(record, "Serial"), product, record_string(record, "State"),
                record_string(record, "AttachedTo"),
        });
}

/* As lsusb: by bus, then port (1-1.9 before 1-1.10). */
static int compare_usb(gconstpointer a, gconstpointer b)
{
        GVariant *x = *(GVariant *const *) a, *y = *(GVariant *const *) b;
        guint64 bus_x = record_uint(x, "Bus"), bus_y = record_uint(y, "Bus");

        if (bus_x != bus_y)
                return bus_x < bus_y ? -1 : 1;
        return natural_compare(record_string(x, "Port"), record_string(y, "Port"));
}

/* ATTACHED stays last: the bash completion reads the domain there. */
int verb_usb_list(Ctl *ctl, char **args)
{
        static const char *const headers[] = {
                "BUS", "DEV", "ID", "PORT", "VENDOR:PRODUCT", "SERIAL", "PRODUCT", "STATE", "ATTACHED",
        };
        static const ListSpec spec = {
                .n_columns = G_N_ELEMENTS(headers),
                .headers = headers,
                .add_row = usb_add_row,
                .interface = USB_INTERFACE,
                .compare = compare_usb,
        };

        return ctl_show_list(ctl, &spec, NULL, NULL);
}

int verb_usb_attach(Ctl *ctl, char **args)
{
        int r;

        r = ctl_attach(ctl, "AttachUsb", args, ctl_append_dry_run, NULL);
        if (r != CTL_EXIT_OK)
                return r;
        if (ctl->json)
                ctl_print_change_json(ctl, args, NULL);
        else if (ctl->dry_run)
                printf(_("Would attach USB %s to %s\n"), args[1], args[0]);
        else
                printf(_("Attached USB %s to %s\n"), args[1], args[0]);
        return CTL_EXIT_OK;
}

int verb_usb_detach(Ctl *ctl, char **args)
{
        return ctl_detach(ctl, "DetachUsb", "USB ", args);
}
