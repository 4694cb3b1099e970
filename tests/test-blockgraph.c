/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the block device graph and the holder rules over it:
 * fixture trees built by hand (this host has no device-mapper), and a fake
 * sysfs tree read from a temporary directory. */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/sysmacros.h>

#include "blockgraph.h"
#include "disks.h"
#include "errors.h"

#define SWAPS_HEADER "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

static DiskInfo *make_disk(const char *name, guint maj, guint min, const char *transport, gboolean removable) {
        DiskInfo *disk = g_new0(DiskInfo, 1);

        disk->name = g_strdup(name);
        disk->path = g_strconcat("/dev/", name, NULL);
        disk->id = g_strdup(name);
        disk->devnum = makedev(maj, min);
        disk->model = g_strdup("");
        disk->serial = g_strdup("");
        disk->wwn = g_strdup("");
        disk->transport = g_strdup(transport);
        disk->removable = removable;
        return disk;
}

static HostUsage *make_host(const char *mountinfo, BlockGraph *graph) {
        HostUsage *host = g_new0(HostUsage, 1);

        host->mounts = mount_table_parse(mountinfo);
        host->swaps = swaps_parse(SWAPS_HEADER);
        host->swap_devnums = g_array_new(FALSE, FALSE, sizeof(dev_t));
        host->critical_disks = g_ptr_array_new_with_free_func(g_free);
        host->critical_reasons = g_ptr_array_new_with_free_func(g_free);
        host->graph = graph;
        host->vm_held = vm_holds_new();
        return host;
}

/* sdz (8:208) with sdz1 (8:209), sdz2 (8:210); loop2 (7:2) on a file; loop3 (7:3) on loop2. */
static BlockGraph *fixture(void) {
        BlockGraph *graph = block_graph_new();

        block_graph_add(graph, "sdz", makedev(8, 208), NULL)->internal = FALSE;
        block_graph_add(graph, "sdz1", makedev(8, 209), "sdz");
        block_graph_add(graph, "sdz2", makedev(8, 210), "sdz");
        block_graph_add(graph, "loop2", makedev(7, 2), NULL);
        block_graph_add(graph, "loop3", makedev(7, 3), NULL);
        block_graph_link(graph, "loop3", "loop2");
        return graph;
}

static void assert_refused(const DiskInfo *disk, const DiskUsage *usage, PtError code, const char *message) {
        g_autoptr(GError) error = NULL;

        g_assert_false(disk_check_attachable(disk, usage, FALSE, &error));
        g_assert_error(error, PT_ERROR, (gint) code);
        g_assert_cmpstr(error->message, ==, message);
}

static gboolean names_are(GPtrArray *names, const char *const *expected) {
        if (names->len != g_strv_length((char **) expected))
                return FALSE;
        for (guint i = 0; i < names->len; i++)
                if (!g_str_equal(names->pdata[i], expected[i]))
                        return FALSE;
        return TRUE;
}

static void test_below(void) {
        g_autoptr(BlockGraph) graph = fixture();
        g_autoptr(GPtrArray) loop = NULL;
        g_autoptr(GPtrArray) part = NULL;

        block_graph_add(graph, "loop4", makedev(7, 4), NULL);
        block_graph_link(graph, "loop4", "sdz1");
        loop = block_graph_below(graph, "loop3");
        g_assert_true(names_are(loop, (const char *const[]) { "loop3", "loop2", NULL }));
        part = block_graph_below(graph, "loop4");
        g_assert_true(names_are(part, (const char *const[]) { "loop4", "sdz1", "sdz", NULL }));
}

static void test_cycle_ends(void) {
        g_autoptr(BlockGraph) graph = fixture();
        g_autoptr(GPtrArray) below = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        g_autoptr(GPtrArray) scope = NULL;

        block_graph_link(graph, "loop2", "loop3");   /* a loop that cannot be: must still end */
        below = block_graph_below(graph, "loop2");
        g_assert_cmpuint(below->len, ==, 2);
        g_ptr_array_add(names, (gpointer) "loop2");
        scope = block_graph_scope(graph, names);
        g_assert_cmpuint(scope->len, ==, 2);
}

/* Item 1: a VM holding a partition holds the disk. */
static void test_vm_holds_partition(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdz", 8, 208, "usb", TRUE);
        g_autoptr(HostUsage) host = make_host("", fixture());
        g_autoptr(DiskUsage) usage = NULL;

        vm_holds_add(host->vm_held, makedev(8, 209), "vm1", "vdb", NULL);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->vm, ==, "vm1");
        g_assert_cmpstr(usage->vm_device, ==, "/dev/sdz1");
        assert_refused(disk, usage, PT_ERROR_ALREADY_ATTACHED,
                       "/dev/sdz is in use by VM vm1, which has /dev/sdz1 (on this disk) as vdb. "
                       "Detach that from the VM first");
}

/* ...and a VM holding a loop device over the disk, or a dm device over it. */
static void test_vm_holds_device_above(void) {
        g_autoptr(DiskInfo) disk = make_disk("loop2", 7, 2, "loop", FALSE);
        g_autoptr(BlockGraph) graph = fixture();
        g_autoptr(DiskUsage) usage = NULL;
        HostUsage *host;

        block_graph_add(graph, "dm-0", makedev(253, 0), NULL);
        block_graph_link(graph, "dm-0", "sdz2");
        host = make_host("", g_steal_pointer(&graph));
        vm_holds_add(host->vm_held, makedev(7, 3), "vm2", "vdc", NULL);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->vm, ==, "vm2");
        g_assert_cmpstr(usage->vm_device, ==, "/dev/loop3");
        g_clear_pointer(&usage, disk_usage_free);
        host_usage_free(host);

        disk_info_free(disk);
        disk = make_disk("sdz", 8, 208, "usb", TRUE);
        host = make_host("", fixture());
        block_graph_add(host->graph, "dm-0", makedev(253, 0), NULL);
        block_graph_link(host->graph, "dm-0", "sdz2");
        vm_holds_add(host->vm_held, makedev(253, 0), "vm3", "vdd", NULL);
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->vm, ==, "vm3");
        g_assert_cmpstr(usage->vm_device, ==, "/dev/dm-0");
        host_usage_free(host);
}

/* The disk itself attached: the plain message. */
static void test_vm_holds_disk(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdz", 8, 208, "usb", TRUE);
        g_autoptr(HostUsage) host = make_host("", fixture());
        g_autoptr(DiskUsage) usage = NULL;

        vm_holds_add(host->vm_held, makedev(8, 208), "vm1", "vdb", NULL);
        usage = disk_usage_compute(disk, host);
        assert_refused(disk, usage, PT_ERROR_ALREADY_ATTACHED,
                       "/dev/sdz is already attached to VM vm1 as vdb. Detach it first");
}

/* Item 2: a disk the host uses through a loop device is busy. */
static void test_loop_over_disk_mounted(void) {
        g_autoptr(DiskInfo) disk = make_disk("loop2", 7, 2, "loop", FALSE);
        g_autoptr(HostUsage) host = make_host("40 1 7:3 / /mnt rw - ext4 /dev/loop3 rw\n", fixture());
        g_autoptr(DiskUsage) usage = disk_usage_compute(disk, host);

        g_assert_cmpstr(usage->in_use, ==, "loop3 mounted at /mnt");
        g_assert_true(g_ptr_array_find_with_equal_func(usage->mountpoints, "/mnt", g_str_equal, NULL));
        assert_refused(disk, usage, PT_ERROR_DEVICE_BUSY,
                       "/dev/loop3 is mounted at /mnt. Unmount the device before attaching: sudo umount /dev/loop3");
}

static void test_loop_over_disk_unmounted_holds(void) {
        g_autoptr(DiskInfo) disk = make_disk("loop2", 7, 2, "loop", FALSE);
        g_autoptr(HostUsage) host = make_host("", fixture());
        g_autoptr(DiskUsage) usage = disk_usage_compute(disk, host);

        g_assert_cmpstr(usage->in_use, ==, "held by loop3");
        g_assert_cmpint(usage->busy, ==, DISK_BUSY_HELD);
        assert_refused(disk, usage, PT_ERROR_DEVICE_BUSY,
                       "/dev/loop2 is held by loop3 (a loop device over it). Detach it first: sudo losetup -d /dev/loop3");
}

/* A loop device over a partition holds the disk; the loop itself is free. */
static void test_loop_over_partition(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdz", 8, 208, "usb", TRUE);
        g_autoptr(DiskInfo) loop = make_disk("loop4", 7, 4, "loop", FALSE);
        g_autoptr(HostUsage) host = make_host("", fixture());
        g_autoptr(DiskUsage) usage = NULL;
        g_autoptr(DiskUsage) loop_usage = NULL;

        block_graph_add(host->graph, "loop4", makedev(7, 4), NULL);
        block_graph_link(host->graph, "loop4", "sdz1");
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "sdz1 held by loop4");
        loop_usage = disk_usage_compute(loop, host);
        g_assert_cmpstr(loop_usage->in_use, ==, "");
        g_assert_false(loop_usage->system);
}

/* The loop device takes the busy state of what it stands on... */
static void test_loop_over_mounted_disk_is_busy(void) {
        g_autoptr(DiskInfo) loop = make_disk("loop4", 7, 4, "loop", FALSE);
        g_autoptr(HostUsage) host = make_host("40 1 8:210 / /data rw - ext4 /dev/sdz2 rw\n", fixture());
        g_autoptr(DiskUsage) usage = NULL;

        block_graph_add(host->graph, "loop4", makedev(7, 4), NULL);
        block_graph_link(host->graph, "loop4", "sdz1");
        usage = disk_usage_compute(loop, host);
        g_assert_cmpstr(usage->in_use, ==, "sdz2 mounted at /data");
        assert_refused(loop, usage, PT_ERROR_DEVICE_BUSY,
                       "/dev/sdz2 is mounted at /data. Unmount the device before attaching: sudo umount /dev/sdz2");
}

/* ...and the strongest class: over an internal disk it is a system disk,
 * over a critical one it is refused. */
static void test_loop_over_internal_disk(void) {
        g_autoptr(DiskInfo) loop = make_disk("loop5", 7, 5, "loop", FALSE);
        g_autoptr(BlockGraph) graph = block_graph_new();
        g_autoptr(DiskUsage) usage = NULL;
        HostUsage *host;

        block_graph_add(graph, "sda", makedev(8, 0), NULL)->internal = TRUE;
        block_graph_add(graph, "loop5", makedev(7, 5), NULL);
        block_graph_link(graph, "loop5", "sda");
        host = make_host("", g_steal_pointer(&graph));
        usage = disk_usage_compute(loop, host);
        g_assert_true(usage->system);
        g_assert_false(usage->critical);
        g_clear_pointer(&usage, disk_usage_free);

        g_ptr_array_add(host->critical_disks, g_strdup("sda"));
        g_ptr_array_add(host->critical_reasons, g_strdup("holds /"));
        usage = disk_usage_compute(loop, host);
        g_assert_true(usage->critical);
        assert_refused(loop, usage, PT_ERROR_SYSTEM_DEVICE, "/dev/loop5 holds / and cannot be given to a VM");
        host_usage_free(host);
}

/* dm over a partition: held, and its mount is seen through it. */
static void test_dm_over_partition(void) {
        g_autoptr(DiskInfo) disk = make_disk("sdz", 8, 208, "usb", TRUE);
        g_autoptr(HostUsage) host = make_host("", fixture());
        g_autoptr(DiskUsage) usage = NULL;

        block_graph_add(host->graph, "dm-0", makedev(253, 0), NULL);
        block_graph_link(host->graph, "dm-0", "sdz1");
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "sdz1 held by dm-0");
        g_clear_pointer(&usage, disk_usage_free);
        g_clear_pointer(&host->mounts, mount_table_free);
        host->mounts = mount_table_parse("40 1 253:0 / /home rw - ext4 /dev/mapper/home rw\n");
        usage = disk_usage_compute(disk, host);
        g_assert_cmpstr(usage->in_use, ==, "dm-0 mounted at /home");
}

/* ---- reading a sysfs tree ---- */

static void write_file(const char *dir, const char *name, const char *text) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *parent = g_path_get_dirname(path);

        g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void link_class(const char *root, const char *name, const char *device_dir) {
        g_autofree char *link = g_build_filename(root, "class", name, NULL);

        g_assert_cmpint(symlink(device_dir, link), ==, 0);
}

static void test_read_tree(void) {
        g_autofree char *root = g_dir_make_tmp("pt-sysfs-XXXXXX", NULL);
        g_autofree char *class = g_build_filename(root, "class", NULL);
        g_autofree char *sdz = g_build_filename(root, "devices/pci0/usb1/1-1/host0/block/sdz", NULL);
        g_autofree char *sdz1 = g_build_filename(sdz, "sdz1", NULL);
        g_autofree char *sda = g_build_filename(root, "devices/pci0/ata1/block/sda", NULL);
        g_autofree char *dm = g_build_filename(root, "devices/virtual/block/dm-0", NULL);
        g_autoptr(BlockGraph) graph = NULL;
        g_autoptr(GError) error = NULL;
        const BlockNode *node;

        write_file(sdz, "dev", "8:208\n");
        write_file(sdz, "removable", "0\n");
        write_file(sdz1, "dev", "8:209\n");
        write_file(sdz1, "partition", "1\n");
        write_file(sda, "dev", "8:0\n");
        write_file(sda, "removable", "0\n");
        write_file(dm, "dev", "253:0\n");
        write_file(dm, "slaves/.keep", "");
        g_assert_cmpint(g_mkdir_with_parents(class, 0755), ==, 0);
        link_class(root, "sdz", sdz);
        link_class(root, "sdz1", sdz1);
        link_class(root, "sda", sda);
        link_class(root, "dm-0", dm);
        {
                g_autofree char *slave = g_build_filename(dm, "slaves", "sdz1", NULL);
                g_autofree char *keep = g_build_filename(dm, "slaves", ".keep", NULL);

                g_assert_cmpint(g_unlink(keep), ==, 0);
                g_assert_cmpint(symlink(sdz1, slave), ==, 0);
        }
        graph = block_graph_read(class, &error);
        g_assert_no_error(error);
        node = block_graph_get(graph, "sdz1");
        g_assert_nonnull(node);
        g_assert_cmpstr(node->whole, ==, "sdz");
        g_assert_true(node->devnum == makedev(8, 209));
        g_assert_cmpstr(g_ptr_array_index(node->upper, 0), ==, "dm-0");
        g_assert_false(block_graph_get(graph, "sdz")->internal);   /* on usb */
        g_assert_true(block_graph_get(graph, "sda")->internal);
        g_assert_true(block_graph_find_devnum(graph, makedev(253, 0)) == block_graph_get(graph, "dm-0"));
        {
                g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);

                g_assert_cmpint(system(cmd), ==, 0);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/blockgraph/below", test_below);
        g_test_add_func("/blockgraph/cycle-ends", test_cycle_ends);
        g_test_add_func("/blockgraph/vm-holds-partition", test_vm_holds_partition);
        g_test_add_func("/blockgraph/vm-holds-device-above", test_vm_holds_device_above);
        g_test_add_func("/blockgraph/vm-holds-disk", test_vm_holds_disk);
        g_test_add_func("/blockgraph/loop-over-disk-mounted", test_loop_over_disk_mounted);
        g_test_add_func("/blockgraph/loop-over-disk-unmounted-holds", test_loop_over_disk_unmounted_holds);
        g_test_add_func("/blockgraph/loop-over-partition", test_loop_over_partition);
        g_test_add_func("/blockgraph/loop-over-mounted-disk-is-busy", test_loop_over_mounted_disk_is_busy);
        g_test_add_func("/blockgraph/loop-over-internal-disk", test_loop_over_internal_disk);
        g_test_add_func("/blockgraph/dm-over-partition", test_dm_over_partition);
        g_test_add_func("/blockgraph/read-tree", test_read_tree);
        return g_test_run();
}
