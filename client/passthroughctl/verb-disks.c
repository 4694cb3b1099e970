/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* disk-list (the Disk objects), disk-attach, disk-detach */

#include <stdio.h>
#include <unistd.h>

#include <libsmartcols.h>

#include "ctl.h"

/* The disk's State; a free disk the host itself needs shows as "system". */
static const char *disk_avail(GVariant *record)
{
        const char *state = record_string(record, "State");

        if (g_str_equal(state, "free") && record_bool(record, "System"))
                return "system";
        return state;
}

static char *disk_avail_cell(GVariant *record)
{
        return g_strdup(disk_avail(record));
}

static bool is_loop(GVariant *record)
{
        return g_str_equal(record_string(record, "Transport"), "loop");
}

/* lsblk's TYPE (disk, loop) and TRAN (which a loop device has none of). */
static char *disk_type_cell(GVariant *record)
{
        return g_strdup(is_loop(record) ? "loop" : "disk");
}

static char *disk_tran_cell(GVariant *record)
{
        return g_strdup(is_loop(record) ? "" : record_string(record, "Transport"));
}

/* Names from lsblk mean what they mean there (for a whole disk); the others
 * are the service's own and named so that lsblk has no column of that name. */
static const ListColumn disk_columns[] = {
        { "NAME", N_("kernel name (lsblk NAME)"), "Name", CELL_TEXT, NULL, 0 },
        { "PATH", N_("device node (lsblk PATH)"), "Path", CELL_TEXT, NULL, 0 },
        { "SIZE", N_("size, binary units (lsblk SIZE)"), "Size", CELL_SIZE, NULL, SCOLS_FL_RIGHT },
        { "TYPE", N_("disk or loop (lsblk TYPE)"), NULL, CELL_TEXT, disk_type_cell, 0 },
        { "TRAN", N_("transport: sata, nvme, usb, virtio, ... (lsblk TRAN)"), NULL, CELL_TEXT, disk_tran_cell, 0 },
        { "SERIAL", N_("serial number (lsblk SERIAL)"), "Serial", CELL_TEXT, NULL, 0 },
        { "FSTYPE", N_("file system on the whole disk, of a free disk (lsblk FSTYPE)"), "FsType", CELL_TEXT, NULL, 0 },
        { "LABEL", N_("its label, of a free disk (lsblk LABEL)"), "Label", CELL_TEXT, NULL, 0 },
        { "PTTYPE", N_("partition table: gpt, dos, of a free disk (lsblk PTTYPE)"), "PartitionTable", CELL_TEXT, NULL, 0 },
        { "MODEL", N_("model (lsblk MODEL)"), "Model", CELL_TEXT, NULL, 0 },
        { "WWN", N_("world wide name (lsblk WWN)"), "Wwn", CELL_TEXT, NULL, 0 },
        { "RM", N_("removable: 1 or 0 (lsblk RM)"), "Removable", CELL_FLAG, NULL, SCOLS_FL_RIGHT },
        { "RO", N_("read-only: 1 or 0 (lsblk RO)"), "ReadOnly", CELL_FLAG, NULL, SCOLS_FL_RIGHT },
        { "ROTA", N_("rotational: 1 or 0 (lsblk ROTA)"), "Rotational", CELL_FLAG, NULL, SCOLS_FL_RIGHT },
        { "DEVICE-ID", N_("the service's Id of the disk (for disk-attach, assign)"), "Id", CELL_TEXT, NULL, 0 },
        { "MOUNTED", N_("where the disk, its partitions and what is built on them are mounted"),
          "Mountpoints", CELL_LIST, NULL, 0 },
        { "IN-USE", N_("what the host uses it for: mounted, swap, held by dm-0, ..."), "InUse", CELL_TEXT, NULL, 0 },
        { "AVAIL", N_("free, system (needs an administrator), busy or attached"), NULL, CELL_TEXT,
          disk_avail_cell, 0 },
        { "VM", N_("the running VM that has it (or part of it)"), "AttachedTo", CELL_TEXT, NULL, 0 },
        { "REASON", N_("why it is busy or attached"), "StateReason", CELL_TEXT, NULL, 0 },
        { "ATTACHED-BY", N_("passthrough, or other (another tool attached it)"), "AttachedBy", CELL_TEXT, NULL, 0 },
        { "SYSTEM", N_("the host needs it: 1 or 0"), "System", CELL_FLAG, NULL, SCOLS_FL_RIGHT },
        { "BUSES", N_("buses disk-attach can use: virtio, scsi"), "Buses", CELL_LIST, NULL, 0 },
        { "MODES", N_("modes disk-attach can use: disk, lun"), "Modes", CELL_LIST, NULL, 0 },
};

const ListSpec disk_list_spec = {
        .interface = DISK_INTERFACE,
        .compare = record_compare_name /* by kernel name, as lsblk: loop0, nvme0n1, sda, sdb, ..., sdaa */,
        .columns = disk_columns,
        .n_known = G_N_ELEMENTS(disk_columns),
        .default_columns = "NAME,SIZE,TRAN,SERIAL,FSTYPE,LABEL,MODEL,MOUNTED,AVAIL,VM",
};

/* Warnings (always) for the disks that cannot simply be attached; the hint
 * (on a terminal) how to attach one. */
static void print_disk_notes(GPtrArray *disks)
{
        bool busy = false, system = false;

        for (guint i = 0; i < disks->len; i++) {
                const char *avail = disk_avail(g_ptr_array_index(disks, i));

                busy = busy || g_str_equal(avail, "busy") || g_str_equal(avail, "attached");
                system = system || g_str_equal(avail, "system");
        }
        if (busy)
                ctl_warning(_("busy and attached disks cannot be attached now; -o +REASON says why."));
        if (system)
                ctl_warning(_("system disks need an administrator's authorization to be attached "
                              "(polkit action org.example.passthrough1.attach-system-disk)."));
        ctl_hint(_("Attach one with: %s disk-attach VM /dev/NAME [NAME]"), CTL_PROGRAM);
}

int verb_disk_list(Ctl *ctl, char **args)
{
        g_autoptr(GPtrArray) disks = NULL;
        int r;

        r = ctl_show_list(ctl, &disk_list_spec, NULL, &disks);
        if (r != CTL_EXIT_OK)
                return r;
        print_disk_notes(disks);
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
        if (ctl->json)
                ctl_print_change_json(ctl, args, target);
        else if (ctl->dry_run)
                printf(_("Would attach %s to %s as %s\n"), args[1], args[0], target);
        else
                printf(_("Attached %s to %s as %s\n"), args[1], args[0], target);
        return CTL_EXIT_OK;
}

int verb_disk_detach(Ctl *ctl, char **args)
{
        return ctl_detach(ctl, "DetachDisk", "", args);
}
