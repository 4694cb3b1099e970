/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device XML for libvirt, built and parsed with libxml2 (never by pasting strings). */
#pragma once

/* Every device the service adds to a domain carries a user alias with this
 * prefix: it is how the service knows its own entries (and what a plain
 * detach may take back). */
#define OWN_ALIAS_PREFIX "ua-pt-"
#define DISK_ALIAS_PREFIX OWN_ALIAS_PREFIX
#define USB_ALIAS_PREFIX OWN_ALIAS_PREFIX "usb-"

/* Pure: did the service add the device with this alias? */
#define devxml_alias_is_own(alias) ((alias) != NULL && g_str_has_prefix((alias), OWN_ALIAS_PREFIX))

#include <glib.h>

/* The alias of the virtio-scsi controller the service adds to a domain that
 * has no SCSI controller (for bus=scsi and LUN disks). */
#define SCSI_CONTROLLER_ALIAS OWN_ALIAS_PREFIX "scsi0"

/* The buses a disk can go on; the target name follows: vdX / sdX. */
#define DISK_BUS_VIRTIO "virtio"
#define DISK_BUS_SCSI "scsi"
/* How: a block device (any disk), or a SCSI LUN whose commands pass. */
#define DISK_MODE_DISK "disk"
#define DISK_MODE_LUN "lun"

typedef struct {
        const char *source;    /* /dev/sdb */
        const char *target;    /* vdb (virtio) or sda (scsi) */
        const char *serial;    /* NULL or the caller's name; not with lun */
        const char *alias;     /* NULL or "ua-..." user alias */
        gboolean readonly;
        gboolean scsi;         /* bus scsi (virtio-scsi) instead of virtio */
        gboolean lun;          /* device='lun' sgio='filtered'; scsi only */
        gboolean rawio;        /* rawio='yes'; lun only */
        gboolean discard;      /* driver discard='unmap': guest TRIM reaches the host */
        gboolean ssd;          /* target rotation_rate='1'; scsi only (libvirt refuses it on virtio) */
} DiskXmlSpec;

/* <disk type='block' device='disk|lun' [sgio='filtered' [rawio='yes']]>
 *   <driver name='qemu' type='raw' cache='none' io='native' [discard='unmap']/>
 *   <source dev='SOURCE'/> <target dev='TARGET' bus='virtio|scsi' [rotation_rate='1']/>
 *   [<readonly/>] [<serial>SERIAL</serial>] [<alias name='ALIAS'/>]
 * </disk>
 * NULL for an inconsistent spec (lun/ssd without scsi, rawio without lun,
 * a serial with lun, a target of the other bus). */
char *devxml_build_disk(const DiskXmlSpec *spec);

/* <controller type='scsi' model='virtio-scsi'><alias name='ALIAS'/></controller> */
char *devxml_build_scsi_controller(const char *alias);

typedef struct {
        guint vendor, product; /* USB ids, at most 0xffff */
        guint bus, device;     /* host address, both > 0 */
        const char *alias;     /* NULL or "ua-..." user alias */
} UsbHostdevXmlSpec;

/* <hostdev mode='subsystem' type='usb' managed='yes'>
 *   <source> <vendor id='0xVVVV'/> <product id='0xPPPP'/>
 *            <address bus='BUS' device='DEVICE'/> </source>   (decimal)
 *   [<alias name='ALIAS'/>]
 * </hostdev>
 * NULL when a value is out of range or the alias is not a user alias. */
char *devxml_build_usb_hostdev(const UsbHostdevXmlSpec *spec);

typedef struct {
        char *type;            /* block, file, network, volume ... */
        char *device;          /* disk, cdrom, lun */
        char *source;          /* source dev= or file=, may be NULL */
        char *target;          /* target dev */
        char *bus;
        char *alias;           /* may be NULL */
        char *serial;          /* may be NULL */
        gboolean discard;      /* driver discard='unmap' */
} DomainDisk;

typedef struct {
        guint bus, device;     /* source address, 0 when absent */
        char *vendor, *product;/* "0x46f4" as libvirt writes them, may be NULL */
        char *alias;
} DomainUsbHostdev;

typedef struct {
        char *name;
        char *uuid;
        GPtrArray *disks;        /* DomainDisk* */
        GPtrArray *usb_hostdevs; /* DomainUsbHostdev* */
        guint scsi_controllers;  /* <controller type='scsi'> of any model */
} DomainXml;

/* Parse a domain's XML (virDomainGetXMLDesc). NULL + PT_ERROR_FAILED on bad XML. */
DomainXml *devxml_parse_domain(const char *xml, GError **error);
void domain_xml_free(DomainXml *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainXml, domain_xml_free)

/* The disk whose block source is `source` (string equal), or NULL. */
const DomainDisk *domain_xml_find_disk(const DomainXml *dom, const char *source);

/* Pure: first free virtio target from vdb given the targets in use
 * (vdb..vdz, then vdaa..). */
char *devxml_next_target(const DomainXml *dom);
/* Pure: the same for a bus: virtio from vdb, scsi from sda (sda..sdz, sdaa..). */
char *devxml_next_target_on(const DomainXml *dom, gboolean scsi);

/* Pure: "vd" + 1-2 lower-case letters, not "vda"? (vda allowed if free). */
gboolean devxml_target_valid(const char *target);
/* Pure: "sd" + 1-2 lower-case letters (a SCSI target). */
gboolean devxml_scsi_target_valid(const char *target);

/* Pure: a disk serial the caller may choose: 1-20 chars of [A-Za-z0-9._+-]. */
gboolean devxml_serial_valid(const char *serial);
