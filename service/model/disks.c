/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "blockgraph.h"
#include "disks.h"
#include "errors.h"
#include "udev-util.h"

#define MAX_SPEC 255
#define MAX_DEPTH 16            /* dm on md on dm ... */
#define SECTOR_SIZE 512

static const char *const system_mounts[] = { "/", "/boot", "/efi", "/boot/efi", NULL };

G_GNUC_PRINTF(3, 4)
static gboolean fail(GError **error, PtError code, const char *format, ...) {
        g_autofree char *message = NULL;
        va_list args;

        va_start(args, format);
        message = g_strdup_vprintf(format, args);
        va_end(args);
        g_set_error_literal(error, PT_ERROR, code, message);
        return FALSE;
}

/* ---------------------------------------------------------------- strings */

/* Host strings (mount points) shown to humans and sent over D-Bus. */
static char *display_string(const char *s) {
        char *out = g_utf8_make_valid(s, -1);

        for (char *p = out; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return out;
}

static const char *skip_digits(const char *s) {
        while (g_ascii_isdigit(*s))
                s++;
        return s;
}

/* "sdb2" < "sdb10", "loop2" < "loop10". */
static int natural_compare(const char *a, const char *b) {
        while (*a && *b) {
                if (g_ascii_isdigit(*a) && g_ascii_isdigit(*b)) {
                        const char *end_a = skip_digits(a), *end_b = skip_digits(b);
                        int r;

                        if (end_a - a != end_b - b)
                                return end_a - a < end_b - b ? -1 : 1;
                        r = strncmp(a, b, (size_t) (end_a - a));
                        if (r != 0)
                                return r;
                        a = end_a;
                        b = end_b;
                        continue;
                }
                if (*a != *b)
                        break;
                a++;
                b++;
        }
        return (unsigned char) *a - (unsigned char) *b;
}

static int compare_names(gconstpointer a, gconstpointer b) {
        return natural_compare(*(char *const *) a, *(char *const *) b);
}

static gboolean strings_contain(const GPtrArray *array, const char *s) {
        if (!array)
                return FALSE;
        for (guint i = 0; i < array->len; i++)
                if (g_strcmp0(array->pdata[i], s) == 0)
                        return TRUE;
        return FALSE;
}

static GPtrArray *strings_copy(const GPtrArray *array) {
        GPtrArray *copy;

        if (!array)
                return NULL;
        copy = g_ptr_array_new_full(array->len, g_free);
        for (guint i = 0; i < array->len; i++)
                g_ptr_array_add(copy, g_strdup(array->pdata[i]));
        return copy;
}

/* ---------------------------------------------------------------- freeing */

static void block_part_free(BlockPart *part) {
        if (!part)
                return;
        g_free(part->name);
        g_clear_pointer(&part->holders, g_ptr_array_unref);
        g_free(part);
}

static BlockPart *block_part_copy(const BlockPart *part) {
        BlockPart *copy = g_new0(BlockPart, 1);

        copy->name = g_strdup(part->name);
        copy->devnum = part->devnum;
        copy->holders = strings_copy(part->holders);
        return copy;
}

void disk_info_free(DiskInfo *disk) {
        if (!disk)
                return;
        g_free(disk->name);
        g_free(disk->path);
        g_free(disk->id);
        g_free(disk->vendor);
        g_free(disk->model);
        g_free(disk->serial);
        g_free(disk->wwn);
        g_free(disk->transport);
        g_clear_pointer(&disk->partitions, g_ptr_array_unref);
        g_clear_pointer(&disk->holders, g_ptr_array_unref);
        g_clear_pointer(&disk->by_id, g_ptr_array_unref);
        g_free(disk);
}

static GPtrArray *partitions_copy(const GPtrArray *parts) {
        GPtrArray *copy;

        if (!parts)
                return NULL;
        copy = g_ptr_array_new_full(parts->len, (GDestroyNotify) block_part_free);
        for (guint i = 0; i < parts->len; i++)
                g_ptr_array_add(copy, block_part_copy(parts->pdata[i]));
        return copy;
}

DiskInfo *disk_info_copy(const DiskInfo *disk) {
        DiskInfo *copy = g_new0(DiskInfo, 1);

        copy->name = g_strdup(disk->name);
        copy->path = g_strdup(disk->path);
        copy->id = g_strdup(disk->id);
        copy->devnum = disk->devnum;
        copy->size = disk->size;
        copy->vendor = g_strdup(disk->vendor);
        copy->model = g_strdup(disk->model);
        copy->serial = g_strdup(disk->serial);
        copy->wwn = g_strdup(disk->wwn);
        copy->transport = g_strdup(disk->transport);
        copy->removable = disk->removable;
        copy->read_only = disk->read_only;
        copy->rotational = disk->rotational;
        copy->partitions = partitions_copy(disk->partitions);
        copy->holders = strings_copy(disk->holders);
        copy->by_id = strings_copy(disk->by_id);
        return copy;
}

void disk_usage_free(DiskUsage *usage) {
        if (!usage)
                return;
        g_clear_pointer(&usage->mountpoints, g_ptr_array_unref);
        g_free(usage->in_use);
        g_free(usage->critical_reason);
        g_free(usage->busy_device);
        g_free(usage->busy_detail);
        g_free(usage->vm);
        g_free(usage->vm_device);
        g_free(usage->vm_target);
        g_free(usage->vm_alias);
        g_free(usage);
}

void vm_hold_free(VmHold *hold) {
        if (!hold)
                return;
        g_free(hold->domain);
        g_free(hold->target);
        g_free(hold->alias);
        g_free(hold);
}

GHashTable *vm_holds_new(void) {
        return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) vm_hold_free);
}

void vm_holds_add(GHashTable *holds, dev_t devnum, const char *domain, const char *target, const char *alias) {
        guint64 key = devnum;
        VmHold *hold;

        if (!devnum || g_hash_table_contains(holds, &key))
                return;
        hold = g_new0(VmHold, 1);
        hold->domain = g_strdup(domain);
        hold->target = g_strdup(target);
        hold->alias = g_strdup(alias);
        g_hash_table_insert(holds, g_memdup2(&key, sizeof(key)), hold);
}

void host_usage_free(HostUsage *host) {
        if (!host)
                return;
        g_clear_pointer(&host->mounts, mount_table_free);
        g_clear_pointer(&host->swaps, g_ptr_array_unref);
        g_clear_pointer(&host->swap_devnums, g_array_unref);
        g_clear_pointer(&host->critical_disks, g_ptr_array_unref);
        g_clear_pointer(&host->critical_reasons, g_ptr_array_unref);
        g_clear_pointer(&host->graph, block_graph_free);
        g_clear_pointer(&host->vm_held, g_hash_table_unref);
        g_free(host);
}

/* ---------------------------------------------------------------- sysfs */

static gboolean is_empty(const char *s) {
        return !s || !*s;
}

/* "ID_*" keys are udev properties, anything else a sysfs attribute. */
static const char *device_value(UdevDevice *dev, const char *key) {
        if (g_str_has_prefix(key, "ID_"))
                return udev_device_get_property_value(dev, key);
        return udev_device_get_sysattr_value(dev, key);
}

/* The first non-empty cleaned value among keys (a udev "_ENC" one
 * decoded), else "". */
static char *first_value(UdevDevice *dev, const char *const *keys) {
        for (; *keys; keys++) {
                g_autofree char *value = g_str_has_suffix(*keys, "_ENC") ?
                        device_string_decode(device_value(dev, *keys)) :
                        device_string_clean(device_value(dev, *keys));

                if (*value)
                        return g_steal_pointer(&value);
        }
        return g_strdup("");
}

static gboolean attr_is_one(UdevDevice *dev, const char *attr) {
        return g_strcmp0(udev_device_get_sysattr_value(dev, attr), "1") == 0;
}

static guint64 device_size(UdevDevice *dev) {
        g_autofree char *text = g_strdup(udev_device_get_sysattr_value(dev, "size"));
        guint64 sectors;

        if (!text || !g_ascii_string_to_unsigned(g_strstrip(text), 10, 0,
                                                 G_MAXUINT64 / SECTOR_SIZE, &sectors, NULL))
                return 0;
        return sectors * SECTOR_SIZE;
}

static GPtrArray *read_dir_names(const char *syspath, const char *subdir) {
        g_autofree char *path = g_build_filename(syspath, subdir, NULL);
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        while (dir && (name = g_dir_read_name(dir)))
                g_ptr_array_add(names, device_string_clean(name));
        g_ptr_array_sort(names, compare_names);
        return names;
}

static int id_rank(const char *id) {
        return g_str_has_prefix(id, "wwn-") ? 0 : 1;
}

static int compare_ids(gconstpointer a, gconstpointer b) {
        const char *x = *(char *const *) a, *y = *(char *const *) b;

        if (id_rank(x) != id_rank(y))
                return id_rank(x) - id_rank(y);
        return strcmp(x, y);
}

static gboolean plain_name_valid(const char *s);

static void add_by_id(GPtrArray *ids, const char *link) {
        g_autofree char *id = NULL;

        if (!g_str_has_prefix(link, "/dev/disk/by-id/"))
                return;
        id = device_string_clean(link + strlen("/dev/disk/by-id/"));
        if (plain_name_valid(id) && !strings_contain(ids, id))
                g_ptr_array_add(ids, g_steal_pointer(&id));
}

/* Basenames of the /dev/disk/by-id links udev made, wwn-* first. The udev
 * database lists them; a bare uevent (umockdev) may carry DEVLINKS. */
static GPtrArray *read_by_id(UdevDevice *dev) {
        GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
        struct udev_list_entry *entry;

        udev_list_entry_foreach(entry, udev_device_get_devlinks_list_entry(dev))
                add_by_id(ids, udev_list_entry_get_name(entry));
        if (ids->len == 0) {
                const char *links = udev_device_get_property_value(dev, "DEVLINKS");
                g_auto(GStrv) parts = g_strsplit(links ? links : "", " ", -1);

                for (guint i = 0; parts[i]; i++)
                        add_by_id(ids, parts[i]);
        }
        g_ptr_array_sort(ids, compare_ids);
        return ids;
}

/* ---------------------------------------------------------------- transport */

static gboolean devpath_has_ata(const char *devpath) {
        for (const char *p = strstr(devpath, "/ata"); p; p = strstr(p + 1, "/ata"))
                if (g_ascii_isdigit(p[4]))
                        return TRUE;
        return FALSE;
}

static const char *transport_from_udev(UdevDevice *dev) {
        const char *path = udev_device_get_property_value(dev, "ID_PATH");
        const char *bus = udev_device_get_property_value(dev, "ID_BUS");

        if (path && strstr(path, "-usb"))
                return "usb";
        if (path && strstr(path, "-nvme-"))
                return "nvme";
        if (path && strstr(path, "-ata-"))
                return "sata";
        if (g_strcmp0(bus, "usb") == 0 || g_strcmp0(bus, "nvme") == 0 || g_strcmp0(bus, "scsi") == 0)
                return bus;
        if (g_strcmp0(bus, "ata") == 0)
                return "sata";
        return NULL;
}

static const char *transport_from_sysfs(UdevDevice *dev, const char *name) {
        const char *devpath = udev_device_get_devpath(dev);

        if (udev_device_get_parent_with_subsystem_devtype(dev, "usb", "usb_device"))
                return "usb";
        if (g_str_has_prefix(name, "nvme"))
                return "nvme";
        if (g_str_has_prefix(name, "mmcblk"))
                return "mmc";
        if (g_str_has_prefix(name, "vd"))
                return "virtio";
        if (g_str_has_prefix(name, "sd"))
                return devpath && devpath_has_ata(devpath) ? "sata" : "scsi";
        return "unknown";
}

static const char *device_transport(UdevDevice *dev, const char *name) {
        const char *transport;

        if (g_str_has_prefix(name, "loop"))
                return "loop";
        transport = transport_from_udev(dev);
        return transport ? transport : transport_from_sysfs(dev, name);
}

/* ---------------------------------------------------------------- disks */

static BlockPart *block_part_new_from_device(UdevDevice *dev) {
        BlockPart *part = g_new0(BlockPart, 1);

        part->name = device_string_clean(udev_device_get_sysname(dev));
        part->devnum = udev_device_get_devnum(dev);
        part->holders = read_dir_names(udev_device_get_syspath(dev), "holders");
        return part;
}

static int compare_parts(gconstpointer a, gconstpointer b) {
        const BlockPart *x = *(BlockPart *const *) a, *y = *(BlockPart *const *) b;

        return natural_compare(x->name, y->name);
}

static GPtrArray *read_partitions(Udev *udev, UdevDevice *disk) {
        GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify) block_part_free);
        g_autoptr(UdevEnumerate) children = udev_enumerate_new(udev);
        struct udev_list_entry *entry;

        if (!children)
                return parts;
        udev_enumerate_add_match_parent(children, disk);
        udev_enumerate_add_match_subsystem(children, "block");
        if (udev_enumerate_scan_devices(children) < 0)
                return parts;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(children)) {
                g_autoptr(UdevDevice) dev =
                        udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));

                if (dev && g_strcmp0(udev_device_get_devtype(dev), "partition") == 0)
                        g_ptr_array_add(parts, block_part_new_from_device(dev));
        }
        g_ptr_array_sort(parts, compare_parts);
        return parts;
}

static const char *const vendor_keys[] = { "ID_VENDOR_ENC", "device/vendor", "ID_VENDOR", NULL };
/* The model as the device gives it (ID_MODEL_ENC), not udev's ID_MODEL
 * with blanks made underscores ("WDC_WD10EZEX-08WN4A0"). */
static const char *const model_keys[] = { "ID_MODEL_ENC", "device/model", "device/name", "ID_MODEL", NULL };
static const char *const serial_keys[] = { "ID_SERIAL_SHORT", "device/serial", "serial", NULL };
static const char *const wwn_keys[] = { "ID_WWN_WITH_EXTENSION", "ID_WWN", "wwid", "device/wwid", NULL };

static DiskInfo *disk_info_new_from_device(Udev *udev, UdevDevice *dev) {
        DiskInfo *disk = g_new0(DiskInfo, 1);

        disk->name = device_string_clean(udev_device_get_sysname(dev));
        disk->path = g_strconcat("/dev/", disk->name, NULL);
        disk->devnum = udev_device_get_devnum(dev);
        disk->size = device_size(dev);
        disk->vendor = first_value(dev, vendor_keys);
        if (g_str_has_prefix(disk->vendor, "0x")) {     /* a virtio disk's is its PCI vendor id */
                g_free(disk->vendor);
                disk->vendor = g_strdup("");
        }
        disk->model = first_value(dev, model_keys);
        disk->serial = first_value(dev, serial_keys);
        disk->wwn = first_value(dev, wwn_keys);
        disk->transport = g_strdup(device_transport(dev, disk->name));
        disk->removable = attr_is_one(dev, "removable");
        disk->read_only = attr_is_one(dev, "ro");
        disk->rotational = g_strcmp0(udev_device_get_sysattr_value(dev, "queue/rotational"), "0") != 0;
        disk->partitions = read_partitions(udev, dev);
        disk->holders = read_dir_names(udev_device_get_syspath(dev), "holders");
        disk->by_id = read_by_id(dev);
        disk->id = g_strdup(disk->by_id->len > 0 ? disk->by_id->pdata[0] : disk->name);
        return disk;
}

/* nvme0n1; not nvme0n1p1 nor the hidden multipath node nvme0c0n1. */
static gboolean is_nvme_namespace(const char *name) {
        const char *p = name + strlen("nvme");

        if (!g_ascii_isdigit(*p))
                return FALSE;
        p = skip_digits(p);
        if (*p != 'n' || !g_ascii_isdigit(p[1]))
                return FALSE;
        return *skip_digits(p + 1) == '\0';
}

static gboolean has_any_prefix(const char *name, const char *const *prefixes) {
        for (; *prefixes; prefixes++)
                if (g_str_has_prefix(name, *prefixes))
                        return TRUE;
        return FALSE;
}

static const char *const plain_disk_prefixes[] = { "sd", "vd", "xvd", "hd", NULL };

/* Whether a whole-disk block device is one we offer to VMs. */
static gboolean disk_name_supported(UdevDevice *dev, const char *name) {
        if (has_any_prefix(name, plain_disk_prefixes))
                return TRUE;
        if (g_str_has_prefix(name, "nvme"))
                return is_nvme_namespace(name) && !attr_is_one(dev, "hidden");
        if (g_str_has_prefix(name, "mmcblk"))
                return !strstr(name, "boot") && !strstr(name, "rpmb");
        if (g_str_has_prefix(name, "loop"))
                return device_size(dev) > 0 &&
                       !is_empty(udev_device_get_sysattr_value(dev, "loop/backing_file"));
        if (g_str_has_prefix(name, "nbd"))
                return device_size(dev) > 0;
        return FALSE;
}

static gboolean is_stacked_name(const char *name) {
        return g_str_has_prefix(name, "dm-") || g_str_has_prefix(name, "md");
}

/* Is this a whole disk we list? Else an error saying what to pass instead. */
static gboolean check_whole_disk(UdevDevice *dev, GError **error) {
        g_autofree char *name = device_string_clean(udev_device_get_sysname(dev));

        if (g_strcmp0(udev_device_get_devtype(dev), "partition") == 0) {
                UdevDevice *parent = udev_device_get_parent(dev);
                g_autofree char *disk = device_string_clean(parent ? udev_device_get_sysname(parent) : "");

                return fail(error, PT_ERROR_INVALID_ARGUMENT,
                            "%s is a partition; pass the whole disk /dev/%s", name, disk);
        }
        if (is_stacked_name(name))
                return fail(error, PT_ERROR_INVALID_ARGUMENT,
                            "%s is a device-mapper/RAID device; only whole disks can be given to a VM. "
                            "Pass one of the disks below it", name);
        if (g_strcmp0(udev_device_get_devtype(dev), "disk") != 0 || !disk_name_supported(dev, name))
                return fail(error, PT_ERROR_INVALID_ARGUMENT,
                            "%s is not a disk that can be given to a VM", name);
        return TRUE;
}

/* ---- buses and modes ---- */

static gboolean disk_is_scsi(const DiskInfo *disk) {
        /* The sd driver: SATA behind libata, SAS, USB mass storage, iSCSI,
         * scsi_debug. SG_IO reaches the device. */
        return g_str_has_prefix(disk->name, "sd");
}

const char *const *disk_buses(const DiskInfo *disk) {
        static const char *const buses[] = { "virtio", "scsi", NULL };

        return buses;
}

const char *const *disk_modes(const DiskInfo *disk) {
        static const char *const disk_only[] = { "disk", NULL };
        static const char *const with_lun[] = { "disk", "lun", NULL };

        return disk_is_scsi(disk) ? with_lun : disk_only;
}

gboolean disk_check_lun(const DiskInfo *disk, GError **error) {
        if (disk_is_scsi(disk))
                return TRUE;
        if (g_str_has_prefix(disk->name, "nvme"))
                return fail(error, PT_ERROR_NOT_SUPPORTED,
                            "%s is an NVMe disk, not a SCSI device: it cannot be passed as a LUN. "
                            "Attach it as a disk (mode disk); its health data (nvme smart-log) needs PCI "
                            "passthrough of the controller, which this service does not do", disk->path);
        return fail(error, PT_ERROR_NOT_SUPPORTED,
                    "%s is not a SCSI device (%s): it cannot be passed as a LUN. Attach it as a disk (mode disk)",
                    disk->path, disk->transport);
}

static DiskInfo *disk_from_device(Udev *udev, UdevDevice *dev, GError **error) {
        if (!check_whole_disk(dev, error))
                return NULL;
        return disk_info_new_from_device(udev, dev);
}

static int compare_disks(gconstpointer a, gconstpointer b) {
        const DiskInfo *x = *(DiskInfo *const *) a, *y = *(DiskInfo *const *) b;

        return natural_compare(x->name, y->name);
}

static gint enumerations;

guint disks_enumerations(void) {
        return (guint) g_atomic_int_get(&enumerations);
}

GPtrArray *disks_list(GError **error) {
        g_autoptr(Udev) udev = udev_util_open(error);
        g_autoptr(UdevEnumerate) all = NULL;
        g_autoptr(GPtrArray) disks = g_ptr_array_new_with_free_func((GDestroyNotify) disk_info_free);
        struct udev_list_entry *entry;

        if (!udev)
                return NULL;
        g_atomic_int_inc(&enumerations);
        all = udev_enumerate_new(udev);
        if (!all || udev_enumerate_add_match_subsystem(all, "block") < 0 ||
            udev_enumerate_scan_devices(all) < 0) {
                fail(error, PT_ERROR_FAILED, "Cannot enumerate block devices");
                return NULL;
        }
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(all)) {
                g_autoptr(UdevDevice) dev =
                        udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));

                if (dev && check_whole_disk(dev, NULL))
                        g_ptr_array_add(disks, disk_info_new_from_device(udev, dev));
        }
        g_ptr_array_sort(disks, compare_disks);
        return g_steal_pointer(&disks);
}

static void no_such_disk(const char *spec, GError **error) {
        fail(error, PT_ERROR_NO_SUCH_DEVICE, "No disk '%s'", spec);
}

DiskInfo *disk_read(const char *name, GError **error) {
        g_autoptr(Udev) udev = NULL;
        g_autoptr(UdevDevice) dev = NULL;

        if (!plain_name_valid(name)) {
                fail(error, PT_ERROR_INVALID_ARGUMENT, "Invalid disk name");
                return NULL;
        }
        udev = udev_util_open(error);
        if (!udev)
                return NULL;
        dev = udev_device_new_from_subsystem_sysname(udev, "block", name);
        if (!dev) {
                no_such_disk(name, error);
                return NULL;
        }
        return disk_from_device(udev, dev, error);
}

/* ---------------------------------------------------------------- resolving */

/* One message for every string that is not a device name: it depends on
 * nothing the string points to. */
#define INVALID_SPEC_MESSAGE "Invalid device: pass a kernel name (sdb), /dev/NAME, a /dev/disk/by-id/ (or other by-) link or an Id from ListDisks"

static gboolean spec_error(GError **error) {
        return fail(error, PT_ERROR_INVALID_ARGUMENT, "%s", INVALID_SPEC_MESSAGE);
}

static gboolean char_in(char c, const char *set) {
        return c != '\0' && strchr(set, c) != NULL;
}

static gboolean plain_name_valid(const char *s) {
        if (is_empty(s) || g_str_equal(s, ".") || g_str_equal(s, ".."))
                return FALSE;
        for (; *s; s++)
                if (!g_ascii_isalnum(*s) && !char_in(*s, "._:+@-"))
                        return FALSE;
        return TRUE;
}

/* A path component: the plain-name characters plus what udev keeps in
 * by-id link names (# = and its \x escapes). */
static gboolean path_component_valid(const char *s) {
        if (is_empty(s) || g_str_equal(s, ".") || g_str_equal(s, ".."))
                return FALSE;
        for (; *s; s++)
                if (!g_ascii_isalnum(*s) && !char_in(*s, "._:+@-#=\\"))
                        return FALSE;
        return TRUE;
}

/* "by-id", "by-path", "by-uuid", ...: the folders udev keeps under /dev/disk. */
static gboolean by_folder_valid(const char *s) {
        if (!g_str_has_prefix(s, "by-") || !s[3])
                return FALSE;
        for (s += 3; *s; s++)
                if (!g_ascii_islower(*s) && *s != '-')
                        return FALSE;
        return TRUE;
}

/* /dev/NAME, or /dev/disk/by-FOLDER/LINK: nothing a caller can make. */
static gboolean path_spec_valid(const char *spec) {
        g_auto(GStrv) parts = g_strsplit(spec + strlen("/dev/"), "/", -1);
        guint n = g_strv_length(parts);

        if (n == 1)
                return plain_name_valid(parts[0]);
        return n == 3 && g_str_equal(parts[0], "disk") && by_folder_valid(parts[1]) &&
               path_component_valid(parts[2]);
}

gboolean disk_spec_valid(const char *spec, GError **error) {
        size_t len = spec ? strnlen(spec, MAX_SPEC + 1) : 0;

        if (len == 0 || len > MAX_SPEC)
                return spec_error(error);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) spec[i] < 0x20 || spec[i] == 0x7f)
                        return spec_error(error);
        if (g_str_has_prefix(spec, "/dev/") ? path_spec_valid(spec) : plain_name_valid(spec))
                return TRUE;
        return spec_error(error);
}

static DiskInfo *resolve_devnum(dev_t devnum, const char *spec, GError **error) {
        g_autoptr(Udev) udev = udev_util_open(error);
        g_autoptr(UdevDevice) dev = NULL;

        if (!udev)
                return NULL;
        dev = udev_device_new_from_devnum(udev, 'b', devnum);
        if (!dev) {
                no_such_disk(spec, error);
                return NULL;
        }
        return disk_from_device(udev, dev, error);
}

/* Whatever a path leads to, a caller learns only "a disk" or "no disk". */
static DiskInfo *resolve_path(const char *path, const char *spec, GError **error) {
        g_autofree char *real = realpath(path, NULL);
        struct stat st;

        if (!real || !g_str_has_prefix(real, "/dev/") || stat(real, &st) < 0 || !S_ISBLK(st.st_mode)) {
                no_such_disk(spec, error);
                return NULL;
        }
        return resolve_devnum(st.st_rdev, spec, error);
}

/* A kernel name, or an Id: the basename of a /dev/disk/by-id link. One
 * look-up each; never an enumeration. */
static DiskInfo *resolve_name(const char *spec, GError **error) {
        g_autofree char *by_id = g_strconcat("/dev/disk/by-id/", spec, NULL);
        g_autoptr(Udev) udev = udev_util_open(error);
        g_autoptr(UdevDevice) dev = NULL;

        if (!udev)
                return NULL;
        dev = udev_device_new_from_subsystem_sysname(udev, "block", spec);
        if (dev)
                return disk_from_device(udev, dev, error);
        return resolve_path(by_id, spec, error);
}

DiskInfo *disks_resolve(const char *spec, GError **error) {
        if (!disk_spec_valid(spec, error))
                return NULL;
        if (spec[0] == '/')
                return resolve_path(spec, spec, error);
        return resolve_name(spec, error);
}

/* ---------------------------------------------------------------- host usage */

static gboolean is_system_mount(const char *mount_point) {
        return g_strv_contains(system_mounts, mount_point);
}

dev_t disks_source_devnum(const char *source) {
        struct stat st;

        if (!source || source[0] != '/' || stat(source, &st) < 0 || !S_ISBLK(st.st_mode))
                return 0;
        return st.st_rdev;
}

/* The block device behind a file system: its st_dev, or for btrfs-like
 * 0:N numbers the block device named as the source of a mount of it. */
static dev_t fs_block_devnum(const MountTable *mounts, dev_t fs_dev) {
        if (major(fs_dev) != 0)
                return fs_dev;
        for (guint i = 0; i < mounts->entries->len; i++) {
                const MountEntry *entry = mounts->entries->pdata[i];
                dev_t devnum;

                if (entry->devnum != fs_dev)
                        continue;
                devnum = disks_source_devnum(entry->source);
                if (devnum)
                        return devnum;
        }
        return 0;
}

/* Swap devices are the device itself; swap files live on a file system. */
static dev_t swap_backing_devnum(const MountTable *mounts, const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return 0;
        if (S_ISBLK(st.st_mode))
                return st.st_rdev;
        return fs_block_devnum(mounts, st.st_dev);
}

static GArray *swap_block_devnums(const GPtrArray *swaps) {
        GArray *devnums = g_array_new(FALSE, FALSE, sizeof(dev_t));

        for (guint i = 0; i < swaps->len; i++) {
                dev_t devnum = disks_source_devnum(swaps->pdata[i]);

                if (devnum)
                        g_array_append_val(devnums, devnum);
        }
        return devnums;
}

static gboolean reason_lists(const char *reason, const char *what) {
        g_auto(GStrv) items = g_strsplit(reason + strlen("holds "), ", ", -1);

        return g_strv_contains((const char *const *) items, what);
}

static void add_critical(HostUsage *host, const char *disk, const char *what) {
        for (guint i = 0; i < host->critical_disks->len; i++) {
                char **reason = (char **) &host->critical_reasons->pdata[i];

                if (!g_str_equal(host->critical_disks->pdata[i], disk))
                        continue;
                if (!reason_lists(*reason, what)) {
                        char *longer = g_strconcat(*reason, ", ", what, NULL);

                        g_free(*reason);
                        *reason = longer;
                }
                return;
        }
        g_ptr_array_add(host->critical_disks, g_strdup(disk));
        g_ptr_array_add(host->critical_reasons, g_strconcat("holds ", what, NULL));
}

/* The whole disks under a device: what it stands on, down to the disks. */
static void add_disks_behind(HostUsage *host, dev_t devnum, const char *what) {
        const BlockNode *node = devnum ? block_graph_find_devnum(host->graph, devnum) : NULL;
        g_autoptr(GPtrArray) below = node ? block_graph_below(host->graph, node->name) : NULL;

        for (guint i = 0; below && i < below->len; i++) {
                const BlockNode *member = block_graph_get(host->graph, below->pdata[i]);

                if (member && !member->whole && member->lower->len == 0)
                        add_critical(host, member->name, what);
        }
}

static void collect_critical(HostUsage *host) {
        for (guint i = 0; i < host->mounts->entries->len; i++) {
                const MountEntry *entry = host->mounts->entries->pdata[i];

                if (is_system_mount(entry->mount_point))
                        add_disks_behind(host, fs_block_devnum(host->mounts, entry->devnum), entry->mount_point);
        }
        for (guint i = 0; i < host->swaps->len; i++)
                add_disks_behind(host, swap_backing_devnum(host->mounts, host->swaps->pdata[i]), "swap");
}

static GPtrArray *read_swaps(GError **error) {
        if (!g_file_test("/proc/swaps", G_FILE_TEST_EXISTS))
                return g_ptr_array_new_with_free_func(g_free);  /* kernel without swap */
        return swaps_read("/proc/swaps", error);
}

HostUsage *host_usage_read(GError **error) {
        g_autoptr(HostUsage) host = g_new0(HostUsage, 1);

        host->mounts = mount_table_read("/proc/self/mountinfo", error);
        if (!host->mounts)
                return NULL;
        host->swaps = read_swaps(error);
        if (!host->swaps)
                return NULL;
        host->swap_devnums = swap_block_devnums(host->swaps);
        host->critical_disks = g_ptr_array_new_with_free_func(g_free);
        host->critical_reasons = g_ptr_array_new_with_free_func(g_free);
        host->graph = block_graph_read("/sys/class/block", error);
        if (!host->graph)
                return NULL;
        collect_critical(host);
        return g_steal_pointer(&host);
}

/* ---------------------------------------------------------------- usage */

/* Without the host's graph: the disk, its partitions and their holders. */
static BlockGraph *graph_of_disk(const DiskInfo *disk) {
        BlockGraph *graph = block_graph_new();

        block_graph_add(graph, disk->name, disk->devnum, NULL);
        for (guint i = 0; disk->holders && i < disk->holders->len; i++)
                block_graph_link(graph, disk->holders->pdata[i], disk->name);
        for (guint i = 0; disk->partitions && i < disk->partitions->len; i++) {
                const BlockPart *part = disk->partitions->pdata[i];

                block_graph_add(graph, part->name, part->devnum, disk->name);
                for (guint j = 0; part->holders && j < part->holders->len; j++)
                        block_graph_link(graph, part->holders->pdata[j], part->name);
        }
        return graph;
}

static gboolean source_is_node(const char *source, const BlockNode *node) {
        return source && g_str_has_prefix(source, "/dev/") &&
               g_str_equal(source + strlen("/dev/"), node->name);
}

static gboolean mount_matches(const MountEntry *entry, const BlockNode *node) {
        if (node->devnum != 0 && entry->devnum == node->devnum)
                return TRUE;
        return source_is_node(entry->source, node);
}

static gboolean node_is_swap(const BlockNode *node, const HostUsage *host) {
        for (guint i = 0; host->swap_devnums && node->devnum != 0 && i < host->swap_devnums->len; i++)
                if (g_array_index(host->swap_devnums, dev_t, i) == node->devnum)
                        return TRUE;
        for (guint i = 0; host->swaps && i < host->swaps->len; i++)
                if (source_is_node(host->swaps->pdata[i], node))
                        return TRUE;
        return FALSE;
}

/* What the checks look at: the disk, what it stands on (a loop device's
 * backing disk), and everything on any of them. */
typedef struct {
        const DiskInfo *disk;
        const BlockGraph *graph;
        GPtrArray *below;    /* char*: the disk and what it stands on */
        GPtrArray *nodes;    /* BlockNode*: block_graph_scope() of below */
} Scope;

static gboolean is_disk(const Scope *scope, const BlockNode *node) {
        return g_str_equal(node->name, scope->disk->name);
}

static void set_busy(DiskUsage *usage, DiskBusy busy, const char *name, gboolean prefixed, const char *detail) {
        g_autofree char *who = prefixed ? g_strconcat(name, " ", NULL) : g_strdup("");

        usage->busy = busy;
        usage->busy_device = g_strconcat("/dev/", name, NULL);
        usage->busy_detail = display_string(detail);
        g_free(usage->in_use);
        if (busy == DISK_BUSY_MOUNTED)
                usage->in_use = g_strdup_printf("%smounted at %s", who, usage->busy_detail);
        else if (busy == DISK_BUSY_SWAP)
                usage->in_use = prefixed ? g_strdup_printf("%sused as swap", who) : g_strdup("swap");
        else
                usage->in_use = g_strdup_printf("%sheld by %s", who, usage->busy_detail);
}

static void find_mounts(DiskUsage *usage, const Scope *scope, const HostUsage *host) {
        for (guint i = 0; host->mounts && i < host->mounts->entries->len; i++) {
                const MountEntry *entry = host->mounts->entries->pdata[i];

                for (guint n = 0; n < scope->nodes->len; n++) {
                        const BlockNode *node = scope->nodes->pdata[n];
                        g_autofree char *shown = NULL;

                        if (!mount_matches(entry, node))
                                continue;
                        shown = display_string(entry->mount_point);
                        if (!strings_contain(usage->mountpoints, shown))
                                g_ptr_array_add(usage->mountpoints, g_steal_pointer(&shown));
                        if (usage->busy == DISK_BUSY_NONE)
                                set_busy(usage, DISK_BUSY_MOUNTED, node->name, !is_disk(scope, node),
                                         entry->mount_point);
                        break;
                }
        }
}

static const BlockNode *find_swap(const Scope *scope, const HostUsage *host) {
        for (guint n = 0; n < scope->nodes->len; n++)
                if (node_is_swap(scope->nodes->pdata[n], host))
                        return scope->nodes->pdata[n];
        return NULL;
}

/* Anything built on the disk (or on what it stands on) that is not the
 * disk's own chain: dm, md, a loop device over it. */
static void find_holders(DiskUsage *usage, const Scope *scope) {
        for (guint n = 0; n < scope->nodes->len && usage->busy == DISK_BUSY_NONE; n++) {
                const BlockNode *node = scope->nodes->pdata[n];

                for (guint u = 0; u < node->upper->len; u++) {
                        const char *holder = node->upper->pdata[u];

                        if (block_graph_within(scope->graph, scope->below, holder))
                                continue;
                        set_busy(usage, DISK_BUSY_HELD, node->name, !is_disk(scope, node), holder);
                        break;
                }
        }
}

/* A running VM has the disk, or any device on it or under it. */
static void find_vm(DiskUsage *usage, const Scope *scope, const HostUsage *host) {
        for (guint n = 0; host->vm_held && n < scope->nodes->len; n++) {
                const BlockNode *node = scope->nodes->pdata[n];
                guint64 key = node->devnum;
                const VmHold *hold = node->devnum ? g_hash_table_lookup(host->vm_held, &key) : NULL;

                if (!hold)
                        continue;
                usage->vm = g_strdup(hold->domain);
                usage->vm_device = g_strconcat("/dev/", node->name, NULL);
                usage->vm_target = g_strdup(hold->target ? hold->target : "?");
                usage->vm_alias = g_strdup(hold->alias);
                return;
        }
}

/* "holds /, swap" from what this disk's own nodes show. */
static char *own_critical_reason(const DiskUsage *usage, gboolean swap) {
        g_autoptr(GPtrArray) items = g_ptr_array_new();
        g_autofree char *joined = NULL;

        for (guint i = 0; i < usage->mountpoints->len; i++)
                if (is_system_mount(usage->mountpoints->pdata[i]))
                        g_ptr_array_add(items, usage->mountpoints->pdata[i]);
        if (swap)
                g_ptr_array_add(items, (char *) "swap");
        if (items->len == 0)
                return NULL;
        g_ptr_array_add(items, NULL);
        joined = g_strjoinv(", ", (char **) items->pdata);
        return g_strconcat("holds ", joined, NULL);
}

static char *host_critical_reason(const char *name, const HostUsage *host, gboolean *found) {
        for (guint i = 0; host->critical_disks && i < host->critical_disks->len; i++) {
                if (!g_str_equal(host->critical_disks->pdata[i], name))
                        continue;
                *found = TRUE;
                if (host->critical_reasons && i < host->critical_reasons->len)
                        return g_strdup(host->critical_reasons->pdata[i]);
                return NULL;
        }
        return NULL;
}

static void find_critical(DiskUsage *usage, const Scope *scope, const HostUsage *host, gboolean swap) {
        gboolean listed = FALSE;
        char *reason = NULL;

        for (guint i = 0; i < scope->below->len && !listed; i++)
                reason = host_critical_reason(scope->below->pdata[i], host, &listed);

        if (!reason)
                reason = own_critical_reason(usage, swap);
        usage->critical = listed || reason != NULL;
        if (usage->critical && !reason)
                reason = g_strdup("holds a system file system");
        usage->critical_reason = reason;
}

static gboolean transport_is_hotplug(const char *transport) {
        return g_strcmp0(transport, "usb") == 0 || g_strcmp0(transport, "loop") == 0 ||
               g_strcmp0(transport, "mmc") == 0;
}

/* Something the disk stands on is an internal disk (a loop device over one). */
static gboolean stands_on_internal(const Scope *scope) {
        for (guint i = 1; i < scope->below->len; i++) {
                const BlockNode *node = block_graph_get(scope->graph, scope->below->pdata[i]);

                if (node && node->internal)
                        return TRUE;
        }
        return FALSE;
}

DiskUsage *disk_usage_compute(const DiskInfo *disk, const HostUsage *host) {
        DiskUsage *usage = g_new0(DiskUsage, 1);
        g_autoptr(BlockGraph) own = host->graph && block_graph_get(host->graph, disk->name) ? NULL
                                                                                           : graph_of_disk(disk);
        Scope scope = { .disk = disk, .graph = own ? own : host->graph };
        const BlockNode *swap;

        scope.below = block_graph_below(scope.graph, disk->name);
        scope.nodes = block_graph_scope(scope.graph, scope.below);
        swap = find_swap(&scope, host);
        usage->mountpoints = g_ptr_array_new_with_free_func(g_free);
        usage->in_use = g_strdup("");
        find_mounts(usage, &scope, host);
        if (swap && usage->busy == DISK_BUSY_NONE)
                set_busy(usage, DISK_BUSY_SWAP, swap->name, !is_disk(&scope, swap), "swap");
        find_holders(usage, &scope);
        find_vm(usage, &scope, host);
        find_critical(usage, &scope, host, swap != NULL);
        usage->system = usage->critical || (!disk->removable && !transport_is_hotplug(disk->transport)) ||
                        stands_on_internal(&scope);
        g_ptr_array_unref(scope.below);
        g_ptr_array_unref(scope.nodes);
        return usage;
}

/* ---------------------------------------------------------------- checks */

static gboolean held_error(const char *device, const char *holder, GError **error) {
        if (g_str_has_prefix(holder, "loop"))
                return fail(error, PT_ERROR_DEVICE_BUSY,
                            "%s is held by %s (a loop device over it). Detach it first: sudo losetup -d /dev/%s",
                            device, holder, holder);
        if (g_str_has_prefix(holder, "md"))
                return fail(error, PT_ERROR_DEVICE_BUSY,
                            "%s is held by %s (RAID). Stop the array first: sudo mdadm --stop /dev/%s",
                            device, holder, holder);
        return fail(error, PT_ERROR_DEVICE_BUSY,
                    "%s is held by %s (device-mapper/LVM/RAID). Deactivate it first, "
                    "e.g. sudo dmsetup remove /dev/%s, or sudo vgchange -an VOLUME_GROUP for LVM",
                    device, holder, holder);
}

static gboolean busy_error(const DiskInfo *disk, const DiskUsage *usage, GError **error) {
        const char *device = usage->busy_device ? usage->busy_device : disk->path;
        const char *detail = usage->busy_detail ? usage->busy_detail : "";

        switch (usage->busy) {
        case DISK_BUSY_MOUNTED:
                return fail(error, PT_ERROR_DEVICE_BUSY,
                            "%s is mounted at %s. Unmount the device before attaching: sudo umount %s",
                            device, detail, device);
        case DISK_BUSY_SWAP:
                return fail(error, PT_ERROR_DEVICE_BUSY,
                            "%s is used as swap. Turn swap off on it before attaching: sudo swapoff %s",
                            device, device);
        case DISK_BUSY_HELD:
                return held_error(device, detail, error);
        case DISK_BUSY_NONE:
        default:
                return fail(error, PT_ERROR_DEVICE_BUSY,
                            "%s is in use (%s). Free it before attaching", device, usage->in_use);
        }
}

/* Active swap is the one critical use the user can end. */
static gboolean critical_error(const DiskInfo *disk, const DiskUsage *usage, GError **error) {
        const char *reason = usage->critical_reason ? usage->critical_reason : "is a system disk";

        if (usage->busy == DISK_BUSY_SWAP && usage->busy_device && g_str_equal(reason, "holds swap"))
                return fail(error, PT_ERROR_SYSTEM_DEVICE,
                            "%s holds swap and cannot be given to a VM while swap is on. "
                            "Turn it off first: sudo swapoff %s", disk->path, usage->busy_device);
        return fail(error, PT_ERROR_SYSTEM_DEVICE, "%s %s and cannot be given to a VM",
                    disk->path, reason);
}

static gboolean vm_error(const DiskInfo *disk, const DiskUsage *usage, GError **error) {
        if (g_str_equal(usage->vm_device, disk->path))
                return fail(error, PT_ERROR_ALREADY_ATTACHED, "%s is already attached to VM %s as %s. Detach it first",
                            disk->path, usage->vm, usage->vm_target);
        return fail(error, PT_ERROR_ALREADY_ATTACHED,
                    "%s is in use by VM %s, which has %s (on this disk) as %s. Detach that from the VM first",
                    disk->path, usage->vm, usage->vm_device, usage->vm_target);
}

gboolean disk_check_attachable(const DiskInfo *disk, const DiskUsage *usage,
                               gboolean readonly, GError **error) {
        if (usage->critical)
                return critical_error(disk, usage, error);
        if (usage->vm)
                return vm_error(disk, usage, error);
        if (!is_empty(usage->in_use))
                return busy_error(disk, usage, error);
        if (disk->read_only && !readonly)
                return fail(error, PT_ERROR_INVALID_ARGUMENT,
                            "%s is read-only; pass the option readonly=true", disk->path);
        return TRUE;
}

/* ---------------------------------------------------------------- opening */

/* Why the exclusive open failed: busy, gone (unplugged, loop detached), or else. */
static void set_open_error(const char *path, int err, GError **error) {
        if (err == EBUSY)
                g_set_error(error, PT_ERROR, PT_ERROR_DEVICE_BUSY,
                            "%s is in use on the host (exclusive open failed: %s). Stop what uses it first",
                            path, g_strerror(err));
        else if (err == ENOENT || err == ENXIO || err == ENODEV)
                g_set_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE, "%s is gone (no such device)", path);
        else
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Cannot open %s: %s", path, g_strerror(err));
}

/* Open the checked disk exclusively: nothing on the host may have
 * it, and the node opened must be the device checked. */
int disk_open_exclusive(const char *path, dev_t devnum, GError **error) {
        int fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
        struct stat st;

        if (fd < 0) {
                set_open_error(path, errno, error);
                return -1;
        }
        if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != devnum) {
                close(fd);
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                            "%s is no longer the device that was checked; try again", path);
                return -1;
        }
        return fd;
}
