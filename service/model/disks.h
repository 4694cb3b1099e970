/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host disks: what they are (from sysfs and libudev) and whether one may be
 * given to a VM. Reading sysfs is cheap and runs on the main thread. */
#pragma once

#include <glib.h>
#include <sys/types.h>
#include "blockgraph.h"
#include "mounts.h"

typedef struct {
        char *name;            /* kernel name: sdb1, loop3p1, nvme0n1p2 */
        dev_t devnum;
        GPtrArray *holders;    /* char*: names under holders/ (dm-0, md127) */
} BlockPart;

typedef struct {
        char *name;            /* kernel name: sdb */
        char *path;            /* /dev/sdb */
        char *id;              /* best /dev/disk/by-id basename (wwn-* first), else name */
        dev_t devnum;
        guint64 size;          /* bytes */
        char *vendor;          /* "" when unknown ("ATA" for libata disks) */
        char *model;           /* "" when unknown; strings are printable ASCII */
        char *serial;
        char *wwn;
        char *transport;       /* sata, nvme, usb, mmc, virtio, scsi, loop, ... */
        gboolean removable;
        gboolean read_only;
        gboolean rotational;   /* queue/rotational is not 0 (unknown counts as rotational) */
        GPtrArray *partitions; /* BlockPart* */
        GPtrArray *holders;    /* char*: holders of the whole disk */
        GPtrArray *by_id;      /* char*: every /dev/disk/by-id basename */
} DiskInfo;

void disk_info_free(DiskInfo *disk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DiskInfo, disk_info_free)
DiskInfo *disk_info_copy(const DiskInfo *disk);

/* What in_use refers to, so messages can name the device and the fix. */
typedef enum {
        DISK_BUSY_NONE,
        DISK_BUSY_MOUNTED,
        DISK_BUSY_SWAP,
        DISK_BUSY_HELD,
} DiskBusy;

/* How a disk is used on the host, derived from DiskInfo + mounts + swaps. */
typedef struct {
        GPtrArray *mountpoints;   /* char*: of the disk and all partitions */
        char *in_use;             /* "" when free; else "mounted at /mnt/x", "swap", "held by dm-0" */
        gboolean system;          /* critical, or an internal non-removable disk */
        gboolean critical;        /* backs /, /boot, /efi, /boot/efi or active swap */
        char *critical_reason;    /* "holds /" ... or NULL */
        DiskBusy busy;            /* kind of the first in_use reason */
        char *busy_device;        /* "/dev/sdb1": disk or partition in use, or NULL */
        char *busy_detail;        /* mount point or holder name, or NULL */
        char *vm;                 /* a running VM that has the disk or a device on or under it, or NULL */
        char *vm_device;          /* what it has: /dev/sdz1 */
        char *vm_target;          /* as: vdb */
        char *vm_alias;           /* with this alias (ua-pt-vdb: passthrough's), or NULL */
} DiskUsage;

void disk_usage_free(DiskUsage *usage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DiskUsage, disk_usage_free)

/* A block device a running VM has (a <disk type='block'> source). */
typedef struct {
        char *domain;
        char *target;
        char *alias;    /* the device's alias in the domain, or NULL */
} VmHold;

void vm_hold_free(VmHold *hold);
/* guint64 devnum -> VmHold*, for HostUsage.vm_held. */
GHashTable *vm_holds_new(void);
void vm_holds_add(GHashTable *holds, dev_t devnum, const char *domain, const char *target, const char *alias);

/* A snapshot of what the host is doing with its block devices. */
typedef struct {
        MountTable *mounts;
        GPtrArray *swaps;          /* char*: swap file/device paths */
        GArray *swap_devnums;      /* dev_t of swap block devices */
        GPtrArray *critical_disks; /* char*: kernel names of disks behind /, /boot, /efi, swap */
        GPtrArray *critical_reasons; /* char*: "holds /, swap", parallel to critical_disks; may be NULL */
        BlockGraph *graph;         /* every block device; NULL: only the disk's own partitions and holders */
        GHashTable *vm_held;       /* vm_holds_new(): what running VMs have; NULL: unknown */
} HostUsage;

void host_usage_free(HostUsage *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostUsage, host_usage_free)

/* Read mountinfo, swaps and the block device graph (a walk of every block
 * device: a worker's job). vm_held is left NULL for the caller to fill. */
HostUsage *host_usage_read(GError **error);

/* Pure: usage of one disk given the host snapshot: mounts, swap and holders
 * of the disk, of what it stands on (a loop device's backing disk) and of
 * everything built on any of them; the VM that has any of those devices;
 * critical and system when any disk in its chain is. */
DiskUsage *disk_usage_compute(const DiskInfo *disk, const HostUsage *host);

/* Pure: may this disk be attached? PT_ERROR_SYSTEM_DEVICE for critical disks,
 * PT_ERROR_ALREADY_ATTACHED when a VM has it or a device on it,
 * PT_ERROR_DEVICE_BUSY for mounted/swap/held ones (message says what to do:
 * "Unmount the device before attaching: sudo umount /dev/sdb1"),
 * PT_ERROR_INVALID_ARGUMENT for a read-only device without readonly. */
gboolean disk_check_attachable(const DiskInfo *disk, const DiskUsage *usage,
                               gboolean readonly, GError **error);

/* Pure: the buses a disk can go on ("virtio", "scsi"; every disk) and the
 * modes ("disk", and "lun" for a SCSI disk: kernel name sd*). NULL-terminated,
 * static. */
const char *const *disk_buses(const DiskInfo *disk);
const char *const *disk_modes(const DiskInfo *disk);

/* Pure: can the disk be passed as a SCSI LUN? Else PT_ERROR_NOT_SUPPORTED
 * saying it is not a SCSI device (NVMe: health data needs PCI passthrough). */
gboolean disk_check_lun(const DiskInfo *disk, GError **error);

/* Enumerate whole disks (sd*, vd*, xvd*, nvme*n*, mmcblk*, loop* with a
 * backing file, ...; not dm/md/zram/ram/sr). Sorted by name. */
GPtrArray *disks_list(GError **error);   /* DiskInfo* */
/* How many times disks_list() enumerated (tests prove a path does not). */
guint disks_enumerations(void);

/* Read one whole disk by kernel name ("sdb"). NULL + NO_SUCH_DEVICE if absent. */
DiskInfo *disk_read(const char *name, GError **error);

/* Resolve a caller's device string: a kernel name "sdb", "/dev/NAME", a
 * /dev/disk/by-FOLDER/ link, or an Id (a by-id link's name). Anything else is
 * INVALID_ARGUMENT with one fixed message, decided before touching the file
 * system; a path that leads to no block device under /dev is NO_SUCH_DEVICE
 * "No disk 'SPEC'", whatever it leads to. Partitions and dm/md devices are
 * INVALID_ARGUMENT with what to pass instead. A name that names no disk
 * costs one or two look-ups, never an enumeration. */
DiskInfo *disks_resolve(const char *spec, GError **error);

/* The block device an absolute path names (following links), or 0. */
dev_t disks_source_devnum(const char *source);

/* Pure: the syntax check alone (length <= 255, no control characters; a
 * plain name of [A-Za-z0-9._:+@-] not "." / "..", /dev/ + such a name, or
 * /dev/disk/by-FOLDER/LINK). */
gboolean disk_spec_valid(const char *spec, GError **error);

/* Open `path` read-only with O_EXCL (the kernel refuses while anything on
 * the host has the device: mounted, swap, held) and prove by fstat that it
 * is the block device `devnum` that was checked. Returns the fd, or -1 with
 * PT_ERROR_DEVICE_BUSY (in use) or PT_ERROR_FAILED (another device now). */
int disk_open_exclusive(const char *path, dev_t devnum, GError **error);
