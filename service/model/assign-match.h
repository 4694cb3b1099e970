/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which host device an assignment means, as a canonical string (what
 * ListAssignments shows and Unassign accepts):
 *
 *   usb:serial=SN  usb:serial=SN,id=vvvv:pppp  usb:id=vvvv:pppp  usb:port=1-2.3
 *   disk:wwn=WWN   disk:serial=SERIAL          disk:by-id=NAME
 *
 * Never a bus:dev address or /dev/sdX: those change when a device is
 * plugged in again. Everything here is pure, so the rules are unit-tested
 * over hand-built device lists. */
#pragma once

#include <glib.h>

#include "disks.h"
#include "usb.h"

typedef enum {
        MATCH_USB_SERIAL,    /* value = serial; vendor/product optional */
        MATCH_USB_ID,        /* vendor/product */
        MATCH_USB_PORT,      /* value = physical port "1-2.3" */
        MATCH_DISK_WWN,      /* value = WWN as ListDisks gives it */
        MATCH_DISK_SERIAL,   /* value = the disk's serial */
        MATCH_DISK_BY_ID,    /* value = a /dev/disk/by-id basename */
} MatchType;

typedef struct {
        MatchType type;
        char *value;         /* NULL for usb:id */
        char *vendor_id;     /* 4 lower-case hex digits, or NULL */
        char *product_id;
} DeviceMatch;

void device_match_free(DeviceMatch *match);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DeviceMatch, device_match_free)
DeviceMatch *device_match_copy(const DeviceMatch *match);

/* Does `text` look like a match string ("usb:..." or "disk:...")? */
gboolean device_match_string_like(const char *text);

/* Parse and validate a match string: printable ASCII, serials and WWNs of
 * 1-128 characters without leading or trailing blanks, ports as
 * usb_port_valid(), ids as 4 hex digits and WWNs lower-cased (WWNs match in
 * any case), by-id names of 1-255
 * of A-Z a-z 0-9 . _ : + @ - (a leading /dev/disk/by-id/ is dropped).
 * PT_ERROR_INVALID_ARGUMENT otherwise. A serial ending in ",id=hhhh:hhhh"
 * is read as serial + id. */
DeviceMatch *device_match_parse(const char *text, GError **error);

/* The canonical string (device_match_parse() of it gives the same match). */
char *device_match_to_string(const DeviceMatch *match);

gboolean device_match_is_usb(const DeviceMatch *match);
const char *device_match_kind(const DeviceMatch *match);   /* "usb" or "disk" */

/* Does the match name this device? */
gboolean device_match_usb(const DeviceMatch *match, const UsbDevice *dev);
gboolean device_match_disk(const DeviceMatch *match, const DiskInfo *disk);

/* The one device the match names (borrowed): none is PT_ERROR_NO_SUCH_DEVICE,
 * several PT_ERROR_AMBIGUOUS_DEVICE listing them. A match of the other kind
 * names nothing. */
const UsbDevice *device_match_find_usb(const DeviceMatch *match, GPtrArray *devices, GError **error);
const DiskInfo *device_match_find_disk(const DeviceMatch *match, GPtrArray *disks, GError **error);

/* The most stable match naming `dev` alone among `devices` (which hold it):
 * serial with id, else the port. Hubs are refused (usb_check_attachable). */
DeviceMatch *device_match_for_usb(const UsbDevice *dev, GPtrArray *devices, GError **error);

/* The most stable match naming `disk` alone among `disks`: the WWN, else the
 * serial, else a /dev/disk/by-id name. A disk with none of these (a loop
 * device) cannot be assigned: PT_ERROR_INVALID_ARGUMENT saying so. */
DeviceMatch *device_match_for_disk(const DiskInfo *disk, GPtrArray *disks, GError **error);
