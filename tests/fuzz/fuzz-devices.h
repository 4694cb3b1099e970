/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fixed, hand-built device lists the harnesses resolve and match against,
 * with the awkward cases: a root hub, a hub, two sticks with one serial, a
 * device without serial, serials that look like a port, a bus:dev address
 * and a vendor:product; disks sharing a serial, a WWN in upper case, a disk
 * with nothing stable (a loop device). */
#pragma once

#include "disks.h"
#include "usb.h"

static inline void fuzz_add_usb(GPtrArray *devices, guint bus, guint device, const char *port, const char *vp,
                                const char *serial, gboolean hub) {
        UsbDevice *dev = usb_device_new();

        dev->syspath = g_strdup_printf("/sys/devices/pci0000:00/0000:00:14.0/usb%u/%s", bus, port);
        dev->bus = bus;
        dev->device = device;
        dev->port = g_strdup(port);
        dev->vendor_id = g_strndup(vp, 4);
        dev->product_id = g_strdup(vp + 5);
        dev->serial = g_strdup(serial);
        dev->manufacturer = g_strdup("");
        dev->product = g_strdup(hub ? "Hub" : "Device");
        dev->is_root_hub = g_str_has_suffix(port, "-0");
        dev->is_hub = hub;
        g_ptr_array_add(devices, dev);
}

/* With Ids assigned, as usb_list() gives them. */
static inline GPtrArray *fuzz_usb_devices(void) {
        GPtrArray *devices = g_ptr_array_new_with_free_func((GDestroyNotify) usb_device_free);

        fuzz_add_usb(devices, 1, 1, "1-0", "1d6b:0002", "0000:00:14.0", TRUE);
        fuzz_add_usb(devices, 1, 2, "1-1", "05e3:0608", "", TRUE);
        fuzz_add_usb(devices, 1, 5, "1-1.2", "0781:5583", "4C530001", FALSE);
        fuzz_add_usb(devices, 1, 6, "1-1.3", "0781:5583", "4C530001", FALSE);
        fuzz_add_usb(devices, 2, 3, "2-3", "046d:c52b", "", FALSE);
        fuzz_add_usb(devices, 3, 10, "3-1.4.2", "1050:0407", "1-1.2", FALSE);
        fuzz_add_usb(devices, 3, 11, "3-2", "1a86:7523", "2:3", FALSE);
        fuzz_add_usb(devices, 4, 100, "4-1.1.1.1.1.1.1.1", "abcd:ef01", "046d:c52b", FALSE);
        fuzz_add_usb(devices, 4, 7, "4-2", "abcd:ef01", "sn with spaces", FALSE);
        usb_assign_ids(devices);
        return devices;
}

static inline void fuzz_add_disk(GPtrArray *disks, const char *name, const char *wwn, const char *serial,
                                 const char *by_id) {
        DiskInfo *disk = g_new0(DiskInfo, 1);

        disk->name = g_strdup(name);
        disk->path = g_strconcat("/dev/", name, NULL);
        disk->id = g_strdup(by_id ? by_id : name);
        disk->model = g_strdup("Disk");
        disk->serial = g_strdup(serial);
        disk->wwn = g_strdup(wwn);
        disk->transport = g_strdup("sata");
        disk->partitions = g_ptr_array_new();
        disk->holders = g_ptr_array_new_with_free_func(g_free);
        disk->by_id = g_ptr_array_new_with_free_func(g_free);
        if (by_id)
                g_ptr_array_add(disk->by_id, g_strdup(by_id));
        g_ptr_array_add(disks, disk);
}

static inline GPtrArray *fuzz_disks(void) {
        GPtrArray *disks = g_ptr_array_new_with_free_func((GDestroyNotify) disk_info_free);

        fuzz_add_disk(disks, "sda", "0x5000c500a1b2c3d4", "ZA1B2C3D", "wwn-0x5000c500a1b2c3d4");
        fuzz_add_disk(disks, "sdb", "0X5000C500FFFF0000", "SHARED", "ata-Disk_SHARED");
        fuzz_add_disk(disks, "sdc", "", "SHARED", "usb-Generic_Flash-0:0");
        fuzz_add_disk(disks, "nvme0n1", "eui.0025388b71b2c3d4", "S4EWNX0N", "nvme-eui.0025388b71b2c3d4");
        fuzz_add_disk(disks, "loop0", "", "", NULL);
        return disks;
}
