/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "assign-match.h"
#include "errors.h"
#include "udev-util.h"

#define MAX_MATCH 300
#define MAX_BY_ID 255
#define BY_ID_DIR "/dev/disk/by-id/"
#define ID_SUFFIX_LEN 13   /* ",id=" + "hhhh:hhhh" */

typedef struct {
        const char *prefix;
        MatchType type;
} MatchForm;

static const MatchForm forms[] = {
        { "usb:serial=", MATCH_USB_SERIAL },
        { "usb:id=", MATCH_USB_ID },
        { "usb:port=", MATCH_USB_PORT },
        { "disk:wwn=", MATCH_DISK_WWN },
        { "disk:serial=", MATCH_DISK_SERIAL },
        { "disk:by-id=", MATCH_DISK_BY_ID },
};

void device_match_free(DeviceMatch *match) {
        if (!match)
                return;
        g_free(match->value);
        g_free(match->vendor_id);
        g_free(match->product_id);
        g_free(match);
}

DeviceMatch *device_match_copy(const DeviceMatch *match) {
        DeviceMatch *copy = g_new0(DeviceMatch, 1);

        copy->type = match->type;
        copy->value = g_strdup(match->value);
        copy->vendor_id = g_strdup(match->vendor_id);
        copy->product_id = g_strdup(match->product_id);
        return copy;
}

gboolean device_match_string_like(const char *text) {
        return g_str_has_prefix(text, "usb:") || g_str_has_prefix(text, "disk:");
}

gboolean device_match_is_usb(const DeviceMatch *match) {
        return match->type <= MATCH_USB_PORT;
}

const char *device_match_kind(const DeviceMatch *match) {
        return device_match_is_usb(match) ? "usb" : "disk";
}

/* ---------------------------------------------------------------- syntax */

static gboolean invalid(GError **error, const char *why) {
        g_set_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                    "Invalid assignment match: %s. Use usb:serial=SN[,id=vvvv:pppp], usb:id=vvvv:pppp, "
                    "usb:port=1-2.3, disk:wwn=WWN, disk:serial=SERIAL or disk:by-id=NAME", why);
        return FALSE;
}

/* A serial or WWN as device_string_clean() leaves them. */
static gboolean device_string_valid(const char *s) {
        gsize n = strlen(s);

        return n > 0 && n <= MAX_DEVICE_STRING && s[0] != ' ' && s[n - 1] != ' ';
}

static gboolean by_id_valid(const char *s) {
        gsize n = strlen(s);

        if (n == 0 || n > MAX_BY_ID || g_str_equal(s, ".") || g_str_equal(s, ".."))
                return FALSE;
        for (; *s; s++)
                if (!g_ascii_isalnum(*s) && !strchr("._:+@-", *s))
                        return FALSE;
        return TRUE;
}

/* "hhhh:hhhh" -> lower-case vendor and product. */
static gboolean parse_id(const char *s, DeviceMatch *match) {
        if (strlen(s) != 9 || s[4] != ':')
                return FALSE;
        for (guint i = 0; i < 9; i++)
                if (i != 4 && !g_ascii_isxdigit(s[i]))
                        return FALSE;
        match->vendor_id = g_ascii_strdown(s, 4);
        match->product_id = g_ascii_strdown(s + 5, 4);
        return TRUE;
}

/* "SN" or "SN,id=hhhh:hhhh". */
static gboolean parse_serial(const char *s, DeviceMatch *match) {
        gsize n = strlen(s);

        if (n > ID_SUFFIX_LEN && g_str_has_prefix(s + n - ID_SUFFIX_LEN, ",id=") &&
            parse_id(s + n - ID_SUFFIX_LEN + 4, match)) {
                match->value = g_strndup(s, n - ID_SUFFIX_LEN);
        } else {
                match->value = g_strdup(s);
        }
        return device_string_valid(match->value);
}

static gboolean parse_value(DeviceMatch *match, const char *value, GError **error) {
        switch (match->type) {
        case MATCH_USB_SERIAL:
                return parse_serial(value, match) || invalid(error, "a serial is 1-128 characters, no blank at an end");
        case MATCH_USB_ID:
                return parse_id(value, match) || invalid(error, "an id is vvvv:pppp (hex)");
        case MATCH_USB_PORT:
                match->value = g_strdup(value);
                return usb_port_valid(value) || invalid(error, "a port is bus-port[.port...], e.g. 1-2.3");
        case MATCH_DISK_BY_ID:
                if (g_str_has_prefix(value, BY_ID_DIR))
                        value += strlen(BY_ID_DIR);
                match->value = g_strdup(value);
                return by_id_valid(value) || invalid(error, "a by-id name is 1-255 of A-Z a-z 0-9 . _ : + @ -");
        case MATCH_DISK_WWN:   /* tools print WWNs in either case */
                match->value = g_ascii_strdown(value, -1);
                return device_string_valid(value) || invalid(error, "it is 1-128 characters, no blank at the ends");
        default:
                match->value = g_strdup(value);
                return device_string_valid(value) || invalid(error, "it is 1-128 characters, no blank at the ends");
        }
}

DeviceMatch *device_match_parse(const char *text, GError **error) {
        g_autoptr(DeviceMatch) match = g_new0(DeviceMatch, 1);

        if (strlen(text) > MAX_MATCH || !device_string_printable(text)) {
                invalid(error, "it must be at most 300 printable ASCII characters");
                return NULL;
        }
        for (guint i = 0; i < G_N_ELEMENTS(forms); i++) {
                if (!g_str_has_prefix(text, forms[i].prefix))
                        continue;
                match->type = forms[i].type;
                if (!parse_value(match, text + strlen(forms[i].prefix), error))
                        return NULL;
                return g_steal_pointer(&match);
        }
        invalid(error, "unknown form");
        return NULL;
}

char *device_match_to_string(const DeviceMatch *match) {
        const char *prefix = NULL;

        for (guint i = 0; i < G_N_ELEMENTS(forms); i++)
                if (forms[i].type == match->type)
                        prefix = forms[i].prefix;
        if (match->type == MATCH_USB_ID)
                return g_strdup_printf("%s%s:%s", prefix, match->vendor_id, match->product_id);
        if (match->type == MATCH_USB_SERIAL && match->vendor_id)
                return g_strdup_printf("%s%s,id=%s:%s", prefix, match->value, match->vendor_id, match->product_id);
        return g_strconcat(prefix, match->value, NULL);
}

/* ---------------------------------------------------------------- matching */

static gboolean same_ids(const DeviceMatch *match, const UsbDevice *dev) {
        return g_ascii_strcasecmp(match->vendor_id, dev->vendor_id) == 0 &&
               g_ascii_strcasecmp(match->product_id, dev->product_id) == 0;
}

gboolean device_match_usb(const DeviceMatch *match, const UsbDevice *dev) {
        switch (match->type) {
        case MATCH_USB_SERIAL:
                return *dev->serial && g_str_equal(dev->serial, match->value) &&
                       (!match->vendor_id || same_ids(match, dev));
        case MATCH_USB_ID:
                return same_ids(match, dev);
        case MATCH_USB_PORT:
                return g_str_equal(dev->port, match->value);
        default:
                return FALSE;
        }
}

static gboolean strings_contain(const GPtrArray *strings, const char *s) {
        for (guint i = 0; strings && i < strings->len; i++)
                if (g_str_equal(strings->pdata[i], s))
                        return TRUE;
        return FALSE;
}

gboolean device_match_disk(const DeviceMatch *match, const DiskInfo *disk) {
        switch (match->type) {
        case MATCH_DISK_WWN:
                return *disk->wwn && g_ascii_strcasecmp(disk->wwn, match->value) == 0;
        case MATCH_DISK_SERIAL:
                return *disk->serial && g_str_equal(disk->serial, match->value);
        case MATCH_DISK_BY_ID:
                return strings_contain(disk->by_id, match->value);
        default:
                return FALSE;
        }
}

typedef gboolean (*MatchFunc)(const DeviceMatch *match, gconstpointer device);
typedef const char *(*IdFunc)(gconstpointer device);

static gboolean usb_matches(const DeviceMatch *match, gconstpointer dev) {
        return device_match_usb(match, dev);
}

static gboolean disk_matches(const DeviceMatch *match, gconstpointer disk) {
        return device_match_disk(match, disk);
}

static const char *usb_id(gconstpointer dev) {
        return ((const UsbDevice *) dev)->id;
}

static const char *disk_id(gconstpointer disk) {
        return ((const DiskInfo *) disk)->id;
}

/* The one device of `devices` func accepts; else NULL + the error. */
static gconstpointer find_one(const DeviceMatch *match, GPtrArray *devices, MatchFunc func, IdFunc id,
                              GError **error) {
        g_autoptr(GString) ids = g_string_new(NULL);
        g_autofree char *text = device_match_to_string(match);
        gconstpointer found = NULL;
        guint n = 0;

        for (guint i = 0; devices && i < devices->len; i++) {
                if (!func(match, devices->pdata[i]))
                        continue;
                g_string_append_printf(ids, "%s%s", n ? ", " : "", id(devices->pdata[i]));
                found = devices->pdata[i];
                n++;
        }
        if (n == 1)
                return found;
        if (n == 0)
                g_set_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE, "No device matches %s", text);
        else
                g_set_error(error, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE,
                            "%s matches %u devices: %s. Use a more precise match", text, n, ids->str);
        return NULL;
}

const UsbDevice *device_match_find_usb(const DeviceMatch *match, GPtrArray *devices, GError **error) {
        return find_one(match, devices, usb_matches, usb_id, error);
}

const DiskInfo *device_match_find_disk(const DeviceMatch *match, GPtrArray *disks, GError **error) {
        return find_one(match, disks, disk_matches, disk_id, error);
}

/* ---------------------------------------------------------------- best match */

static DeviceMatch *match_new(MatchType type, const char *value) {
        DeviceMatch *match = g_new0(DeviceMatch, 1);

        match->type = type;
        match->value = type == MATCH_DISK_WWN ? g_ascii_strdown(value, -1) : g_strdup(value);
        return match;
}

DeviceMatch *device_match_for_usb(const UsbDevice *dev, GPtrArray *devices, GError **error) {
        g_autoptr(DeviceMatch) by_serial = match_new(MATCH_USB_SERIAL, dev->serial);

        if (!usb_check_attachable(dev, error))
                return NULL;
        by_serial->vendor_id = g_strdup(dev->vendor_id);
        by_serial->product_id = g_strdup(dev->product_id);
        if (device_string_valid(dev->serial) && device_match_find_usb(by_serial, devices, NULL) == dev)
                return g_steal_pointer(&by_serial);
        return match_new(MATCH_USB_PORT, dev->port);
}

/* `candidate` (owned) if it names `disk` alone, else NULL. */
static DeviceMatch *if_unique(DeviceMatch *candidate, const DiskInfo *disk, GPtrArray *disks) {
        g_autoptr(DeviceMatch) match = candidate;

        if (!device_match_disk(match, disk) || device_match_find_disk(match, disks, NULL) != disk)
                return NULL;
        return g_steal_pointer(&match);
}

DeviceMatch *device_match_for_disk(const DiskInfo *disk, GPtrArray *disks, GError **error) {
        DeviceMatch *match = NULL;

        if (device_string_valid(disk->wwn))
                match = if_unique(match_new(MATCH_DISK_WWN, disk->wwn), disk, disks);
        if (!match && device_string_valid(disk->serial))
                match = if_unique(match_new(MATCH_DISK_SERIAL, disk->serial), disk, disks);
        for (guint i = 0; !match && disk->by_id && i < disk->by_id->len; i++)
                if (by_id_valid(disk->by_id->pdata[i]))
                        match = if_unique(match_new(MATCH_DISK_BY_ID, disk->by_id->pdata[i]), disk, disks);
        if (!match)
                g_set_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                            "%s has no stable name (no WWN, no serial, no /dev/disk/by-id link), so it cannot be "
                            "assigned: an assignment never names a disk as /dev/sdX, which may be another disk "
                            "after the next plug-in. Loop devices are like that", disk->path);
        return match;
}
