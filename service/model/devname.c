/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "devname.h"

char *size_for_display(guint64 bytes) {
        static const char *const units[] = { "kB", "MB", "GB", "TB", "PB", "EB" };
        double value = (double) bytes;
        guint unit = 0;

        if (bytes < 1000)
                return g_strdup_printf("%u B", (guint) bytes);
        value /= 1000.0;
        while (value >= 999.95 && unit + 1 < G_N_ELEMENTS(units)) {
                value /= 1000.0;
                unit++;
        }
        /* One decimal below 10 units, where it says something. */
        return g_strdup_printf(value < 9.95 ? "%.1f %s" : "%.0f %s", value, units[unit]);
}

/* udev's ID_MODEL writes spaces as '_': "WDC_WD10EZEX-08M2NA0". */
static char *readable(const char *text) {
        return g_strstrip(g_strdelimit(g_strdup(text ? text : ""), "_", ' '));
}

/* "vendor model", leaving out a vendor the model already starts with. */
static void append_maker(GString *out, const char *vendor_text, const char *model_text) {
        g_autofree char *vendor = readable(vendor_text);
        g_autofree char *model = readable(model_text);
        gboolean vendor_in_model = *vendor && g_ascii_strncasecmp(model, vendor, strlen(vendor)) == 0;

        if (*vendor && !vendor_in_model)
                g_string_append_printf(out, "%s ", vendor);
        if (*model)
                g_string_append_printf(out, "%s ", model);
}

char *disk_display_name(const DiskInfo *disk) {
        GString *out = g_string_new(NULL);
        g_autofree char *size = size_for_display(disk->size);
        const char *vendor = g_ascii_strcasecmp(disk->vendor ? disk->vendor : "", "ATA") == 0 ? "" : disk->vendor;

        append_maker(out, vendor, disk->model);
        g_string_append_printf(out, "%s (%s)", size, disk->path);
        return g_string_free(out, FALSE);
}

char *usb_display_name(const UsbDevice *dev) {
        GString *out = g_string_new(NULL);

        append_maker(out, dev->manufacturer, dev->product);
        if (out->len == 0)
                g_string_append_printf(out, "%s:%s ", dev->vendor_id, dev->product_id);
        g_string_append_printf(out, "(USB %s)", dev->port);
        return g_string_free(out, FALSE);
}
