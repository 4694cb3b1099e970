/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The live model: what the host has (disks, USB devices) and what the VMs
 * hold, kept in memory on the main thread and answered from there.
 *
 * It is fed by events only: device uevents, mount and swap table changes,
 * libvirt's lifecycle and device events (and a reconnect), and the service's
 * own changes. Each of them marks the model stale; a refresh reads the host
 * and libvirt in a worker (one at a time, events meanwhile merged into the
 * next) and the main thread compares the result with what it had: objects
 * that came and went, properties that changed, devices a VM took or gave
 * back, whoever did it. A change still proves itself when it acts: the model
 * may be a few milliseconds behind. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "contents.h"
#include "devxml.h"
#include "disks.h"
#include "usb.h"
#include "virt.h"

#define MODEL_ROOT "/org/example/Passthrough1"
#define MODEL_DISK_PREFIX MODEL_ROOT "/disk"
#define MODEL_USB_PREFIX MODEL_ROOT "/usb"
#define MODEL_DOMAIN_PREFIX MODEL_ROOT "/domain"
#define MODEL_ASSIGNMENT_PREFIX MODEL_ROOT "/assignment"

typedef struct {
        char *path;              /* object path, from the Id */
        DiskInfo *info;
        DiskUsage *usage;
        const char *state;       /* "free", "busy" or "attached" */
        char *state_reason;      /* for a person: "mounted at /mnt", "attached to VM debian as vdb" */
        char *in_use;            /* ListDisks' InUse: "", "mounted at /mnt", "sdb1 attached to VM debian" */
        char *attached_by;       /* "passthrough", "other" or "" */
        char *target;            /* the VM's target, or "" */
        char *usb_device;        /* object path of the USB device it sits on, or "/" */
        DiskContents *contents;  /* what it holds (libblkid), for free disks; else empty */
} ModelDisk;

typedef struct {
        char *path;
        UsbDevice *dev;
        const char *state;       /* "free", "busy", "attached" or "unavailable" (hubs) */
        char *state_reason;
        char *attached_to;       /* domain name or "" */
        char *attached_by;
        char *target;            /* the hostdev's alias, or "" */
        GPtrArray *disks;        /* char*: object paths of the disks it carries */
} ModelUsb;

typedef struct {
        char *path;
        char *name;
        char *uuid;
        const char *state;       /* as virsh prints it: "running", "shut off", ... */
        GPtrArray *devices;      /* char*: object paths of the host devices it has */
} ModelDomain;

typedef struct {
        char *path;              /* from the match string: the same across restarts */
        char *match;             /* canonical match string */
        const char *kind;        /* "usb" or "disk" */
        char *domain;            /* the domain's name */
        gboolean present;        /* exactly one present device matches */
        gboolean attached;       /* and the domain has it */
        char *last_error;        /* the last automatic attach's failure, or "" */
} ModelAssignment;

typedef enum {
        MODEL_DISK,
        MODEL_USB,
        MODEL_DOMAIN,
        MODEL_ASSIGNMENT,
} ModelKind;

/* What the model tells the bus layer, on the main thread, after it changed. */
typedef struct {
        void (*added)(ModelKind kind, const char *path, gpointer data);
        void (*removed)(ModelKind kind, const char *path, gpointer data);
        /* NULL-terminated property names. */
        void (*changed)(ModelKind kind, const char *path, const char *const *properties, gpointer data);
        void (*attached)(const char *domain, const char *kind, const char *id, const char *target, gpointer data);
        void (*detached)(const char *domain, const char *kind, const char *id, gpointer data);
        /* The first refresh is in: the model answers. */
        void (*ready)(gpointer data);
        gpointer data;
} ModelHandlers;

typedef struct Model Model;

Model *model_new(Virt *virt, const ModelHandlers *handlers);
void model_free(Model *model);

/* Main thread, when a refresh starts: what the device events say was
 * removed (usb: syspaths, disk: kernel names; NULL: no word), left out even
 * while sysfs still shows it. */
typedef GHashTable *(*ModelRemoved)(const char *kind, gpointer data);
void model_set_removed(Model *model, ModelRemoved removed, gpointer data);

/* Where the assignments are (read on the main thread when a refresh is
 * applied). */
typedef struct AssignStore AssignStore;
void model_set_store(Model *model, AssignStore *store);

/* An automatic attach of the assignment `match` failed (message) or
 * worked (NULL): its LastError. */
void model_note_attach(Model *model, const char *match, const char *message);

/* Something changed (or may have): refresh soon. */
void model_invalidate(Model *model);
/* The first refresh has been applied. */
gboolean model_ready(Model *model);
/* A refresh is due or under way. */
gboolean model_busy(Model *model);

/* Call func(data) on the main thread once no refresh is due or under way
 * (at once, from an idle, when none is): an answer from memory that has
 * caught up with the events already seen. */
typedef void (*ModelCurrent)(gpointer data);
void model_when_current(Model *model, ModelCurrent func, gpointer data);

/* Borrowed, in a stable order (disks and USB devices as listed by the host,
 * domains by name). Valid until the next refresh is applied. */
GPtrArray *model_disks(Model *model);
GPtrArray *model_usb(Model *model);
GPtrArray *model_domains(Model *model);
GPtrArray *model_assignments(Model *model);
gboolean model_libvirt_known(Model *model);   /* the last refresh reached libvirt */

const ModelDisk *model_find_disk(Model *model, const char *path);
const ModelUsb *model_find_usb(Model *model, const char *path);
const ModelDomain *model_find_domain(Model *model, const char *path);
const ModelAssignment *model_find_assignment(Model *model, const char *path);

/* How many refreshes ran (benchmarks and tests). */
guint model_refreshes(Model *model);

/* devnum -> VmHold (disks.h) of the block disks of `running` (DomainXml*). */
GHashTable *model_vm_holds(GPtrArray *running);
/* Add the block disks of one domain (a fresh look at the target VM). */
void model_vm_holds_add_domain(GHashTable *holds, const DomainXml *dom);

/* The service just gave `devnum` to `domain`: later requests know it before
 * the refresh that follows says so. Main thread. */
void model_note_vm_hold(Model *model, dev_t devnum, const char *domain, const char *target, const char *alias);

/* A copy of what the running domains had at the last refresh (devnum ->
 * VmHold): what other VMs hold, for a request's checks; NULL before the
 * first refresh and while libvirt cannot be read. Main thread. */
GHashTable *model_vm_holds_copy(Model *model);
