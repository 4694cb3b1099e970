/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <systemd/sd-hwdb.h>

#include "errors.h"
#include "udev-util.h"
#include "usb.h"

#define MAX_SPEC 255
#define HUB_CLASS "09"

UsbDevice *usb_device_new(void) {
        return g_new0(UsbDevice, 1);
}

void usb_device_free(UsbDevice *dev) {
        if (!dev)
                return;
        g_free(dev->syspath);
        g_free(dev->id);
        g_free(dev->port);
        g_free(dev->vendor_id);
        g_free(dev->product_id);
        g_free(dev->serial);
        g_free(dev->manufacturer);
        g_free(dev->product);
        g_free(dev);
}

UsbDevice *usb_device_copy(const UsbDevice *dev) {
        UsbDevice *copy = g_memdup2(dev, sizeof(*dev));

        copy->syspath = g_strdup(dev->syspath);
        copy->id = g_strdup(dev->id);
        copy->port = g_strdup(dev->port);
        copy->vendor_id = g_strdup(dev->vendor_id);
        copy->product_id = g_strdup(dev->product_id);
        copy->serial = g_strdup(dev->serial);
        copy->manufacturer = g_strdup(dev->manufacturer);
        copy->product = g_strdup(dev->product);
        return copy;
}

/* ---------------------------------------------------------------- syntax */

/* After 1..max decimal digits at s, or NULL. */
static const char *skip_number(const char *s, guint max) {
        guint n = 0;

        while (g_ascii_isdigit(s[n]) && n < max)
                n++;
        return n > 0 && !g_ascii_isdigit(s[n]) ? s + n : NULL;
}

gboolean usb_port_valid(const char *spec) {
        const char *p = skip_number(spec, 3);

        if (!p || *p != '-')
                return FALSE;
        for (guint depth = 0; depth < 8; depth++) {
                p = skip_number(p + 1, 3);
                if (!p)
                        return FALSE;
                if (*p == '\0')
                        return TRUE;
                if (*p != '.')
                        return FALSE;
        }
        return FALSE;
}

/* "bus:dev", both decimal. */
static gboolean parse_bus_device(const char *spec, guint *bus, guint *device) {
        const char *colon = skip_number(spec, 3);
        const char *end = colon && *colon == ':' ? skip_number(colon + 1, 3) : NULL;

        if (!end || *end != '\0')
                return FALSE;
        *bus = (guint) strtoul(spec, NULL, 10);
        *device = (guint) strtoul(colon + 1, NULL, 10);
        return TRUE;
}

static gboolean is_hex4(const char *s) {
        for (guint i = 0; i < 4; i++)
                if (!g_ascii_isxdigit(s[i]))
                        return FALSE;
        return TRUE;
}

/* "VVVV:PPPP" (either case). */
static gboolean is_vendor_product(const char *spec) {
        return strlen(spec) == 9 && is_hex4(spec) && spec[4] == ':' && is_hex4(spec + 5);
}

gboolean usb_parse_hex_id(const char *text, guint *out) {
        gsize n;

        if (!text)
                return FALSE;
        if (g_str_has_prefix(text, "0x") || g_str_has_prefix(text, "0X"))
                text += 2;
        n = strlen(text);
        if (n < 1 || n > 4)
                return FALSE;
        for (gsize i = 0; i < n; i++)
                if (!g_ascii_isxdigit(text[i]))
                        return FALSE;
        *out = (guint) strtoul(text, NULL, 16);
        return TRUE;
}

gboolean usb_spec_valid(const char *spec, GError **error) {
        gsize n = strlen(spec);

        if (n > 0 && n <= MAX_SPEC && device_string_printable(spec))
                return TRUE;
        g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                            "Invalid USB device: pass a serial number, bus:device, a port like 1-2.3, "
                            "vendor:product or an Id from ListUsbDevices (1-255 printable ASCII characters)");
        return FALSE;
}

char *usb_alias_for_port(const char *port) {
        g_autofree char *alias = g_strconcat(USB_ALIAS_PREFIX, port, NULL);

        g_strdelimit(alias, ".", '_');
        return g_steal_pointer(&alias);
}

char *usb_hostdev_xml(const UsbDevice *dev) {
        g_autofree char *alias = usb_alias_for_port(dev->port);
        UsbHostdevXmlSpec spec = { .bus = dev->bus, .device = dev->device, .alias = alias };

        if (!usb_parse_hex_id(dev->vendor_id, &spec.vendor) || !usb_parse_hex_id(dev->product_id, &spec.product))
                return NULL;
        return devxml_build_usb_hostdev(&spec);
}

char *usb_hostdev_xml_from_domain(const DomainUsbHostdev *hostdev) {
        UsbHostdevXmlSpec spec = { .bus = hostdev->bus, .device = hostdev->device };

        if (g_str_has_prefix(hostdev->alias ? hostdev->alias : "", "ua-"))
                spec.alias = hostdev->alias;
        (void) usb_parse_hex_id(hostdev->vendor, &spec.vendor);
        (void) usb_parse_hex_id(hostdev->product, &spec.product);
        return devxml_build_usb_hostdev(&spec);
}

/* ---------------------------------------------------------------- Ids */

static char *vendor_product(const UsbDevice *dev) {
        return g_strdup_printf("%s:%s", dev->vendor_id, dev->product_id);
}

static guint serial_count(GPtrArray *devices, const char *serial) {
        guint n = 0;

        for (guint i = 0; i < devices->len; i++)
                if (g_str_equal(((UsbDevice *) devices->pdata[i])->serial, serial))
                        n++;
        return n;
}

void usb_assign_ids(GPtrArray *devices) {
        usb_assign_ids_keeping(devices, NULL);   /* nothing known: every Id decided now */
}


void usb_assign_ids_keeping(GPtrArray *devices, GHashTable *known) {
        g_autoptr(GHashTable) used = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < devices->len; i++) {
                UsbDevice *dev = devices->pdata[i];
                const char *kept = known ? g_hash_table_lookup(known, dev->syspath) : NULL;

                g_free(dev->id);
                dev->id = g_strdup(kept);
                if (dev->id)
                        g_hash_table_add(used, dev->id);
        }
        for (guint i = 0; i < devices->len; i++) {
                UsbDevice *dev = devices->pdata[i];
                g_autofree char *serial_id = NULL;

                if (dev->id)
                        continue;
                serial_id = g_strdup_printf("%s:%s:%s", dev->vendor_id, dev->product_id, dev->serial);
                if (*dev->serial && serial_count(devices, dev->serial) == 1 && !g_hash_table_contains(used, serial_id))
                        dev->id = g_steal_pointer(&serial_id);
                else
                        dev->id = g_strdup_printf("%s:%s@%s", dev->vendor_id, dev->product_id, dev->port);
                g_hash_table_add(used, dev->id);
        }
}

/* The Ids given so far, shared by every reader (the device events, the
 * model, the requests): a device keeps its Id while it stays. */
static GMutex ids_lock;
static GHashTable *ids_known;   /* syspath -> Id */

void usb_ids_remember(GHashTable *syspath_to_id) {
        GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init(&iter, syspath_to_id);
        while (g_hash_table_iter_next(&iter, &key, &value))
                g_hash_table_insert(copy, g_strdup(key), g_strdup(value));
        g_mutex_lock(&ids_lock);
        if (ids_known)
                g_hash_table_unref(ids_known);
        ids_known = copy;
        g_mutex_unlock(&ids_lock);
}

GHashTable *usb_ids_known(void) {
        GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        GHashTableIter iter;
        gpointer key, value;

        g_mutex_lock(&ids_lock);
        if (ids_known) {
                g_hash_table_iter_init(&iter, ids_known);
                while (g_hash_table_iter_next(&iter, &key, &value))
                        g_hash_table_insert(copy, g_strdup(key), g_strdup(value));
        }
        g_mutex_unlock(&ids_lock);
        return copy;
}

/* ---------------------------------------------------------------- resolving */

static gboolean spec_matches(const UsbDevice *dev, const char *spec) {
        guint bus, device;

        if (*dev->serial && g_str_equal(dev->serial, spec))
                return TRUE;
        if (parse_bus_device(spec, &bus, &device))
                return dev->bus == bus && dev->device == device;
        if (usb_port_valid(spec))
                return g_str_equal(dev->port, spec);
        if (is_vendor_product(spec)) {
                g_autofree char *vp = vendor_product(dev);

                return g_ascii_strcasecmp(vp, spec) == 0;
        }
        return FALSE;
}

static void describe(GString *out, const UsbDevice *dev) {
        g_string_append_printf(out, "%s (%s%sport %s)", dev->id, dev->product, *dev->product ? ", " : "", dev->port);
}

static void set_ambiguous(GError **error, const char *spec, GPtrArray *candidates) {
        g_autoptr(GString) list = g_string_new(NULL);

        for (guint i = 0; i < candidates->len; i++) {
                if (i > 0)
                        g_string_append(list, ", ");
                describe(list, candidates->pdata[i]);
        }
        g_set_error(error, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE,
                    "'%s' matches %u USB devices: %s. Pass one of these Ids", spec, candidates->len, list->str);
}

const UsbDevice *usb_resolve(GPtrArray *devices, const char *spec, GError **error) {
        g_autoptr(GPtrArray) candidates = g_ptr_array_new();

        if (!usb_spec_valid(spec, error))
                return NULL;
        for (guint i = 0; i < devices->len; i++)
                if (g_strcmp0(((UsbDevice *) devices->pdata[i])->id, spec) == 0)
                        return devices->pdata[i];
        for (guint i = 0; i < devices->len; i++)
                if (spec_matches(devices->pdata[i], spec))
                        g_ptr_array_add(candidates, devices->pdata[i]);
        if (candidates->len == 1)
                return candidates->pdata[0];
        if (candidates->len > 1)
                set_ambiguous(error, spec, candidates);
        else
                g_set_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE,
                            "No USB device '%s'", spec);
        return NULL;
}

gboolean usb_check_attachable(const UsbDevice *dev, GError **error) {
        if (dev->is_root_hub) {
                g_set_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                            "%s is the root hub of USB bus %u (the host controller); it cannot be given to a VM. "
                            "Pass a device plugged into it", dev->id, dev->bus);
                return FALSE;
        }
        if (dev->is_hub) {
                g_set_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                            "%s (port %s) is a USB hub; hubs cannot be given to a VM. "
                            "Pass a device plugged into it", dev->id, dev->port);
                return FALSE;
        }
        return TRUE;
}

gboolean usb_hostdev_holds(const DomainUsbHostdev *hostdev, const UsbDevice *dev) {
        guint dev_vendor = 0, dev_product = 0, id = 0;

        if (hostdev->bus != dev->bus || hostdev->device != dev->device)
                return FALSE;
        if (!usb_parse_hex_id(dev->vendor_id, &dev_vendor) || !usb_parse_hex_id(dev->product_id, &dev_product))
                return FALSE;
        if (hostdev->vendor && (!usb_parse_hex_id(hostdev->vendor, &id) || id != dev_vendor))
                return FALSE;
        if (hostdev->product && (!usb_parse_hex_id(hostdev->product, &id) || id != dev_product))
                return FALSE;
        return TRUE;
}

/* ---------------------------------------------------------------- sysfs */

static gboolean read_number(UdevDevice *udev_dev, const char *attr, guint *out) {
        g_autofree char *text = device_string_clean(udev_device_get_sysattr_value(udev_dev, attr));
        guint64 value = 0;

        if (!g_ascii_string_to_unsigned(text, 10, 1, 999, &value, NULL))
                return FALSE;
        *out = (guint) value;
        return TRUE;
}

static char *read_hex_id(UdevDevice *udev_dev, const char *attr) {
        g_autofree char *text = device_string_clean(udev_device_get_sysattr_value(udev_dev, attr));
        guint value = 0;

        if (!usb_parse_hex_id(text, &value))
                return NULL;
        return g_strdup_printf("%04x", value);
}

/* The physical path: busnum-devpath, as the kernel names non-root devices. */
static char *read_port(UdevDevice *udev_dev, guint bus) {
        g_autofree char *devpath = device_string_clean(udev_device_get_sysattr_value(udev_dev, "devpath"));
        g_autofree char *port = g_strdup_printf("%u-%s", bus, devpath);

        return usb_port_valid(port) ? g_steal_pointer(&port) : NULL;
}

static gboolean attr_equals(UdevDevice *udev_dev, const char *attr, const char *value) {
        g_autofree char *text = device_string_clean(udev_device_get_sysattr_value(udev_dev, attr));

        return g_str_equal(text, value);
}

/* A name the device does not give itself, from the hardware database
 * (sd-hwdb: usb:vVVVVpPPPP), or "". */
static char *hwdb_name(const UsbDevice *dev, const char *key) {
        static GMutex lock;
        static sd_hwdb *hwdb;
        static gboolean tried;
        g_autofree char *modalias = g_strdup_printf("usb:v%sp%s", dev->vendor_id, dev->product_id);
        const char *value = NULL;
        char *name;

        g_mutex_lock(&lock);
        if (!tried && sd_hwdb_new(&hwdb) < 0)
                hwdb = NULL;
        tried = TRUE;
        for (char *p = modalias; *p; p++)
                *p = g_ascii_toupper(*p);
        memcpy(modalias, "usb:v", 5);
        if (hwdb && sd_hwdb_get(hwdb, modalias, key, &value) < 0)
                value = NULL;
        name = device_string_clean(value);
        g_mutex_unlock(&lock);
        return name;
}

static void fill_from_hwdb(char **name, const UsbDevice *dev, const char *key) {
        if (**name)
                return;
        g_free(*name);
        *name = hwdb_name(dev, key);
}

static UsbDevice *usb_device_from_udev(UdevDevice *udev_dev) {
        g_autoptr(UsbDevice) dev = usb_device_new();

        if (!read_number(udev_dev, "busnum", &dev->bus) || !read_number(udev_dev, "devnum", &dev->device))
                return NULL;
        dev->port = read_port(udev_dev, dev->bus);
        dev->vendor_id = read_hex_id(udev_dev, "idVendor");
        dev->product_id = read_hex_id(udev_dev, "idProduct");
        if (!dev->port || !dev->vendor_id || !dev->product_id)
                return NULL;
        dev->syspath = g_strdup(udev_device_get_syspath(udev_dev));
        dev->serial = device_string_clean(udev_device_get_sysattr_value(udev_dev, "serial"));
        dev->manufacturer = device_string_clean(udev_device_get_sysattr_value(udev_dev, "manufacturer"));
        dev->product = device_string_clean(udev_device_get_sysattr_value(udev_dev, "product"));
        fill_from_hwdb(&dev->manufacturer, dev, "ID_VENDOR_FROM_DATABASE");
        fill_from_hwdb(&dev->product, dev, "ID_MODEL_FROM_DATABASE");
        dev->is_root_hub = g_str_has_suffix(dev->port, "-0");
        dev->is_hub = dev->is_root_hub || attr_equals(udev_dev, "bDeviceClass", HUB_CLASS);
        return g_steal_pointer(&dev);
}

static int compare_devices(gconstpointer a, gconstpointer b) {
        const UsbDevice *x = *(UsbDevice *const *) a, *y = *(UsbDevice *const *) b;

        if (x->bus != y->bus)
                return x->bus < y->bus ? -1 : 1;
        return strverscmp(x->port, y->port);
}

static void add_device(GPtrArray *devices, Udev *udev, const char *syspath) {
        g_autoptr(UdevDevice) udev_dev = udev_device_new_from_syspath(udev, syspath);
        UsbDevice *dev;

        if (!udev_dev || g_strcmp0(udev_device_get_devtype(udev_dev), "usb_device") != 0)
                return;
        dev = usb_device_from_udev(udev_dev);
        if (dev)
                g_ptr_array_add(devices, dev);
        else
                g_debug("Ignoring USB device %s: unreadable numbers or ids", syspath);
}

GPtrArray *usb_enumerate(GError **error) {
        g_autoptr(Udev) udev = udev_util_open(error);
        g_autoptr(UdevEnumerate) all = NULL;
        g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func((GDestroyNotify) usb_device_free);
        struct udev_list_entry *entry;

        if (!udev)
                return NULL;
        all = udev_enumerate_new(udev);
        if (!all || udev_enumerate_add_match_subsystem(all, "usb") < 0 || udev_enumerate_scan_devices(all) < 0) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_FAILED, "Cannot enumerate USB devices");
                return NULL;
        }
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(all))
                add_device(devices, udev, udev_list_entry_get_name(entry));
        g_ptr_array_sort(devices, compare_devices);
        return g_steal_pointer(&devices);
}

GPtrArray *usb_list(GError **error) {
        GPtrArray *devices = usb_enumerate(error);
        g_autoptr(GHashTable) known = NULL;

        if (!devices)
                return NULL;
        known = usb_ids_known();
        usb_assign_ids_keeping(devices, known);
        return devices;
}
