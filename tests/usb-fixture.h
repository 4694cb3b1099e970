/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: a hand-built USB device, named as the kernel names it. */
#pragma once

#include "usb.h"

static inline UsbDevice *fixture_usb(guint bus, guint device, const char *port, const char *vp, const char *serial,
                                     const char *product) {
        UsbDevice *dev = usb_device_new();
        g_auto(GStrv) ids = g_strsplit(vp, ":", 2);

        dev->syspath = g_strdup_printf("/sys/devices/pci0000:00/0000:00:14.0/usb%u/%s", bus, port);
        dev->bus = bus;
        dev->device = device;
        dev->port = g_strdup(port);
        dev->vendor_id = g_strdup(ids[0]);
        dev->product_id = g_strdup(ids[1]);
        dev->serial = g_strdup(serial);
        dev->manufacturer = g_strdup("");
        dev->product = g_strdup(product);
        dev->is_root_hub = g_str_has_suffix(port, "-0");
        dev->is_hub = dev->is_root_hub;
        return dev;
}

/* The device at `port` in a list (it must be there). */
static inline const UsbDevice *fixture_usb_at(GPtrArray *devices, const char *port) {
        for (guint i = 0; i < devices->len; i++)
                if (g_str_equal(((UsbDevice *) devices->pdata[i])->port, port))
                        return devices->pdata[i];
        g_assert_not_reached();
}
