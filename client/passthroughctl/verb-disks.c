/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* disk-list (the Disk objects), disk-attach, disk-detach */

#include <stdio.h>

#include "ctl.h"

static char *disk_mountpoint(GVariant *record)
{
        g_autofree const char **mountpoints = record_strv(record, "Mountpoints");
        guint n = g_strv_length((char **) mountpoints);

        if (n == 0)
                return g_strdup("");
        if (n == 1)
                return g_strdup(mountpoints[0]);
        return g_strdup_printf("%s +%u", mountpoints[0], n - 1);
}

/* The disk's State; a free disk the host itself needs shows as "system". */
static const char *disk_state(GVariant *record)
{
        const char *state = record_string(record, "State");

        if (g_str_equal(state, "free") && record_bool(record, "System"))
                return "system";
        return state;
}

static void disk_add_row(Table *table, GVariant *record)
{
        g_autofree char *size = format_size(record_uint(record, "Size"));
        g_autofree char *mountpoint = disk_mountpoint(record);

        table_add_row(table, (const char *const[]) {
                record_string(record, "Name"), size, record_string(record, "Transport"),
                mountpoint, record_string(record, "Model"), disk_state(record),
                record_string(record, "StateReason"),
        });
}

/* By kernel name, as lsblk: loop0, nvme0n1, sda, sdb, ..., sdaa. */
static int compare_disks(gconstpointer a, gconstpointer b)
{
        return natural_compare(record_string(*(GVariant *const *) a, "Name"),
                                record_string(*(GVariant *const *) b, "Name"));
}

static void print_disk_hints(GPtrArray *disks)
{
        bool warn = false;

        for (guint i = 0; i < disks->len; i++)
                warn = warn || !g_str_equal(disk_state(g_ptr_array_index(disks, i)), "free");
        printf("\nAttach with: " CTL_PROGRAM " disk-attach VM /dev/NAME [name]\n");
        if (warn)
                printf("Warning: busy, attached and system disks cannot be attached; REASON says why.\n");
}

int verb_disk_list(Ctl *ctl, char **args)
{
        static const char *const headers[] = {
                "NAME", "SIZE", "TYPE", "MOUNTPOINT", "MODEL", "STATE", "REASON",
        };
        static const ListSpec spec = {
                .n_columns = G_N_ELEMENTS(headers),
                .headers = headers,
                .add_row = disk_add_row,
                .interface = DISK_INTERFACE,
                .compare = compare_disks,
        };
        g_autoptr(GPtrArray) disks = NULL;
        int r;

        r = ctl_show_list(ctl, &spec, NULL, &disks);
        if (r != CTL_EXIT_OK)
                return r;
        if (!ctl->json && ctl->legend)
                print_disk_hints(disks);
        return CTL_EXIT_OK;
}

static int append_attach_options(const Ctl *ctl, sd_bus_message *m, char **args)
{
        const char *name = args[2];
        int r = ctl_append_dry_run(ctl, m, args);

        if (r >= 0 && name)
                r = ctl_append_option_string(m, "name", name);
        if (r >= 0 && ctl->target)
                r = ctl_append_option_string(m, "target", ctl->target);
        if (r >= 0 && ctl->readonly)
                r = ctl_append_option_bool(m, "readonly", true);
        if (r >= 0 && ctl->scsi)
                r = ctl_append_option_string(m, "bus", "scsi");
        if (r >= 0 && ctl->lun)
                r = ctl_append_option_string(m, "mode", "lun");
        if (r >= 0 && ctl->rawio)
                r = ctl_append_option_bool(m, "rawio", true);
        if (r >= 0 && ctl->no_discard)
                r = ctl_append_option_bool(m, "discard", false);
        return r;
}

int verb_disk_attach(Ctl *ctl, char **args)
{
        g_autoptr(sd_bus_message) reply = NULL;
        const char *target;
        int r;

        r = ctl_attach(ctl, "AttachDisk", args, append_attach_options, &reply);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_message_read(reply, "s", &target);
        if (r < 0)
                return ctl_parse_failure(r);
        printf("%s %s to %s as %s\n", ctl->dry_run ? "Would attach" : "Attached", args[1], args[0], target);
        return CTL_EXIT_OK;
}

int verb_disk_detach(Ctl *ctl, char **args)
{
        return ctl_detach(ctl, "DetachDisk", "", args);
}
