/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: one device as a person sees it: its name, who holds it,
 * and whether it can be offered at all (the service's State and StateReason
 * say why not; whether polkit allows something is left to the service). */

#include "applet.h"

Device *device_new(GDBusProxy *usb, GDBusProxy *disk) {
        Device *d = g_new0(Device, 1);
        d->usb = usb ? g_object_ref(usb) : NULL;
        d->disk = disk ? g_object_ref(disk) : NULL;
        return d;
}

void device_free(Device *d) {
        g_clear_object(&d->usb);
        g_clear_object(&d->disk);
        g_free(d);
}

const char *device_id(Device *d) {
        GDBusProxy *p = d->usb ? d->usb : d->disk;
        g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(p, "Id");
        /* The proxy keeps its cached value alive while the property does not change. */
        return v && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ? g_intern_string(g_variant_get_string(v, NULL)) : "";
}

static char *usb_name(GDBusProxy *usb) {
        g_autofree char *vendor = prop_str(usb, "Manufacturer");
        g_autofree char *product = prop_str(usb, "Product");
        g_strstrip(vendor);
        g_strstrip(product);
        if (*product && *vendor && !g_str_has_prefix(product, vendor))
                return g_strdup_printf("%s %s", vendor, product);
        if (*product)
                return g_steal_pointer(&product);
        g_autofree char *vid = prop_str(usb, "VendorId");
        g_autofree char *pid = prop_str(usb, "ProductId");
        return g_strdup_printf(_("USB device %s:%s"), vid, pid);
}

/* "SanDisk Ultra (32.0 GB)", "Samsung SSD 860 (500.1 GB, /dev/sdc)". */
char *device_name(Device *d) {
        g_autofree char *base = NULL;
        g_autofree char *size = d->disk ? g_format_size(prop_u64(d->disk, "Size")) : NULL;
        if (d->usb) {
                base = usb_name(d->usb);
                return size ? g_strdup_printf("%s (%s)", base, size) : g_steal_pointer(&base);
        }
        base = prop_str(d->disk, "Model");
        g_strstrip(base);
        g_autofree char *path = prop_str(d->disk, "Path");
        if (!*base)
                return g_strdup_printf("%s (%s)", path, size);
        return g_strdup_printf("%s (%s, %s)", base, size, path);
}

/* Its name in a list: with its serial when another device of the list has
 * the same name (two sticks of one model). */
char *device_list_name(Device *d, GPtrArray *all) {
        g_autofree char *name = device_name(d);
        for (guint i = 0; i < all->len; i++) {
                g_autofree char *other = all->pdata[i] == d ? NULL : device_name(all->pdata[i]);
                if (other && g_str_equal(other, name)) {
                        g_autofree char *serial = prop_str(d->usb ? d->usb : d->disk, "Serial");
                        return *serial ? g_strdup_printf("%s %s", name, serial) : g_steal_pointer(&name);
                }
        }
        return g_steal_pointer(&name);
}

/* The domain that has it (as a USB device, or its disk), or NULL. */
char *device_holder(Device *d) {
        g_autofree char *usb = d->usb ? prop_str(d->usb, "AttachedTo") : NULL;
        if (usb && *usb)
                return g_steal_pointer(&usb);
        g_autofree char *disk = d->disk ? prop_str(d->disk, "AttachedTo") : NULL;
        return disk && *disk ? g_steal_pointer(&disk) : NULL;
}

static gboolean same_usb_identity(GDBusProxy *x, GDBusProxy *y) {
        static const char *const keys[] = { "VendorId", "ProductId", "Serial" };
        for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
                g_autofree char *vx = prop_str(x, keys[i]);
                g_autofree char *vy = prop_str(y, keys[i]);
                if (!g_str_equal(vx, vy))
                        return FALSE;
        }
        return TRUE;
}

/* The port an assignment of this USB device would follow, or NULL: without a
 * serial that tells it from the other devices of its model, the service
 * assigns its port (usb:port=1-2), so whatever is plugged in there. */
char *device_assigned_port(Device *d, GPtrArray *all) {
        if (!d->usb)
                return NULL;
        g_autofree char *serial = prop_str(d->usb, "Serial");
        gboolean unique = *serial != '\0';
        for (guint i = 0; unique && i < all->len; i++) {
                Device *other = all->pdata[i];
                if (other != d && other->usb && same_usb_identity(other->usb, d->usb))
                        unique = FALSE;
        }
        g_autofree char *port = prop_str(d->usb, "Port");
        return unique || !*port ? NULL : g_steal_pointer(&port);
}

/* Held as a USB device (not as the disk it carries). */
gboolean device_held_as_usb(Device *d) {
        g_autofree char *usb = d->usb ? prop_str(d->usb, "AttachedTo") : NULL;
        return usb && *usb;
}

/* The service can keep it assigned: a USB device, or a disk with a WWN, a
 * serial or a by-id name (its Id is then not the kernel name). */
gboolean device_assignable(Device *d) {
        if (d->usb)
                return TRUE;
        g_autofree char *wwn = prop_str(d->disk, "Wwn");
        g_autofree char *serial = prop_str(d->disk, "Serial");
        g_autofree char *name = prop_str(d->disk, "Name");
        return *wwn || *serial || !g_str_equal(device_id(d), name);
}

/* Attached by something else than passthrough: giving it back takes an administrator. */
gboolean device_foreign(Device *d) {
        g_autofree char *by = prop_str(device_held_as_usb(d) ? d->usb : d->disk, "AttachedBy");
        return g_str_equal(by, "other");
}

static gboolean under_user_media(const char *mountpoint) {
        const char *user = g_get_user_name();
        g_autofree char *media = g_build_filename("/media", user, NULL);
        g_autofree char *run_media = g_build_filename("/run/media", user, NULL);
        for (const char *dir = media; dir; dir = dir == media ? run_media : NULL) {
                size_t n = strlen(dir);
                if (strncmp(mountpoint, dir, n) == 0 && mountpoint[n] == '/')
                        return TRUE;
        }
        return FALSE;
}

/* Busy only because the desktop mounted it for this user (UDisks2's
 * /media/USER or /run/media/USER): "Unmount and attach" can free it. */
gboolean device_user_mounted(Device *d) {
        if (!d->disk)
                return FALSE;
        g_autofree char *state = prop_str(d->disk, "State");
        g_autofree char *in_use = prop_str(d->disk, "InUse");
        g_auto(GStrv) mounts = prop_strv(d->disk, "Mountpoints");
        if (!g_str_equal(state, "busy") || !mounts[0] || !g_str_has_prefix(in_use, "mounted at "))
                return FALSE;
        for (char **m = mounts; *m; m++)
                if (!under_user_media(*m))
                        return FALSE;
        return TRUE;
}

/* Why it cannot be offered (a hub, a disk the host uses for reasons the
 * user cannot undo), or NULL. */
char *device_unusable_reason(Device *d) {
        g_autofree char *holder = device_holder(d);
        if (holder || device_user_mounted(d))
                return NULL;
        GDBusProxy *p = d->disk ? d->disk : d->usb;
        g_autofree char *state = prop_str(d->usb ? d->usb : d->disk, "State");
        if (d->usb && g_str_equal(state, "unavailable"))
                return prop_str(d->usb, "StateReason");
        g_autofree char *disk_state = prop_str(p, "State");
        if (g_str_equal(disk_state, "busy") || g_str_equal(state, "busy"))
                return prop_str(g_str_equal(disk_state, "busy") ? p : d->usb, "StateReason");
        return NULL;
}

/* The window's State column: the service's own words. */
char *device_state(Device *d) {
        GDBusProxy *p = d->usb ? d->usb : d->disk;
        g_autofree char *holder = device_holder(d);
        if (holder && !device_held_as_usb(d))
                p = d->disk;
        g_autofree char *reason = prop_str(p, "StateReason");
        if (*reason)
                return g_steal_pointer(&reason);
        return prop_str(p, "State");
}
