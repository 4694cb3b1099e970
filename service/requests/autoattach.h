/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Assigned devices, kept attached: the survey of what is where (shared by
 * ListAssignments, AttachAll and DetachAll), and the engine that attaches an
 * assigned device when it appears or its domain starts, and removes the
 * service's own entries (alias ua-pt-...) of devices that left the host.
 *
 * A pass: [worker] survey the assignments, the host's devices and the
 * domains; remove stale entries -> [main] attach, through the code of
 * AttachUsb/AttachDisk (no polkit: Assign was authorized), every assigned
 * device in the pass's scope that is present, whose domain runs and does
 * not have it yet. Failures are AutoAttachFailed signals and log lines;
 * the next event retries. Triggers: the libvirt connection (re)opened (all
 * assignments), a domain started or resumed (its assignments), devices added (theirs),
 * devices removed (stale entries only), Assign (the new one). Passes run
 * one at a time; triggers meanwhile are merged into the next. */
#pragma once

#include <glib.h>

#include "assign-store.h"
#include "devxml.h"
#include "manager.h"

/* One assignment, as things are. */
typedef struct {
        Assignment *assignment;   /* a copy */
        char *match;              /* its canonical match string */
        UsbDevice *usb;           /* the present device it names, or NULL */
        DiskInfo *disk;
        GError *error;            /* why it names no single device, or why its device is not
                                   * attached (other assignments name it too), or NULL */
        gboolean domain_known;    /* libvirt has the domain */
        char *domain_name;        /* libvirt's name, else the assignment's */
        char *domain_uuid;        /* libvirt's UUID, else the assignment's ("" if none) */
        gboolean running;
        gboolean attached;        /* the running domain has the device */
} AssignState;

typedef struct {
        GPtrArray *states;        /* AssignState*, in assignment order */
        GPtrArray *running;       /* DomainXml* of the running domains */
        GPtrArray *usb;           /* UsbDevice* on the host; NULL if unreadable */
        GPtrArray *disks;         /* DiskInfo*; NULL if unreadable */
        GError *libvirt_error;    /* set when the domains are unknown */
} Survey;

/* The present device's Id, or "". */
const char *assign_state_id(const AssignState *state);
const char *assign_state_kind(const AssignState *state);

/* [worker] Take a survey of `assignments` (borrowed; copied). */
Survey *survey_take(Virt *virt, GPtrArray *assignments);
void survey_free(Survey *survey);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Survey, survey_free)

/* The pace of one assignment's automatic attaches: at most AUTOATTACH_BURST
 * in any AUTOATTACH_WINDOW, so that a device re-enumerating in a loop is not
 * re-attached in a loop; beyond, the assignment waits until the oldest of
 * them is a window old (the engine reports that once, as AutoAttachFailed,
 * and tries again then; Assign starts a new assignment's pace afresh).
 * Pure: the caller passes the clock (monotonic, µs). */
#define AUTOATTACH_BURST 5
#define AUTOATTACH_WINDOW (60 * G_USEC_PER_SEC)

typedef struct {
        gint64 times[AUTOATTACH_BURST];   /* when the last attaches were allowed, a ring */
        guint count;                      /* how many of `times` are set */
        guint oldest;                     /* the oldest's index */
        gboolean backing_off;             /* refused since the last allowed one */
} AttachWindow;

/* TRUE: attach now (it is counted). FALSE: not before attach_window_next();
 * *first is TRUE on the first refusal since the last allowed attach. */
gboolean attach_window_take(AttachWindow *window, gint64 now, gboolean *first);
/* When the next attach is allowed; 0: at once. */
gint64 attach_window_next(const AttachWindow *window);
/* No attach within the last window: the state can go. */
gboolean attach_window_idle(const AttachWindow *window, gint64 now);

AutoAttach *autoattach_new(Manager *m);
/* At shutdown, before the workers are drained: no new passes or attaches. */
void autoattach_stop(AutoAttach *aa);
void autoattach_free(AutoAttach *aa);

/* Triggers (main thread). */
void autoattach_connected(AutoAttach *aa);
void autoattach_domain_started(AutoAttach *aa, const char *uuid);
void autoattach_device_event(AutoAttach *aa, const char *kind, const char *id, gboolean added);
void autoattach_assigned(AutoAttach *aa, const char *match);

/* A pass is under way or due. */
gboolean autoattach_busy(AutoAttach *aa);
