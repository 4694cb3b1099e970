/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attached, disk-attached, usb-attached: a domain's host devices, from
 * ListAttached, all of them or those of one kind. */

#include <string.h>

#include <libsmartcols.h>

#include "ctl.h"

/* A key USB entries do not have: "-". */
static char *or_dash(GVariant *record, const char *key)
{
        const char *s = record_string(record, key);

        return g_strdup(*s ? s : "-");
}

static char *attached_bus_cell(GVariant *record)
{
        return or_dash(record, "Bus");
}

static char *attached_mode_cell(GVariant *record)
{
        return or_dash(record, "Mode");
}

static char *attached_discard_cell(GVariant *record)
{
        if (!g_str_equal(record_string(record, "Kind"), "disk"))
                return g_strdup("-");
        return g_strdup(record_bool(record, "Discard") ? "1" : "0");
}

static const ListColumn attached_columns[] = {
        { "KIND", N_("disk or usb"), "Kind", CELL_TEXT, NULL, 0 },
        { "DEVICE-ID", N_("the service's Id of the device"), "Id", CELL_TEXT, NULL, 0 },
        { "SOURCE", N_("the host device: /dev/sdb, or BUS:DEV of a USB device"), "Source", CELL_TEXT, NULL, 0 },
        { "TARGET", N_("the guest's target (vdb, sda) or the USB hostdev's alias"), "Target", CELL_TEXT, NULL, 0 },
        { "BUS", N_("a disk's bus: virtio, scsi"), NULL, CELL_TEXT, attached_bus_cell, 0 },
        { "MODE", N_("a disk's mode: disk, lun"), NULL, CELL_TEXT, attached_mode_cell, 0 },
        { "DISCARD", N_("a disk's guest TRIM reaches the host: 1 or 0"), NULL, CELL_TEXT, attached_discard_cell,
          SCOLS_FL_RIGHT },
};

const ListSpec attached_spec = {
        .method = "ListAttached",
        .columns = attached_columns,
        .n_known = G_N_ELEMENTS(attached_columns),
        .default_columns = "KIND,DEVICE-ID,SOURCE,TARGET,BUS,MODE",
};

static void keep_kind(GPtrArray *records, const char *kind)
{
        for (guint i = records->len; i > 0; i--)
                if (strcmp(record_string(g_ptr_array_index(records, i - 1), "Kind"), kind) != 0)
                        g_ptr_array_remove_index(records, i - 1);
}

/* kind: "disk", "usb" or NULL for all. */
static int show_attached(Ctl *ctl, const char *domain, const char *kind)
{
        g_autoptr(GPtrArray) records = NULL;
        int r;

        r = ctl_fetch_records(ctl, attached_spec.method, domain, &records);
        if (r != CTL_EXIT_OK)
                return r;
        if (kind)
                keep_kind(records, kind);
        ctl_print_list(ctl, &attached_spec, records);
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
