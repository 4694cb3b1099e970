/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* usb-list */

#include "ctl.h"

static void usb_add_row(Table *table, GVariant *record)
{
        g_autofree char *bus = g_strdup_printf("%03" G_GUINT64_FORMAT, record_uint(record, "Bus"));
        g_autofree char *dev = g_strdup_printf("%03" G_GUINT64_FORMAT, record_uint(record, "Device"));
        g_autofree char *ids = g_strdup_printf("%s:%s", record_string(record, "VendorId"),
                                               record_string(record, "ProductId"));

        table_add_row(table, (const char *const[]) {
                bus, dev, record_string(record, "Id"), record_string(record, "Port"), ids,
                record_string(record, "Serial"), record_string(record, "Product"),
                record_string(record, "AttachedTo"),
        });
}

int verb_usb_list(Ctl *ctl, char **args)
{
        static const char *const headers[] = {
                "BUS", "DEV", "ID", "PORT", "VENDOR:PRODUCT", "SERIAL", "PRODUCT", "ATTACHED",
        };
        static const ListSpec spec = { "ListUsbDevices", G_N_ELEMENTS(headers), headers, usb_add_row };

        return ctl_show_list(ctl, &spec, NULL, NULL);
}
