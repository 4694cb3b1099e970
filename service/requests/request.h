/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What AttachDisk/DetachDisk and AttachUsb/DetachUsb share: the kept call and
 * its reference count, the arguments, the domain (looked up once, then by
 * UUID), polkit, the "attach under way" claims, and the detach that answers
 * only when libvirt reports the device removed (or the timeout passes).
 *
 * A kind's request is a struct that begins with a Request:
 *     typedef struct { Request base; DiskInfo *disk; ... } DiskRequest;
 * so a DiskRequest* is also a Request* for the functions below. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>
#include <systemd/sd-bus.h>

#include "devxml.h"
#include "disks.h"
#include "manager.h"
#include "options.h"
#include "usb.h"
#include "worker.h"

typedef struct Request Request;

/* Internal requests (automatic attaches, AttachAll, DetachAll): called once,
 * on the main thread, instead of a reply. */
typedef void (*RequestDone)(Request *req, const GError *error, gpointer data);

/* What differs between disks and USB devices. */
typedef struct {
        const char *name;               /* "disk" or "usb", for signals */
        gsize size;                     /* of the kind's request struct */
        void (*clear)(Request *req);    /* frees the kind's own fields */
        gboolean attach_returns_target; /* AttachDisk answers the target; AttachUsb nothing */
        WorkerFunc attach_work;         /* [worker] the attach; sets req->target */
        WorkerFunc detach_work;         /* [worker] asks libvirt to detach req->alias */
        void (*attached)(Request *req); /* main thread, after an attach (not a dry run); may be NULL */
} RequestKind;

struct Request {
        gint ref;
        const RequestKind *kind;
        Manager *m;
        sd_bus_message *message;      /* the call to answer; NULL once answered, and for internal requests */
        sd_bus_message *subject;      /* polkit checks its sender; NULL: no check (automatic attaches) */
        RequestDone done;             /* internal requests: NULL once called */
        gpointer done_data;
        char *domain_spec;
        char *device_spec;
        CallOptions options;
        char *domain_name;            /* canonical, from libvirt */
        char *domain_uuid;
        char *id;                     /* the device's Id, for signals */
        char *source;                 /* how messages name the device: /dev/sdb, USB device <Id> */
        char *target;                 /* attach: the result; detach: the device's target */
        char *alias;                  /* detach: the device's alias in the domain */
        char *claim;                  /* attach: the claimed key (request_attach) */
        char *xml;                    /* the device XML sent to libvirt (or, with dry-run, that would be) */
        guint waiter;                 /* detach: removal waiter id */
        guint timer;                  /* detach: timeout source */
        char *assignment;             /* automatic attaches: the assignment's match string */
        guint32 caller_uid;           /* G_MAXUINT32 until known, and for automatic attaches */
        gboolean counted;             /* holds one of the uid's CALLERS_REQUESTS */
        guint caller_watch;           /* callers_watch() id while the call is unanswered */
        gint caller_gone;             /* atomic: the caller left before its answer */
        AuthzCheck *check;            /* the polkit check under way */
        AuthzDone authorized;         /* where request_authorize() goes on */
        WorkerFunc lookup;            /* request_begin()'s first step */
        WorkerDone looked_up;
        gboolean system;              /* attach: the device (or a disk it carries) needs the system-disk action */
        gboolean authorized_system;   /* attach: the class polkit was asked about */
        GHashTable *vm_held;          /* what the running VMs hold (the model's, copied on the main
                                       * thread before each worker step); the target VM's own
                                       * XML is read fresh when acting */
};

/* A zeroed request of kind->size bytes that keeps `message` (to answer,
 * and whose sender polkit checks). */
gpointer request_new(const RequestKind *kind, Manager *m, sd_bus_message *message);

/* Where an internal request comes from and where its outcome goes. */
typedef struct {
        sd_bus_message *subject;   /* the call whose sender polkit checks, or NULL: no check, for the
                                    * automatic attaches of assigned devices (Assign was authorized) */
        gboolean dry_run;
        const char *assignment;    /* automatic attaches: the assignment's match string (audit) */
        RequestDone done;          /* required */
        gpointer data;
} RequestOrigin;

/* A zeroed request of kind->size bytes for `device` (how messages name it)
 * and `domain` (name or UUID), answered through origin->done. */
gpointer request_new_internal(const RequestKind *kind, Manager *m, const RequestOrigin *origin, const char *device,
                              const char *domain);
gpointer request_ref(gpointer req);
void request_unref(gpointer req);

/* Answer the call, or call `done`, with `error` (once; later answers are dropped). */
void request_fail(Request *req, const GError *error);
/* request_fail() and drop the caller's reference. */
void request_abort(Request *req, const GError *error);

/* Read (ss a{sv}): the domain and device strings (checked with
 * virt_domain_spec_valid and `device_valid`) and the options in `allowed`. */
gboolean request_read_call(Request *req, sd_bus_message *message, guint allowed,
                           gboolean (*device_valid)(const char *spec, GError **error), GError **error);

/* Read an object's call: (s a{sv}) of Attach, or with `domain` given (the
 * VM that holds the object's device; "" when none does: NotAttached), the
 * (a{sv}) of Detach. `device` names the object's device. */
gboolean request_read_object_call(Request *req, sd_bus_message *message, const char *device, const char *domain,
                                  guint allowed, GError **error);

/* The end of a method handler: with `failure`, answer with it now (returns
 * the sd-bus error, drops req); else watch the caller (a caller that leaves
 * cancels the request until its libvirt call starts), learn its uid, take
 * one of the uid's CALLERS_REQUESTS (PT_ERROR_LIMIT_EXCEEDED beyond), run
 * `lookup` in a worker and continue in `looked_up` on the main thread
 * (returns 1: answered later). */
int request_begin(Request *req, const GError *failure, WorkerFunc lookup, WorkerDone looked_up,
                  sd_bus_error *error);

/* Main thread or worker: TRUE (and `error` set) when the caller left
 * before its answer: the request must change nothing. */
gboolean request_caller_gone(Request *req, GError **error);

/* Main thread, before polkit is asked for an attach: records the class
 * asked about; FALSE (and the request answered SystemDevice "SOURCE
 * `what`") for an automatic attach of a system device: no one to ask. */
gboolean request_attach_class(Request *req, const char *what);
/* [worker] At the moment of acting: FALSE (Failed) when the class changed
 * since polkit was asked. */
gboolean request_same_class(Request *req, GError **error);

/* [worker] Look the running domain up and call func(req, conn, dom, error).
 * The first look-up records the canonical name and UUID; later ones go by
 * UUID and leave both alone (the main thread reads them meanwhile). */
typedef gboolean (*RequestDomainFunc)(Request *req, virConnectPtr conn, virDomainPtr dom, GError **error);
gboolean request_on_domain(Request *req, RequestDomainFunc func, GError **error);
/* The same, one at a time per domain (attaches: they choose from the XML). */
gboolean request_on_domain_alone(Request *req, RequestDomainFunc func, GError **error);

/* polkit `action` for the caller with details domain, domain.uuid and the
 * kind's `details` (may be NULL; NULL values are skipped). A request without
 * a subject (an automatic attach) is not checked: `done` runs at once. */
void request_authorize(Request *req, const char *action, GHashTable *details, AuthzDone done);

/* Main thread, once polkit allowed the attach and the device was checked
 * again: claim `key` (e.g. "usb:1:3"; owned), run kind->attach_work in a
 * worker, then reply and emit DeviceAttached(domain, kind, id, target), or
 * fail. With dry-run, attach_work only sets req->target and req->xml, and
 * the answer comes without a signal. At most one attach per key runs at a time (DeviceBusy otherwise): the
 * check that no domain has the device and the attach run in a worker, and two
 * requests must not both pass the check before either has attached. Takes
 * over the caller's reference. */
void request_attach(Request *req, char *key);

/* AuthzDone for detaches: when allowed, watch for libvirt's removal of
 * req->alias, start the timeout (options.timeout_ms), then run
 * kind->detach_work in a worker (with dry-run: answer at once, the device
 * XML the look-up found in req->xml). The call is answered when the device is
 * removed (and DeviceDetached emitted), the guest refuses, the work fails, or
 * the timeout passes. Takes over the caller's reference. */
void request_detach_authorized(GError *error, gpointer req);

/* [worker] DomainXml* of every running domain, on every connection (those
 * whose XML cannot be read or parsed are left out). */
GPtrArray *request_scan_running(Virt *virt, GError **error);

/* [worker] Check host disks (DiskInfo*) exactly as AttachDisk does, against
 * a fresh look at the host and req->vm_held (what the running domains have;
 * asked of libvirt when the model cannot say): critical
 * (SystemDevice), held by a VM (AlreadyAttached), busy (DeviceBusy). *system
 * tells whether any of them needs the system-disk action. */
gboolean disks_check_now(Request *req, GPtrArray *disks, gboolean readonly, gboolean *system, GError **error);

/* The attaches and detaches of usb-ops.c and disk-ops.c without a call of
 * their own: the same steps and checks as AttachUsb/DetachUsb and
 * AttachDisk/DetachDisk after the device was resolved (`domain` is a name
 * or UUID). Automatic attaches (no subject) never take a system disk. */
void usb_attach_device(Manager *m, const UsbDevice *dev, const char *domain, const RequestOrigin *origin);
void usb_detach_device(Manager *m, const UsbDevice *dev, const char *domain, const RequestOrigin *origin);
void disk_attach_device(Manager *m, const DiskInfo *disk, const char *domain, const RequestOrigin *origin);
void disk_detach_device(Manager *m, const DiskInfo *disk, const char *domain, const RequestOrigin *origin);

/* The objects' Attach and Detach (bus/objects.c): `device` is the object's
 * (a disk's /dev path, a USB device's port), `domain` for a detach the VM
 * that holds it. */
int disk_object_attach(Manager *m, sd_bus_message *message, const char *device, sd_bus_error *error);
int disk_object_detach(Manager *m, sd_bus_message *message, const char *device, const char *domain,
                       sd_bus_error *error);
int usb_object_attach(Manager *m, sd_bus_message *message, const char *device, sd_bus_error *error);
int usb_object_detach(Manager *m, sd_bus_message *message, const char *device, const char *domain,
                      sd_bus_error *error);
