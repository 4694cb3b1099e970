/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* usb-list (the UsbDevice objects), usb-attach, usb-detach */

#include <stdio.h>

#include <libsmartcols.h>

#include "ctl.h"

static char *usb_bus_cell(GVariant *record)
{
        return g_strdup_printf("%03" G_GUINT64_FORMAT, record_uint(record, "Bus"));
}

static char *usb_dev_cell(GVariant *record)
{
        return g_strdup_printf("%03" G_GUINT64_FORMAT, record_uint(record, "Device"));
}

/* lsusb's ID: vendor:product. */
static char *usb_id_cell(GVariant *record)
{
        return g_strdup_printf("%s:%s", record_string(record, "VendorId"), record_string(record, "ProductId"));
}

/* BUS, DEV and ID as lsusb shows them; names the device gives, else those
 * of the USB ID database (the service picks). */
static const ListColumn usb_columns[] = {
        { "BUS", N_("bus number (lsusb Bus)"), NULL, CELL_TEXT, usb_bus_cell, 0 },
        { "DEV", N_("device number on the bus (lsusb Device)"), NULL, CELL_TEXT, usb_dev_cell, 0 },
        { "ID", N_("vendor:product (lsusb ID)"), NULL, CELL_TEXT, usb_id_cell, 0 },
        { "VENDOR", N_("manufacturer name: the device's, else the USB ID database's"), "Manufacturer",
          CELL_TEXT, NULL, 0 },
        { "PRODUCT", N_("product name: the device's, else the USB ID database's"), "Product", CELL_TEXT, NULL, 0 },
        { "SERIAL", N_("serial number"), "Serial", CELL_TEXT, NULL, 0 },
        { "PORT", N_("physical port path, 1-2.3"), "Port", CELL_TEXT, NULL, 0 },
        { "DEVICE-ID", N_("the service's Id of the device (for usb-attach, assign)"), "Id", CELL_TEXT, NULL, 0 },
        { "HUB", N_("a hub: 1 or 0 (hubs are not attached)"), "IsHub", CELL_FLAG, NULL, SCOLS_FL_RIGHT },
        { "AVAIL", N_("free, busy (a disk on it is used), attached or unavailable (a hub)"), "State",
          CELL_TEXT, NULL, 0 },
        { "VM", N_("the running VM that has it"), "AttachedTo", CELL_TEXT, NULL, 0 },
        { "REASON", N_("why it is busy, attached or unavailable"), "StateReason", CELL_TEXT, NULL, 0 },
        { "ATTACHED-BY", N_("passthrough, or other (another tool attached it)"), "AttachedBy", CELL_TEXT, NULL, 0 },
};

/* As lsusb: by bus, then port (1-1.9 before 1-1.10). */
static int compare_usb(gconstpointer a, gconstpointer b)
{
        GVariant *x = *(GVariant *const *) a, *y = *(GVariant *const *) b;
        guint64 bus_x = record_uint(x, "Bus"), bus_y = record_uint(y, "Bus");

        if (bus_x != bus_y)
                return bus_x < bus_y ? -1 : 1;
        return natural_compare(record_string(x, "Port"), record_string(y, "Port"));
}

const ListSpec usb_list_spec = {
        .interface = USB_INTERFACE,
        .compare = compare_usb,
        .columns = usb_columns,
        .n_known = G_N_ELEMENTS(usb_columns),
        .default_columns = "BUS,DEV,ID,VENDOR,PRODUCT,SERIAL,PORT,DEVICE-ID,AVAIL,VM",
};

int verb_usb_list(Ctl *ctl, char **args)
{
        return ctl_show_list(ctl, &usb_list_spec, NULL, NULL);
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
