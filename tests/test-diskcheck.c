/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the disk usage rules, the device-string checks and, as
 * root, resolving a real loop device. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "disks.h"
#include "errors.h"
#include "udev-util.h"

#define MIB (1024 * 1024)
#define LOOP_SIZE (64 * MIB)

/* ---------------------------------------------------------------- builders */

static void part_free(BlockPart *part) {
        g_free(part->name);
        g_ptr_array_unref(part->holders);
        g_free(part);
}

static DiskInfo *make_disk(const char *name, guint maj, guint min, const char *transport) {
        DiskInfo *disk = g_new0(DiskInfo, 1);

        disk->name = g_strdup(name);
        disk->path = g_strconcat("/dev/", name, NULL);
        disk->id = g_strdup(name);
        disk->devnum = makedev(maj, min);
        disk->size = 8 * 1024 * (guint64) MIB;
        disk->model = g_strdup("");
        disk->serial = g_strdup("");
        disk->wwn = g_strdup("");
        disk->transport = g_strdup(transport);
        disk->partitions = g_ptr_array_new_with_free_func((GDestroyNotify) part_free);
        disk->holders = g_ptr_array_new_with_free_func(g_free);
        disk->by_id = g_ptr_array_new_with_free_func(g_free);
        return disk;
}

static BlockPart *add_part(DiskInfo *disk, const char *name, guint maj, guint min) {
        BlockPart *part = g_new0(BlockPart, 1);

        part->name = g_strdup(name);
        part->devnum = makedev(maj, min);
        part->holders = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(disk->partitions, part);
        return part;
}

static HostUsage *make_host(const char *mountinfo, const char *swaps) {
        HostUsage *host = g_new0(HostUsage, 1);

        host->mounts = mount_table_parse(mountinfo);
        host->swaps = swaps_parse(swaps);
        host->swap_devnums = g_array_new(FALSE, FALSE, sizeof(dev_t));
        host->critical_disks = g_ptr_array_new_with_free_func(g_free);
        host->critical_reasons = g_ptr_array_new_with_free_func(g_free);
        return host;
}

static void add_swap_devnum(HostUsage *host, guint maj, guint min) {
        dev_t devnum = makedev(maj, min);

        g_array_append_val(host->swap_devnums, devnum);
}

static void add_critical(HostUsage *host, const char *disk, const char *reason) {
        g_ptr_array_add(host->critical_disks, g_strdup(disk));
        g_ptr_array_add(host->critical_reasons, g_strdup(reason));
}

static gboolean array_has(const GPtrArray *array, const char *s) {
        for (guint i = 0; i < array->len; i++)
                if (g_str_equal(array->pdata[i], s))
                        return TRUE;
        return FALSE;
}

/* Asserts the check fails with this code and message. */
static void assert_refused(const DiskInfo *disk, const DiskUsage *usage, gboolean readonly,
                           PtError code, const char *message) {
        g_autoptr(GError) error = NULL;

        g_assert_false(disk_check_attachable(disk, usage, readonly, &error));
        g_assert_error(error, PT_ERROR, (gint) code);
        g_assert_cmpstr(error->message, ==, message);
}

static void assert_attachable(const DiskInfo *disk, const DiskUsage *usage, gboolean readonly) {
        g_autoptr(GError) error = NULL;

        g_assert_true(disk_check_attachable(disk, usage, readonly, &error));
        g_assert_no_error(error);
}

#define ROOT_ON_VDA "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
#define SWAPS_HEADER "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

/* ---------------------------------------------------------------- usage */

static void test_usage_free_loop(void) {
        g_autoptr(DiskInfo) disk = make_disk("loop3", 7, 3, "loop");
        g_autoptr(HostUsage) host = make_host(ROOT_ON_VDA, SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;

        add_part(disk, "loop3p1", 259, 0);
        add_critical(host, "vda", "holds /");
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "");
        g_assert_cmpuint(usage->mountpoints->len, ==, 0);
        g_assert_false(usage->critical);
        g_assert_null(usage->critical_reason);
        g_assert_false(usage->system);
        g_assert_cmpint(usage->busy, ==, DISK_BUSY_NONE);
        assert_attachable(disk, usage, FALSE);
}

static void test_usage_mounted_partition(void) {
        g_autoptr(DiskInfo) disk = make_disk("loop3", 7, 3, "loop");
        g_autoptr(HostUsage) host = make_host(
                ROOT_ON_VDA "40 27 259:0 / /mnt/x rw,relatime shared:9 - ext4 /dev/loop3p1 rw\n",
                SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;

        add_part(disk, "loop3p1", 259, 0);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "loop3p1 mounted at /mnt/x");
        g_assert_cmpuint(usage->mountpoints->len, ==, 1);
        g_assert_cmpstr(usage->mountpoints->pdata[0], ==, "/mnt/x");
        g_assert_cmpint(usage->busy, ==, DISK_BUSY_MOUNTED);
        g_assert_cmpstr(usage->busy_device, ==, "/dev/loop3p1");
        g_assert_false(usage->critical);
        g_assert_false(usage->system);
        assert_refused(disk, usage, FALSE, PT_ERROR_DEVICE_BUSY,
                       "/dev/loop3p1 is mounted at /mnt/x. Unmount the device before attaching: "
                       "sudo umount /dev/loop3p1");
}

/* A whole disk with a file system, mounted at a path with a space. */
static void test_usage_mounted_whole(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdb", 8, 16, "usb");
        g_autoptr(HostUsage) host = make_host(
                ROOT_ON_VDA "41 27 8:16 / /media/USB\\040STICK rw - vfat /dev/sdb rw\n", SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = disk_usage_compute(disk, host);

        g_assert_cmpstr(usage->in_use, ==, "mounted at /media/USB STICK");
        g_assert_cmpstr(usage->busy_device, ==, "/dev/sdb");
        assert_refused(disk, usage, FALSE, PT_ERROR_DEVICE_BUSY,
                       "/dev/sdb is mounted at /media/USB STICK. Unmount the device before "
                       "attaching: sudo umount /dev/sdb");
}

/* btrfs mounts show 0:N; the source path still ties them to the partition. */
static void test_usage_btrfs_source(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdc", 8, 32, "sata");
        g_autoptr(HostUsage) host = make_host(
                ROOT_ON_VDA
                "42 27 0:45 /@home /home rw - btrfs /dev/sdc2 rw,subvol=/@home\n"
                "43 27 0:45 /@srv /srv rw - btrfs /dev/sdc2 rw,subvol=/@srv\n",
                SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;

        add_part(disk, "sdc1", 8, 33);
        add_part(disk, "sdc2", 8, 34);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "sdc2 mounted at /home");
        g_assert_cmpuint(usage->mountpoints->len, ==, 2);
        g_assert_true(array_has(usage->mountpoints, "/home"));
        g_assert_true(array_has(usage->mountpoints, "/srv"));
        g_assert_false(usage->critical);
        g_assert_true(usage->system);   /* internal SATA disk */
}

/* The same partition bind-mounted twice: both mount points, reported once each. */
static void test_usage_bind_mounts(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdb", 8, 16, "usb");
        g_autoptr(HostUsage) host = make_host(
                ROOT_ON_VDA
                "44 27 8:17 / /mnt/data rw shared:5 - ext4 /dev/sdb1 rw\n"
                "45 27 8:17 /sub /srv/sub rw shared:5 - ext4 /dev/sdb1 rw\n"
                "46 27 8:17 / /mnt/data rw shared:5 - ext4 /dev/sdb1 rw\n",
                SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;

        add_part(disk, "sdb1", 8, 17);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpuint(usage->mountpoints->len, ==, 2);
        g_assert_cmpstr(usage->mountpoints->pdata[0], ==, "/mnt/data");
        g_assert_cmpstr(usage->mountpoints->pdata[1], ==, "/srv/sub");
        g_assert_cmpstr(usage->in_use, ==, "sdb1 mounted at /mnt/data");
}

/* Active swap makes a disk critical, and the message says how to end it. */
static void test_usage_swap_partition(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdb", 8, 16, "usb");
        g_autoptr(HostUsage) host = make_host(ROOT_ON_VDA, SWAPS_HEADER "/dev/sdb2 partition 2097148 0 -2\n");
        g_autoptr(DiskUsage) usage = NULL;

        add_part(disk, "sdb1", 8, 17);
        add_part(disk, "sdb2", 8, 18);
        add_swap_devnum(host, 8, 18);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "sdb2 used as swap");
        g_assert_cmpint(usage->busy, ==, DISK_BUSY_SWAP);
        g_assert_true(usage->critical);
        g_assert_true(usage->system);
        g_assert_cmpstr(usage->critical_reason, ==, "holds swap");
        assert_refused(disk, usage, FALSE, PT_ERROR_SYSTEM_DEVICE,
                       "/dev/sdb holds swap and cannot be given to a VM while swap is on. "
                       "Turn it off first: sudo swapoff /dev/sdb2");
}

/* Found by the /proc/swaps path alone (no device number known). */
static void test_usage_swap_by_path(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdb", 8, 16, "usb");
        g_autoptr(HostUsage) host = make_host("", SWAPS_HEADER "/dev/sdb partition 2097148 0 -2\n");
        g_autoptr(DiskUsage) usage = disk_usage_compute(disk, host);

        g_assert_cmpstr(usage->in_use, ==, "swap");
        g_assert_true(usage->critical);
        g_assert_cmpstr(usage->busy_device, ==, "/dev/sdb");
}

/* A usage that is busy with swap but not critical gets DeviceBusy. */
static void test_check_swap_busy(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdb", 8, 16, "usb");
        g_autoptr(DiskUsage) usage = g_new0(DiskUsage, 1);

        usage->mountpoints = g_ptr_array_new_with_free_func(g_free);
        usage->in_use = g_strdup("sdb2 used as swap");
        usage->busy = DISK_BUSY_SWAP;
        usage->busy_device = g_strdup("/dev/sdb2");
        assert_refused(disk, usage, FALSE, PT_ERROR_DEVICE_BUSY,
                       "/dev/sdb2 is used as swap. Turn swap off on it before attaching: "
                       "sudo swapoff /dev/sdb2");

        /* in_use set by someone who did not fill busy: still refused */
        usage->busy = DISK_BUSY_NONE;
        g_clear_pointer(&usage->busy_device, g_free);
        assert_refused(disk, usage, FALSE, PT_ERROR_DEVICE_BUSY,
                       "/dev/sdb is in use (sdb2 used as swap). Free it before attaching");
}

static void test_usage_holders(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdb", 8, 16, "usb");
        g_autoptr(HostUsage) host = make_host(ROOT_ON_VDA, SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;

        g_ptr_array_add(disk->holders, g_strdup("dm-0"));
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "held by dm-0");
        g_assert_cmpint(usage->busy, ==, DISK_BUSY_HELD);
        g_assert_false(usage->critical);
        assert_refused(disk, usage, FALSE, PT_ERROR_DEVICE_BUSY,
                       "/dev/sdb is held by dm-0 (device-mapper/LVM/RAID). Deactivate it first, "
                       "e.g. sudo dmsetup remove /dev/dm-0, or sudo vgchange -an VOLUME_GROUP for LVM");
}

static void test_usage_partition_in_raid(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdc", 8, 32, "sata");
        g_autoptr(HostUsage) host = make_host(ROOT_ON_VDA, SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;
        BlockPart *part;

        part = add_part(disk, "sdc1", 8, 33);
        g_ptr_array_add(part->holders, g_strdup("md127"));
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "sdc1 held by md127");
        assert_refused(disk, usage, FALSE, PT_ERROR_DEVICE_BUSY,
                       "/dev/sdc1 is held by md127 (RAID). Stop the array first: "
                       "sudo mdadm --stop /dev/md127");
}

/* Mounted beats swap beats held, whichever partition comes first. */
static void test_usage_priority(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdb", 8, 16, "usb");
        g_autoptr(HostUsage) host = make_host(
                ROOT_ON_VDA "47 27 8:19 / /mnt/three rw - ext4 /dev/sdb3 rw\n",
                SWAPS_HEADER "/dev/sdb2 partition 1 0 -2\n");
        g_autoptr(DiskUsage) usage = NULL;
        BlockPart *first;

        first = add_part(disk, "sdb1", 8, 17);
        g_ptr_array_add(first->holders, g_strdup("dm-3"));
        add_part(disk, "sdb2", 8, 18);
        add_part(disk, "sdb3", 8, 19);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "sdb3 mounted at /mnt/three");
}

static void test_usage_critical_root(void) {
        g_autoptr(DiskInfo) disk = make_disk("vda", 254, 0, "virtio");
        g_autoptr(HostUsage) host = make_host(ROOT_ON_VDA, SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;

        add_critical(host, "vda", "holds /");
        usage = disk_usage_compute(disk, host);
        g_assert_true(usage->critical);
        g_assert_true(usage->system);
        g_assert_cmpstr(usage->critical_reason, ==, "holds /");
        g_assert_cmpstr(usage->in_use, ==, "mounted at /");
        g_assert_true(array_has(usage->mountpoints, "/"));
        assert_refused(disk, usage, TRUE, PT_ERROR_SYSTEM_DEVICE,
                       "/dev/vda holds / and cannot be given to a VM");
}

/* Without host->critical_disks the disk's own mounts still mark it. */
static void test_usage_critical_own_mounts(void) {
        g_autoptr(DiskInfo) disk = make_disk("sda", 8, 0, "nvme");
        g_autoptr(HostUsage) host = make_host(
                "27 1 8:2 / / rw - ext4 /dev/sda2 rw\n"
                "28 27 8:1 / /boot rw - ext4 /dev/sda1 rw\n"
                "29 28 8:3 / /boot/efi rw - vfat /dev/sda3 rw\n",
                SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;

        add_part(disk, "sda1", 8, 1);
        add_part(disk, "sda2", 8, 2);
        add_part(disk, "sda3", 8, 3);
        usage = disk_usage_compute(disk, host);
        g_assert_true(usage->critical);
        g_assert_cmpstr(usage->critical_reason, ==, "holds /, /boot, /boot/efi");
        assert_refused(disk, usage, FALSE, PT_ERROR_SYSTEM_DEVICE,
                       "/dev/sda holds /, /boot, /boot/efi and cannot be given to a VM");
}

/* Root on LVM: nothing of sda is mounted directly, the walk named it. */
static void test_usage_critical_lvm(void) {
        g_autoptr(DiskInfo) disk = make_disk("sda", 8, 0, "sata");
        g_autoptr(HostUsage) host = make_host("27 1 253:0 / / rw - ext4 /dev/mapper/vg-root rw\n",
                                              SWAPS_HEADER "/dev/dm-1 partition 1 0 -2\n");
        g_autoptr(DiskUsage) usage = NULL;
        BlockPart *part;

        part = add_part(disk, "sda2", 8, 2);
        g_ptr_array_add(part->holders, g_strdup("dm-0"));
        g_ptr_array_add(part->holders, g_strdup("dm-1"));
        add_swap_devnum(host, 253, 1);
        add_critical(host, "sda", "holds /, swap");
        usage = disk_usage_compute(disk, host);
        g_assert_true(usage->critical);
        g_assert_cmpstr(usage->critical_reason, ==, "holds /, swap");
        /* The swap on dm-1 (over sda2) is seen through the holder. */
        g_assert_cmpstr(usage->in_use, ==, "dm-1 used as swap");
        assert_refused(disk, usage, FALSE, PT_ERROR_SYSTEM_DEVICE,
                       "/dev/sda holds /, swap and cannot be given to a VM");
}

/* system: internal, non-removable disks; not critical, so not refused here. */
static void test_usage_system(void) {
        static const struct {
                const char *transport;
                gboolean removable, system;
        } cases[] = {
                { "sata", FALSE, TRUE },
                { "nvme", FALSE, TRUE },
                { "virtio", FALSE, TRUE },
                { "scsi", FALSE, TRUE },
                { "unknown", FALSE, TRUE },
                { NULL, FALSE, TRUE },
                { "sata", TRUE, FALSE },
                { "usb", FALSE, FALSE },
                { "loop", FALSE, FALSE },
                { "mmc", FALSE, FALSE },
        };
        g_autoptr(HostUsage) host = make_host(ROOT_ON_VDA, SWAPS_HEADER);

        add_critical(host, "vda", "holds /");
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(DiskInfo) disk = make_disk("sdd", 8, 48, cases[i].transport);
                g_autoptr(DiskUsage) usage = NULL;

                disk->removable = cases[i].removable;
                usage = disk_usage_compute(disk, host);
                g_assert_cmpint(usage->system, ==, cases[i].system);
                g_assert_false(usage->critical);
                assert_attachable(disk, usage, FALSE);
        }
}

static void test_check_read_only(void) {
        g_autoptr(DiskInfo) disk = make_disk("sde", 8, 64, "usb");
        g_autoptr(HostUsage) host = make_host(ROOT_ON_VDA, SWAPS_HEADER);
        g_autoptr(DiskUsage) usage = NULL;

        disk->read_only = TRUE;
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "");
        assert_refused(disk, usage, FALSE, PT_ERROR_INVALID_ARGUMENT,
                       "/dev/sde is read-only; pass the option readonly=true");
        assert_attachable(disk, usage, TRUE);
}

/* A disk with every field set survives a deep copy. */
static void test_info_copy(void) {
        g_autoptr(DiskInfo) disk = make_disk("nvme0n1", 259, 0, "nvme");
        g_autoptr(DiskInfo) copy = NULL;
        BlockPart *part = add_part(disk, "nvme0n1p1", 259, 1);
        BlockPart *copied;

        g_ptr_array_add(part->holders, g_strdup("dm-2"));
        g_ptr_array_add(disk->by_id, g_strdup("nvme-eui.0025388b91b2c3d4"));
        g_free(disk->model);
        disk->model = g_strdup("Samsung SSD 970 EVO 1TB");
        disk->read_only = TRUE;
        copy = disk_info_copy(disk);
        g_clear_pointer(&disk, disk_info_free);

        g_assert_cmpstr(copy->name, ==, "nvme0n1");
        g_assert_cmpstr(copy->model, ==, "Samsung SSD 970 EVO 1TB");
        g_assert_cmpuint(copy->devnum, ==, makedev(259, 0));
        g_assert_true(copy->read_only);
        g_assert_cmpuint(copy->partitions->len, ==, 1);
        copied = copy->partitions->pdata[0];
        g_assert_cmpstr(copied->name, ==, "nvme0n1p1");
        g_assert_cmpstr(copied->holders->pdata[0], ==, "dm-2");
        g_assert_cmpstr(copy->by_id->pdata[0], ==, "nvme-eui.0025388b91b2c3d4");
}

/* ---------------------------------------------------------------- specs */

static void test_spec_valid(void) {
        static const char *const good[] = {
                "/dev/sdb",
                "sdb",
                "nvme0n1",
                "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4",
                "/dev/disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456A",
                "/dev/disk/by-path/pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0",
                "usb-Generic_Flash_Disk_12345678-0:0",
                "wwn-0x5000c500a1b2c3d4",
                "a",
        };
        g_autofree char *longest = g_strnfill(255, 'a');

        for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;

                g_assert_true(disk_spec_valid(good[i], &error));
                g_assert_no_error(error);
        }
        g_assert_true(disk_spec_valid(longest, NULL));
}

static const char *const hostile[] = {
        "",
        "sdb/../sda",
        "dev/sdb",
        "./sdb",
        "../dev/sdb",
        ".",
        "..",
        "/dev/../etc/passwd",
        "/dev/./sdb",
        "/dev/sdb/..",
        "/dev",
        "/dev/",
        "/dev//sdb",
        "/dev/sdb/",
        "/etc/passwd",
        "/tmp/link",
        "/sys/block/sda",
        "sdb'",
        "sd\"b",
        "/dev/sdb\"/><disk",
        "<sdb>",
        "/dev/<sdb",
        "sdb\n",
        "sd\tb",
        "\x1b[31msdb",
        "sdb\x7f",
        "sdb;reboot",
        "$(reboot)",
        "`id`",
        "sdb x",
        "sd\xc3\xa9",
        "/dev/sd\xff",
};

static void test_spec_invalid(void) {
        g_autofree char *huge = g_strnfill(4096, 'a');
        g_autofree char *huge_path = g_strconcat("/dev/", huge, NULL);
        g_autofree char *just_over = g_strnfill(256, 'a');

        for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++) {
                g_autoptr(GError) error = NULL;

                g_assert_false(disk_spec_valid(hostile[i], &error));
                g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
                g_assert_true(g_utf8_validate(error->message, -1, NULL));
        }
        g_assert_false(disk_spec_valid(NULL, NULL));
        g_assert_false(disk_spec_valid(huge, NULL));
        g_assert_false(disk_spec_valid(huge_path, NULL));
        g_assert_false(disk_spec_valid(just_over, NULL));
}

/* disks_resolve gives the same answer before looking at the file system. */
static void test_resolve_invalid(void) {
        g_autofree char *huge = g_strnfill(4096, 'x');

        for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(DiskInfo) disk = disks_resolve(hostile[i], &error);

                g_assert_null(disk);
                g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(DiskInfo) disk = disks_resolve(huge, &error);

                g_assert_null(disk);
                g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        }
}

/* A name that names no disk is rejected with a look-up, never an enumeration
 * of the host's block devices (a caller must not make the service walk sysfs). */
static void test_resolve_unknown_enumerates_nothing(void) {
        guint lists = disks_enumerations(), graphs = block_graph_reads();

        for (guint i = 0; i < 200; i++) {
                g_autofree char *name = g_strdup_printf("no-such-disk-%u", i);
                g_autofree char *path = g_strdup_printf("/dev/no-such-disk-%u", i);
                g_autoptr(GError) by_name = NULL;
                g_autoptr(GError) by_path = NULL;
                g_autoptr(DiskInfo) a = disks_resolve(name, &by_name);
                g_autoptr(DiskInfo) b = disks_resolve(path, &by_path);

                g_assert_error(by_name, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
                g_assert_error(by_path, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
        }
        g_assert_cmpuint(disks_enumerations(), ==, lists);
        g_assert_cmpuint(block_graph_reads(), ==, graphs);
        /* The counters count: a listing moves them. */
        g_ptr_array_unref(disks_list(NULL));
        g_assert_cmpuint(disks_enumerations(), ==, lists + 1);
}

static void test_resolve_unknown(void) {
        static const char *const unknown[] = { "no-such-disk-pt", "/dev/no-such-disk-pt", "/dev/disk/by-id/nothing" };

        for (gsize i = 0; i < G_N_ELEMENTS(unknown); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(DiskInfo) disk = disks_resolve(unknown[i], &error);
                g_autofree char *expected = g_strdup_printf("No disk '%s'",
                                                            unknown[i]);

                g_assert_null(disk);
                g_assert_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
                g_assert_cmpstr(error->message, ==, expected);
        }
}

/* Resolve and return the error (or NULL if it resolved, which the caller rejects). */
static GError *resolve_error(const char *spec) {
        GError *error = NULL;
        g_autoptr(DiskInfo) disk = disks_resolve(spec, &error);

        if (disk)
                return NULL;
        return error;
}

static void assert_invalid(GError *error, const char *part_of_message) {
        g_assert_nonnull(error);
        g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, part_of_message));
        g_error_free(error);
}

/* Non-block files, links out of /dev and files outside /dev. Results are
 * collected before cleaning up, asserted after. */
static void test_resolve_non_block(void) {
        g_autofree char *tmp_file = g_strdup_printf("/tmp/pt-diskcheck-%d.file", getpid());
        g_autofree char *tmp_link = g_strdup_printf("/tmp/pt-diskcheck-%d.link", getpid());
        g_autofree char *shm_file = g_strdup_printf("/dev/shm/pt-diskcheck-%d.file", getpid());
        g_autofree char *shm_null = g_strdup_printf("/dev/shm/pt-diskcheck-%d.null", getpid());
        g_autofree char *shm_out = g_strdup_printf("/dev/shm/pt-diskcheck-%d.out", getpid());
        GError *null_error, *tmp_file_error, *tmp_link_error, *shm_file_error, *shm_null_error, *shm_out_error;
        gboolean made;

        if (!g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)) {
                g_test_skip("no /dev/shm");
                return;
        }
        made = g_file_set_contents(tmp_file, "not a disk", -1, NULL) &&
               g_file_set_contents(shm_file, "not a disk", -1, NULL) &&
               symlink("/dev/null", tmp_link) == 0 && symlink("/dev/null", shm_null) == 0 &&
               symlink(tmp_file, shm_out) == 0;
        null_error = resolve_error("/dev/null");
        tmp_file_error = resolve_error(tmp_file);
        tmp_link_error = resolve_error(tmp_link);
        shm_file_error = resolve_error(shm_file);
        shm_null_error = resolve_error(shm_null);
        shm_out_error = resolve_error(shm_out);
        unlink(shm_out);
        unlink(shm_null);
        unlink(tmp_link);
        unlink(shm_file);
        unlink(tmp_file);

        g_assert_true(made);
        /* Paths a caller can make (under /tmp, /dev/shm) are refused before
         * they are looked at, all with the same message. */
        assert_invalid(tmp_file_error, "Invalid device:");
        assert_invalid(tmp_link_error, "Invalid device:");
        assert_invalid(shm_file_error, "Invalid device:");
        assert_invalid(shm_null_error, "Invalid device:");
        assert_invalid(shm_out_error, "Invalid device:");
        /* /dev/NAME that is no block device: "no disk", nothing about what it is. */
        g_assert_error(null_error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
        g_assert_cmpstr(null_error->message, ==, "No disk '/dev/null'");
        g_error_free(null_error);
        if (g_file_test("/dev/fd", G_FILE_TEST_IS_SYMLINK)) {
                GError *fd_error = resolve_error("/dev/fd");

                g_assert_error(fd_error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
                g_error_free(fd_error);
        }
}

/* Item 5: what a path points to changes nothing in the answer. */
static void test_resolve_same_answer_for_any_target(void) {
        g_autofree char *secret = g_strdup_printf("/tmp/pt-diskcheck-%d.secret", getpid());
        g_autofree char *to_secret = g_strdup_printf("/dev/shm/pt-diskcheck-%d.a", getpid());
        g_autofree char *to_nothing = g_strdup_printf("/dev/shm/pt-diskcheck-%d.b", getpid());
        GError *a, *b;

        if (!g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)) {
                g_test_skip("no /dev/shm");
                return;
        }
        g_assert_true(g_file_set_contents(secret, "x", -1, NULL));
        g_assert_cmpint(symlink(secret, to_secret), ==, 0);
        g_assert_cmpint(symlink("/nonexistent/pt", to_nothing), ==, 0);
        a = resolve_error(to_secret);
        b = resolve_error(to_nothing);
        unlink(to_secret);
        unlink(to_nothing);
        unlink(secret);
        g_assert_nonnull(a);
        g_assert_nonnull(b);
        g_assert_true(a->domain == b->domain && a->code == b->code);
        g_assert_cmpstr(a->message, ==, b->message);
        g_assert_null(strstr(a->message, "secret"));
        g_error_free(a);
        g_error_free(b);
}

/* ---------------------------------------------------------------- real sysfs */

static gboolean printable(const char *s) {
        for (; *s; s++)
                if (*s < 0x20 || *s >= 0x7f)
                        return FALSE;
        return TRUE;
}

static void assert_sane_disk(const DiskInfo *disk) {
        g_autofree char *path = g_strconcat("/dev/", disk->name, NULL);
        static const char *const never[] = { "dm-", "md", "zram", "ram", "sr", NULL };

        g_assert_cmpstr(disk->path, ==, path);
        g_assert_cmpstr(disk->id, !=, "");
        g_assert_cmpstr(disk->transport, !=, "");
        for (const char *const *prefix = never; *prefix; prefix++)
                g_assert_false(g_str_has_prefix(disk->name, *prefix));
        g_assert_true(printable(disk->model) && strlen(disk->model) <= 128);
        g_assert_true(printable(disk->serial) && strlen(disk->serial) <= 128);
        g_assert_true(printable(disk->wwn) && strlen(disk->wwn) <= 128);
        g_assert_nonnull(disk->partitions);
        g_assert_nonnull(disk->holders);
        g_assert_nonnull(disk->by_id);
        if (g_str_has_prefix(disk->name, "loop"))
                g_assert_cmpuint(disk->size, >, 0);
}

static guint64 sysfs_size(const char *name) {
        g_autofree char *path = g_strdup_printf("/sys/class/block/%s/size", name);
        g_autofree char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return 0;
        return g_ascii_strtoull(text, NULL, 10) * 512;
}

static const DiskInfo *find_disk(const GPtrArray *disks, const char *name) {
        for (guint i = 0; i < disks->len; i++) {
                const DiskInfo *disk = disks->pdata[i];

                if (g_str_equal(disk->name, name))
                        return disk;
        }
        return NULL;
}

static void test_list_sysfs(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) disks = disks_list(&error);
        const DiskInfo *vda;

        g_assert_no_error(error);
        g_assert(disks != NULL);
        for (guint i = 0; i < disks->len; i++) {
                const DiskInfo *disk = disks->pdata[i];

                g_test_message("%s %s %" G_GUINT64_FORMAT " model='%s' serial='%s'",
                               disk->name, disk->transport, disk->size, disk->model, disk->serial);
                assert_sane_disk(disk);
                if (i > 0) {
                        const DiskInfo *previous = disks->pdata[i - 1];
                        g_autofree char *a = g_utf8_collate_key_for_filename(previous->name, -1);
                        g_autofree char *b = g_utf8_collate_key_for_filename(disk->name, -1);

                        g_assert_cmpstr(a, <, b);
                }
        }
        if (g_file_test("/sys/block/zram0", G_FILE_TEST_EXISTS))
                g_assert_null(find_disk(disks, "zram0"));
        if (!g_file_test("/sys/block/vda", G_FILE_TEST_EXISTS))
                return;
        vda = find_disk(disks, "vda");
        g_assert(vda != NULL);
        g_assert_cmpstr(vda->transport, ==, "virtio");
        g_assert_cmpuint(vda->size, ==, sysfs_size("vda"));
        g_assert_cmpuint(vda->size, >, 0);
}

/* The disk behind / as the kernel says, or NULL when / is not on a plain disk. */
static char *root_disk_name(void) {
        struct stat st;
        g_autofree char *sys = NULL;
        g_autofree char *real = NULL;
        g_autofree char *slaves = NULL;
        g_autofree char *partition = NULL;
        g_autoptr(GDir) dir = NULL;

        if (stat("/", &st) < 0 || major(st.st_dev) == 0)
                return NULL;
        sys = g_strdup_printf("/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
        real = realpath(sys, NULL);
        if (!real)
                return NULL;
        slaves = g_build_filename(real, "slaves", NULL);
        dir = g_dir_open(slaves, 0, NULL);
        if (dir && g_dir_read_name(dir))
                return NULL;   /* dm/md: covered by the pure tests */
        partition = g_build_filename(real, "partition", NULL);
        if (g_file_test(partition, G_FILE_TEST_EXISTS)) {
                g_autofree char *parent = g_path_get_dirname(real);

                return g_path_get_basename(parent);
        }
        return g_path_get_basename(real);
}

/* The host's root disk (/dev/vda on our machines) resolves and is critical. */
static void test_host_root_disk(void) {
        g_autofree char *name = root_disk_name();
        g_autofree char *path = NULL;
        g_autofree char *expected = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(HostUsage) host = NULL;
        g_autoptr(DiskInfo) disk = NULL;
        g_autoptr(DiskInfo) by_name = NULL;
        g_autoptr(DiskUsage) usage = NULL;

        if (!name) {
                g_test_skip("/ is not on a plain block device here");
                return;
        }
        g_test_message("root disk: %s", name);
        path = g_strconcat("/dev/", name, NULL);
        host = host_usage_read(&error);
        g_assert_no_error(error);
        g_assert_true(array_has(host->critical_disks, name));
        disk = disks_resolve(path, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(disk->name, ==, name);
        by_name = disks_resolve(name, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(by_name->devnum, ==, disk->devnum);
        usage = disk_usage_compute(disk, host);
        g_assert_true(usage->critical);
        g_assert_true(usage->system);
        g_assert_true(g_str_has_prefix(usage->critical_reason, "holds /"));
        g_assert_false(disk_check_attachable(disk, usage, TRUE, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_SYSTEM_DEVICE);
        expected = g_strdup_printf("%s %s and cannot be given to a VM", path, usage->critical_reason);
        g_assert_cmpstr(error->message, ==, expected);
}

/* ---------------------------------------------------------------- root: loop */

typedef struct {
        char *image;
        char *loop;        /* /dev/loopN */
        char *partition;   /* /dev/loopNp1 */
        char *mount_dir;
        gboolean mounted;
        gboolean swapped;
} LoopDisk;

typedef enum {
        LOOP_READ_ONLY,    /* losetup -r, no partition table */
        LOOP_PARTITIONED,  /* one partition, unused */
        LOOP_MOUNTED,      /* the partition mounted */
        LOOP_SWAP,         /* the partition as active swap */
} LoopKind;

/* Runs a tool; no GSubprocess, whose helper threads valgrind reports. */
static gboolean run(const char *const *argv, char **out) {
        g_autoptr(GError) error = NULL;
        g_autofree char *stdout_text = NULL;
        g_autofree char *stderr_text = NULL;
        int status;

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                          &stdout_text, &stderr_text, &status, &error)) {
                g_test_message("%s: %s", argv[0], error->message);
                return FALSE;
        }
        if (!g_spawn_check_wait_status(status, &error)) {
                g_test_message("%s failed: %s", argv[0], stderr_text);
                return FALSE;
        }
        if (out)
                *out = g_strdup(g_strstrip(stdout_text));
        return TRUE;
}

static gboolean wait_for_node(const char *path) {
        for (int i = 0; i < 100; i++) {
                if (g_file_test(path, G_FILE_TEST_EXISTS))
                        return TRUE;
                g_usleep(50 * 1000);
        }
        return FALSE;
}

static char *image_path(void) {
        return g_strdup_printf("%s/pt-diskcheck-%d.img", g_get_tmp_dir(), (int) getpid());
}

static char *mount_path(void) {
        return g_strdup_printf("%s/pt mnt-%d", g_get_tmp_dir(), (int) getpid());   /* a space: \040 */
}

static gboolean make_image(LoopDisk *ld) {
        int fd;
        gboolean ok;

        ld->image = image_path();
        fd = open(ld->image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return FALSE;
        ok = ftruncate(fd, LOOP_SIZE) == 0;
        close(fd);
        return ok;
}

static gboolean make_partition(LoopDisk *ld) {
        const char *sfdisk[] = { "sh", "-c", "printf 'label: dos\\n,,L\\n' | sfdisk -q --no-tell-kernel \"$1\"",
                                 "sh", ld->loop, NULL };
        const char *partx_delete[] = { "partx", "-d", ld->loop, NULL };
        const char *partx[] = { "partx", "-a", ld->loop, NULL };
        g_autofree char *stale = g_strdup_printf("/sys/class/block/%sp1", ld->loop + strlen("/dev/"));

        /* a loop device keeps partitions nobody removed before detaching it */
        if (g_file_test(stale, G_FILE_TEST_EXISTS))
                run(partx_delete, NULL);
        if (!run(sfdisk, NULL) || !run(partx, NULL))
                return FALSE;
        ld->partition = g_strconcat(ld->loop, "p1", NULL);
        return wait_for_node(ld->partition);
}

static gboolean make_mount(LoopDisk *ld) {
        const char *mkfs[] = { "mkfs.ext4", "-q", "-F", ld->partition, NULL };
        const char *mount[] = { "mount", "-t", "ext4", ld->partition, NULL, NULL };

        if (!run(mkfs, NULL))
                return FALSE;
        ld->mount_dir = mount_path();
        if (mkdir(ld->mount_dir, 0700) < 0) {
                g_clear_pointer(&ld->mount_dir, g_free);
                return FALSE;
        }
        mount[4] = ld->mount_dir;
        ld->mounted = run(mount, NULL);
        return ld->mounted;
}

static gboolean make_swap(LoopDisk *ld) {
        const char *mkswap[] = { "mkswap", ld->partition, NULL };
        const char *swapon[] = { "swapon", ld->partition, NULL };

        if (!run(mkswap, NULL))
                return FALSE;
        ld->swapped = run(swapon, NULL);
        return ld->swapped;
}

static gboolean loop_setup(LoopDisk *ld, LoopKind kind) {
        const char *losetup[] = { "losetup", "-f", "--show", NULL, NULL, NULL };

        if (!make_image(ld))
                return FALSE;
        losetup[3] = ld->image;
        losetup[4] = kind == LOOP_READ_ONLY ? "-r" : NULL;
        if (!run(losetup, &ld->loop) || !g_str_has_prefix(ld->loop, "/dev/loop")) {
                g_clear_pointer(&ld->loop, g_free);
                return FALSE;
        }
        if (kind == LOOP_READ_ONLY)
                return TRUE;
        if (!make_partition(ld))
                return FALSE;
        if (kind == LOOP_MOUNTED)
                return make_mount(ld);
        if (kind == LOOP_SWAP)
                return make_swap(ld);
        return TRUE;
}

static void loop_teardown(LoopDisk *ld) {
        if (ld->swapped) {
                const char *swapoff[] = { "swapoff", ld->partition, NULL };

                run(swapoff, NULL);
        }
        if (ld->mounted) {
                const char *umount[] = { "umount", ld->mount_dir, NULL };

                run(umount, NULL);
        }
        if (ld->mount_dir)
                rmdir(ld->mount_dir);
        if (ld->partition) {
                const char *partx[] = { "partx", "-d", ld->loop, NULL };

                run(partx, NULL);
        }
        if (ld->loop) {
                const char *losetup[] = { "losetup", "-d", ld->loop, NULL };

                run(losetup, NULL);
        }
        if (ld->image)
                unlink(ld->image);
        g_free(ld->image);
        g_free(ld->loop);
        g_free(ld->partition);
        g_free(ld->mount_dir);
}

typedef void (*LoopCheck)(const LoopDisk *ld);

/* A failed assertion aborts only the forked child. (fork rather than
 * g_test_trap_subprocess: that starts a GLib thread valgrind reports.) */
static gboolean run_in_child(LoopCheck check, const LoopDisk *ld) {
        pid_t pid;
        int status;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return FALSE;
        if (pid == 0) {
                check(ld);
                fflush(stdout);
                _exit(0);
        }
        if (waitpid(pid, &status, 0) < 0)
                return FALSE;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Sets up a loop device, runs the checks, and always cleans up. */
static void run_with_loop(LoopKind kind, LoopCheck check) {
        LoopDisk ld = { 0 };
        gboolean ok, passed;

        if (geteuid() != 0) {
                g_test_skip("needs root to create loop devices");
                return;
        }
        ok = loop_setup(&ld, kind);
        passed = ok && run_in_child(check, &ld);
        loop_teardown(&ld);
        g_assert_true(ok);
        g_assert_true(passed);
}

static DiskInfo *listed_disk(const char *name) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) disks = disks_list(&error);

        g_assert_no_error(error);
        for (guint i = 0; disks && i < disks->len; i++) {
                DiskInfo *disk = disks->pdata[i];

                if (g_str_equal(disk->name, name))
                        return disk_info_copy(disk);
        }
        return NULL;
}

static void assert_resolves(const char *spec, const char *name) {
        g_autoptr(GError) error = NULL;
        g_autoptr(DiskInfo) disk = disks_resolve(spec, &error);

        g_assert_no_error(error);
        g_assert(disk != NULL);
        g_assert_cmpstr(disk->name, ==, name);
        g_assert_cmpstr(disk->transport, ==, "loop");
}

static void check_loop_free(const LoopDisk *ld) {
        const char *loop = ld->loop;
        const char *name = loop + strlen("/dev/");
        g_autofree char *part_path = g_strconcat(loop, "p1", NULL);
        g_autofree char *part_name = g_strconcat(name, "p1", NULL);
        g_autofree char *expected = g_strdup_printf("%s is a partition; pass the whole disk %s",
                                                    part_name, loop);
        g_autofree char *link = g_strdup_printf("/dev/pt-diskcheck-%d.link", getpid());   /* as udev makes links */
        g_autoptr(DiskInfo) disk = listed_disk(name);
        g_autoptr(HostUsage) host = NULL;
        g_autoptr(DiskUsage) usage = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(DiskInfo) none = NULL;
        g_autoptr(DiskInfo) via_link = NULL;
        const BlockPart *part;

        g_assert(disk != NULL);
        g_assert_cmpuint(disk->size, ==, LOOP_SIZE);
        g_assert_cmpstr(disk->transport, ==, "loop");
        g_assert_false(disk->read_only);
        g_assert_cmpuint(disk->partitions->len, ==, 1);
        part = disk->partitions->pdata[0];
        g_assert_cmpstr(part->name, ==, part_name);

        assert_resolves(loop, name);
        assert_resolves(name, name);
        g_assert_cmpint(symlink(loop, link), ==, 0);   /* like a by-id link */
        via_link = disks_resolve(link, &error);
        unlink(link);
        g_assert_no_error(error);
        g_assert_cmpstr(via_link->name, ==, name);

        none = disks_resolve(part_path, &error);
        g_assert_null(none);
        g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr(error->message, ==, expected);
        g_clear_error(&error);
        none = disks_resolve(part_name, &error);
        g_assert_null(none);
        g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr(error->message, ==, expected);
        g_clear_error(&error);

        host = host_usage_read(&error);
        g_assert_no_error(error);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "");
        g_assert_false(usage->critical);
        g_assert_false(usage->system);
        g_assert_true(disk_check_attachable(disk, usage, FALSE, &error));
        g_assert_no_error(error);
}

static void check_loop_mounted(const LoopDisk *ld) {
        const char *loop = ld->loop;
        const char *mount_dir = ld->mount_dir;
        const char *name = loop + strlen("/dev/");
        g_autofree char *in_use = g_strdup_printf("%sp1 mounted at %s", name, mount_dir);
        g_autofree char *expected = g_strdup_printf(
                "%sp1 is mounted at %s. Unmount the device before attaching: sudo umount %sp1",
                loop, mount_dir, loop);
        g_autoptr(GError) error = NULL;
        g_autoptr(DiskInfo) disk = disks_resolve(loop, &error);
        g_autoptr(HostUsage) host = NULL;
        g_autoptr(DiskUsage) usage = NULL;

        g_assert_no_error(error);
        g_assert(disk != NULL);
        host = host_usage_read(&error);
        g_assert_no_error(error);
        g_assert_false(g_ptr_array_find_with_equal_func(host->critical_disks, name, g_str_equal, NULL));
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, in_use);
        g_assert_true(array_has(usage->mountpoints, mount_dir));
        g_assert_false(usage->critical);
        g_assert_false(disk_check_attachable(disk, usage, FALSE, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_DEVICE_BUSY);
        g_assert_cmpstr(error->message, ==, expected);
}

static void check_loop_read_only(const LoopDisk *ld) {
        const char *loop = ld->loop;
        g_autofree char *expected = g_strdup_printf("%s is read-only; pass the option readonly=true", loop);
        g_autoptr(GError) error = NULL;
        g_autoptr(DiskInfo) disk = disks_resolve(loop, &error);
        g_autoptr(HostUsage) host = NULL;
        g_autoptr(DiskUsage) usage = NULL;

        g_assert_no_error(error);
        g_assert(disk != NULL);
        g_assert_true(disk->read_only);
        g_assert_cmpuint(disk->partitions->len, ==, 0);
        host = host_usage_read(&error);
        g_assert_no_error(error);
        usage = disk_usage_compute(disk, host);
        g_assert_false(disk_check_attachable(disk, usage, FALSE, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr(error->message, ==, expected);
        g_clear_error(&error);
        g_assert_true(disk_check_attachable(disk, usage, TRUE, &error));
}

static gboolean has_devnum(const GArray *devnums, dev_t devnum) {
        for (guint i = 0; i < devnums->len; i++)
                if (g_array_index(devnums, dev_t, i) == devnum)
                        return TRUE;
        return FALSE;
}

/* Swap on a partition: the walk names the parent disk as critical. */
static void check_loop_swap(const LoopDisk *ld) {
        const char *name = ld->loop + strlen("/dev/");
        g_autofree char *in_use = g_strdup_printf("%sp1 used as swap", name);
        g_autofree char *expected = g_strdup_printf(
                "%s holds swap and cannot be given to a VM while swap is on. "
                "Turn it off first: sudo swapoff %s", ld->loop, ld->partition);
        g_autoptr(GError) error = NULL;
        g_autoptr(DiskInfo) disk = disks_resolve(ld->loop, &error);
        g_autoptr(HostUsage) host = NULL;
        g_autoptr(DiskUsage) usage = NULL;
        guint index = 0;
        struct stat st;

        g_assert_no_error(error);
        g_assert(disk != NULL);
        host = host_usage_read(&error);
        g_assert_no_error(error);
        g_assert_true(array_has(host->swaps, ld->partition));
        g_assert_cmpint(stat(ld->partition, &st), ==, 0);
        g_assert_true(has_devnum(host->swap_devnums, st.st_rdev));
        g_assert_true(g_ptr_array_find_with_equal_func(host->critical_disks, name, g_str_equal, &index));
        g_assert_cmpstr(host->critical_reasons->pdata[index], ==, "holds swap");
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, in_use);
        g_assert_true(usage->critical);
        g_assert_true(usage->system);
        g_assert_false(disk_check_attachable(disk, usage, FALSE, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_SYSTEM_DEVICE);
        g_assert_cmpstr(error->message, ==, expected);
}

/* Item 7: the node opened must be the device checked. */
static void check_loop_open_checked(const LoopDisk *ld) {
        g_autoptr(GError) error = NULL;
        struct stat disk_st, part_st;
        int fd;

        g_assert_cmpint(stat(ld->loop, &disk_st), ==, 0);
        g_assert_cmpint(stat(ld->partition, &part_st), ==, 0);
        fd = disk_open_exclusive(ld->loop, disk_st.st_rdev, &error);
        g_assert_no_error(error);
        g_assert_cmpint(fd, >=, 0);
        close(fd);
        /* The same path, but another device was checked: refused. */
        fd = disk_open_exclusive(ld->loop, part_st.st_rdev, &error);
        g_assert_cmpint(fd, ==, -1);
        g_assert_error(error, PT_ERROR, PT_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "no longer the device that was checked"));
}

static void test_root_loop_open_checked(void) {
        run_with_loop(LOOP_PARTITIONED, check_loop_open_checked);
}

/* A device that went away between the check and the open (a stick pulled, a
 * partition deleted) is NoSuchDevice, not "in use". */
static void check_loop_open_gone(const LoopDisk *ld) {
        const char *partx[] = { "partx", "-d", ld->loop, NULL };
        g_autoptr(GError) error = NULL;
        struct stat part_st;
        int fd;

        g_assert_cmpint(stat(ld->partition, &part_st), ==, 0);
        g_assert_true(run(partx, NULL));
        fd = disk_open_exclusive(ld->partition, part_st.st_rdev, &error);
        g_assert_cmpint(fd, ==, -1);
        g_assert_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
        g_assert_null(strstr(error->message, "in use"));
        g_clear_error(&error);
        fd = disk_open_exclusive("/dev/pt-no-such-node", part_st.st_rdev, &error);
        g_assert_cmpint(fd, ==, -1);
        g_assert_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
}

static void test_root_loop_open_gone(void) {
        run_with_loop(LOOP_PARTITIONED, check_loop_open_gone);
}

static void test_root_loop_free(void) {
        run_with_loop(LOOP_PARTITIONED, check_loop_free);
}

static void test_root_loop_mounted(void) {
        run_with_loop(LOOP_MOUNTED, check_loop_mounted);
}

static void test_root_loop_read_only(void) {
        run_with_loop(LOOP_READ_ONLY, check_loop_read_only);
}

static void test_root_loop_swap(void) {
        run_with_loop(LOOP_SWAP, check_loop_swap);
}

/* ---------------------------------------------------------------- names */

/* A disk's model as the device says it (ID_MODEL_ENC), not udev's ID_MODEL
 * with blanks made underscores: escapes decoded, padding trimmed, runs of
 * blanks one space, and what device strings may not hold still dropped. */
static void test_model_enc_decoded(void) {
        static const struct {
                const char *encoded;
                const char *model;
        } cases[] = {
                { "WDC\\x20WD10EZEX-08WN4A0\\x20\\x20\\x20\\x20", "WDC WD10EZEX-08WN4A0" },
                { "Samsung\\x20SSD\\x20870\\x20EVO\\x201TB", "Samsung SSD 870 EVO 1TB" },
                { "\\x20\\x20Ultra\\x20\\x20\\x20Fit\\x09", "Ultra Fit" },
                { "Evil\\x1b[2J\\x00\\x7fDisk", "Evil[2JDisk" },
                { "a \\x01 b\\x1b\\x20\\x20c", "a b c" },   /* a dropped byte between blanks leaves one */
                { "dot\\x2e\\xZZ\\x4", "dot.\\xZZ\\x4" },
                { "Caf\\xc3\\xa9", "Caf" },
                { "", "" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *model = device_string_decode(cases[i].encoded);

                g_assert_cmpstr(model, ==, cases[i].model);
        }
        g_autofree char *none = device_string_decode(NULL);
        g_assert_cmpstr(none, ==, "");
}

int main(int argc, char **argv) {
        g_autofree char *path = g_strconcat(g_getenv("PATH") ? g_getenv("PATH") : "/usr/bin:/bin",
                                            ":/usr/sbin:/sbin", NULL);

        g_setenv("PATH", path, TRUE);
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/diskcheck/usage/free-loop", test_usage_free_loop);
        g_test_add_func("/diskcheck/usage/mounted-partition", test_usage_mounted_partition);
        g_test_add_func("/diskcheck/usage/mounted-whole", test_usage_mounted_whole);
        g_test_add_func("/diskcheck/usage/btrfs-source", test_usage_btrfs_source);
        g_test_add_func("/diskcheck/usage/bind-mounts", test_usage_bind_mounts);
        g_test_add_func("/diskcheck/usage/swap-partition", test_usage_swap_partition);
        g_test_add_func("/diskcheck/usage/swap-by-path", test_usage_swap_by_path);
        g_test_add_func("/diskcheck/usage/holders", test_usage_holders);
        g_test_add_func("/diskcheck/resolve/unknown-enumerates-nothing", test_resolve_unknown_enumerates_nothing);
        g_test_add_func("/diskcheck/root/loop-open-checked", test_root_loop_open_checked);
        g_test_add_func("/diskcheck/root/loop-open-gone", test_root_loop_open_gone);
        g_test_add_func("/diskcheck/resolve/same-answer-for-any-target", test_resolve_same_answer_for_any_target);
        g_test_add_func("/diskcheck/usage/partition-in-raid", test_usage_partition_in_raid);
        g_test_add_func("/diskcheck/usage/priority", test_usage_priority);
        g_test_add_func("/diskcheck/usage/critical-root", test_usage_critical_root);
        g_test_add_func("/diskcheck/usage/critical-own-mounts", test_usage_critical_own_mounts);
        g_test_add_func("/diskcheck/usage/critical-lvm", test_usage_critical_lvm);
        g_test_add_func("/diskcheck/usage/system", test_usage_system);
        g_test_add_func("/diskcheck/check/swap-busy", test_check_swap_busy);
        g_test_add_func("/diskcheck/check/read-only", test_check_read_only);
        g_test_add_func("/diskcheck/info/copy", test_info_copy);
        g_test_add_func("/diskcheck/spec/valid", test_spec_valid);
        g_test_add_func("/diskcheck/spec/invalid", test_spec_invalid);
        g_test_add_func("/diskcheck/resolve/invalid", test_resolve_invalid);
        g_test_add_func("/diskcheck/resolve/unknown", test_resolve_unknown);
        g_test_add_func("/diskcheck/resolve/non-block", test_resolve_non_block);
        g_test_add_func("/diskcheck/sysfs/list", test_list_sysfs);
        g_test_add_func("/diskcheck/sysfs/root-disk", test_host_root_disk);
        g_test_add_func("/diskcheck/names/model-enc-decoded", test_model_enc_decoded);
        g_test_add_func("/diskcheck/root/loop-free", test_root_loop_free);
        g_test_add_func("/diskcheck/root/loop-mounted", test_root_loop_mounted);
        g_test_add_func("/diskcheck/root/loop-read-only", test_root_loop_read_only);
        g_test_add_func("/diskcheck/root/loop-swap", test_root_loop_swap);
        return g_test_run();
}
