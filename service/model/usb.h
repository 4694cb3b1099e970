/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host USB devices: what they are (libudev + sysfs), their stable Ids, and
 * which device a caller's string names. Everything but usb_enumerate() and
 * usb_list() is pure, so the rules are unit-tested over hand-built lists. */
#pragma once

#include <glib.h>

#include "devxml.h"

typedef struct {
        char *syspath;         /* /sys/devices/.../1-2.3 */
        char *id;              /* see usb_assign_ids(); NULL until assigned */
        guint bus, device;     /* busnum, devnum */
        char *port;            /* physical path "1-2.3"; a root hub is "1-0" */
        char *vendor_id;       /* 4 lower-case hex digits */
        char *product_id;
        char *serial;          /* "" when absent; device strings are printable ASCII, capped */
        char *manufacturer;
        char *product;
        gboolean is_hub;       /* hub class, or a root hub */
        gboolean is_root_hub;
} UsbDevice;

UsbDevice *usb_device_new(void);
void usb_device_free(UsbDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(UsbDevice, usb_device_free)
UsbDevice *usb_device_copy(const UsbDevice *dev);

/* Every USB device (subsystem usb, devtype usb_device) without Ids, sorted
 * by bus and port. Devices whose numbers or ids cannot be read are left out. */
GPtrArray *usb_enumerate(GError **error);   /* UsbDevice* */

/* usb_enumerate() with Ids assigned: kept for devices already known
 * (usb_ids_known), decided for new ones by usb_assign_ids_keeping(). */
GPtrArray *usb_list(GError **error);

/* Pure: set each device's Id: "vvvv:pppp:SERIAL" when its serial is present
 * and no other device in the list has the same one, else "vvvv:pppp@PORT". */
void usb_assign_ids(GPtrArray *devices);

/* Pure: Ids that stay. A device already known by its syspath in `known`
 * (syspath -> Id; may be NULL) keeps its Id; a new one gets
 * "vvvv:pppp:SERIAL" when no other present device has its serial (and no
 * kept Id is that), else "vvvv:pppp@PORT". So a device's Id never changes
 * because another one came or went while it stayed. */
void usb_assign_ids_keeping(GPtrArray *devices, GHashTable *known);

/* The Ids the device events decided (syspath -> Id): every reader shares
 * them. Remember replaces them (main thread); known returns a copy (any thread). */
void usb_ids_remember(GHashTable *syspath_to_id);
GHashTable *usb_ids_known(void);

/* Pure: the syntax check of a caller's device string (1-255 printable ASCII
 * characters, as device strings are after cleaning). PT_ERROR_INVALID_ARGUMENT. */
gboolean usb_spec_valid(const char *spec, GError **error);

/* Pure: the device `spec` names among `devices` (with Ids): an Id names its
 * device outright; otherwise every device whose serial equals the spec, whose
 * "bus:dev" (decimal), port ("bus-port[.port...]") or "vvvv:pppp" matches is
 * a candidate. One candidate: returned (borrowed). None: PT_ERROR_NO_SUCH_DEVICE.
 * Several: PT_ERROR_AMBIGUOUS_DEVICE, the message listing their Ids. */
const UsbDevice *usb_resolve(GPtrArray *devices, const char *spec, GError **error);

/* Pure: PT_ERROR_INVALID_ARGUMENT for hubs and root hubs. */
gboolean usb_check_attachable(const UsbDevice *dev, GError **error);

/* Pure: is `spec` a physical port "bus-port[.port...]"? */
gboolean usb_port_valid(const char *spec);

/* Pure: the user alias of the hostdev for the device at `port`:
 * "ua-pt-usb-1-2_3" for 1-2.3 (stable across replugs into the same port). */
char *usb_alias_for_port(const char *port);

/* Pure: the <hostdev> AttachUsb gives libvirt for `dev` (by ids and
 * bus/device address, with usb_alias_for_port() of its port); NULL when a
 * value is out of range. */
char *usb_hostdev_xml(const UsbDevice *dev);

/* Pure: the same XML for a hostdev of a domain (what a detach removes);
 * a missing id is written as 0x0000, an alias that is not a user alias left out. */
char *usb_hostdev_xml_from_domain(const DomainUsbHostdev *hostdev);

/* Pure: "0x46f4" or "46f4" (as libvirt writes ids) -> 0x46f4; FALSE unless
 * 1-4 hex digits. */
gboolean usb_parse_hex_id(const char *text, guint *out);

/* Pure: does the domain's hostdev hold this host device? Same bus and device
 * address, and the same vendor and product where the hostdev names them. */
gboolean usb_hostdev_holds(const DomainUsbHostdev *hostdev, const UsbDevice *dev);
