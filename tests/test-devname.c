/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names polkit prompts show (service/model/devname.c). */
#include "config.h"

#include "devname.h"

static void test_sizes(void) {
        static const struct { guint64 bytes; const char *text; } cases[] = {
                { 0, "0 B" },
                { 999, "999 B" },
                { 1000, "1.0 kB" },
                { 16 * 1024 * 1024, "17 MB" },
                { 1500000, "1.5 MB" },
                { 31914983424ULL, "32 GB" },       /* a "32 GB" stick */
                { 1000204886016ULL, "1.0 TB" },
                { 999999999999ULL, "1.0 TB" },    /* no "1000 GB" */
                { 9960000000ULL, "10 GB" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = size_for_display(cases[i].bytes);

                g_assert_cmpstr(text, ==, cases[i].text);
        }
}

static char *disk_name(const char *vendor, const char *model, guint64 size, const char *path) {
        DiskInfo disk = { .vendor = (char *) vendor, .model = (char *) model, .size = size, .path = (char *) path };

        return disk_display_name(&disk);
}

static void test_disks(void) {
        static const struct { const char *vendor, *model; guint64 size; const char *path, *text; } cases[] = {
                { "SanDisk", "Ultra", 31914983424ULL, "/dev/sdb", "SanDisk Ultra 32 GB (/dev/sdb)" },
                { "ATA", "WDC_WD10EZEX-08M2NA0", 1000204886016ULL, "/dev/sda",
                  "WDC WD10EZEX-08M2NA0 1.0 TB (/dev/sda)" },
                { "Kingston", "Kingston DataTraveler", 8000000000ULL, "/dev/sdc",
                  "Kingston DataTraveler 8.0 GB (/dev/sdc)" },
                { "", "", 16 * 1024 * 1024, "/dev/loop3", "17 MB (/dev/loop3)" },
                { NULL, NULL, 512110190592ULL, "/dev/nvme0n1", "512 GB (/dev/nvme0n1)" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = disk_name(cases[i].vendor, cases[i].model, cases[i].size, cases[i].path);

                g_assert_cmpstr(text, ==, cases[i].text);
        }
}

static void test_usb(void) {
        UsbDevice stick = { .manufacturer = (char *) "SanDisk", .product = (char *) "Cruzer Blade",
                            .vendor_id = (char *) "0781", .product_id = (char *) "5567", .port = (char *) "1-2" };
        UsbDevice qemu = { .manufacturer = (char *) "QEMU", .product = (char *) "QEMU USB HARDDRIVE",
                           .vendor_id = (char *) "46f4", .product_id = (char *) "0001", .port = (char *) "1-1.1" };
        UsbDevice bare = { .manufacturer = (char *) "", .product = (char *) "",
                           .vendor_id = (char *) "abcd", .product_id = (char *) "ef01", .port = (char *) "3-4" };
        g_autofree char *a = usb_display_name(&stick);
        g_autofree char *b = usb_display_name(&qemu);
        g_autofree char *c = usb_display_name(&bare);

        g_assert_cmpstr(a, ==, "SanDisk Cruzer Blade (USB 1-2)");
        g_assert_cmpstr(b, ==, "QEMU USB HARDDRIVE (USB 1-1.1)");
        g_assert_cmpstr(c, ==, "abcd:ef01 (USB 3-4)");
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/devname/sizes", test_sizes);
        g_test_add_func("/devname/disks", test_disks);
        g_test_add_func("/devname/usb", test_usb);
        return g_test_run();
}
