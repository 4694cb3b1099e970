/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of devices as a person knows them, for polkit prompts (the
 * device.name detail): "SanDisk Ultra 32 GB (/dev/sdb)", "Logitech USB
 * Receiver (USB 1-2)". Built only from device strings, numbers and paths,
 * never from words, so they read the same in every language. Pure. */
#pragma once

#include <glib.h>

#include "disks.h"
#include "usb.h"

/* 1000-based, as drives are sold: "512 B", "1.5 MB", "32 GB", "2.0 TB". */
char *size_for_display(guint64 bytes);

/* Vendor (unless libata's "ATA" or already in the model), model, size and
 * the node: "SanDisk Ultra 32 GB (/dev/sdb)"; "17 MB (/dev/loop3)". */
char *disk_display_name(const DiskInfo *disk);

/* Manufacturer (unless already in the product) and product, else the
 * vendor:product ids, and the port: "SanDisk Cruzer Blade (USB 1-2)". */
char *usb_display_name(const UsbDevice *dev);
