/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Everything libvirt: the event loop, the connection (opened lazily,
 * reopened when it dies, events re-registered), domain look-ups and the
 * device-removal waiters. Functions marked [worker] block and must run in a
 * worker thread (worker.h); the others run on the main thread. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "errors.h"

typedef struct Virt Virt;

typedef struct {
        /* Main thread. A domain started, stopped... (VIR_DOMAIN_EVENT_*). */
        void (*lifecycle)(const char *name, const char *uuid, int event, int detail, gpointer data);
        /* Main thread. A device was added to or removed from a domain (by
         * anyone: the service, virsh, the guest letting go). */
        void (*devices_changed)(const char *uuid, gpointer data);
        /* Main thread. The connection was (re)opened and events are registered. */
        void (*connected)(gpointer data);
        gpointer data;
} VirtHandlers;

/* Register libvirt's default event loop; the GLib main loop on the default
 * context runs it. Must be called once, before any connection is opened. */
gboolean virt_event_loop_start(GError **error);

/* `uri`: the default connection's (NULL: libvirt's default). `domain_uris`
 * (may be NULL): domain name -> URI of the connection that domain lives on;
 * one connection per distinct URI, each reopened when it dies, events from
 * all of them. */
Virt *virt_new(const char *uri, GHashTable *domain_uris, const VirtHandlers *handlers);
void virt_free(Virt *virt);

/* Open the connection in the background now, retrying with backoff. */
void virt_connect_in_background(Virt *virt);

/* [worker] A new reference to the default connection, opening it if
 * needed. Release with virConnectClose(). */
virConnectPtr virt_get_conn(Virt *virt, GError **error);

/* [worker] The domain `spec` (name or UUID) names: on its configured
 * connection when it has one, else the default, else any other.
 * PT_ERROR_NO_SUCH_DOMAIN if absent. */
virDomainPtr virt_find_domain(Virt *virt, const char *spec, GError **error);

/* [worker] The domains of every connection (virDomainPtr, freed with the
 * array). Fails when the default connection does; others that fail are
 * left out (logged). */
GPtrArray *virt_list_all_domains(Virt *virt, gboolean active_only, GError **error);

/* [worker] Domain by UUID or name: PT_ERROR_NO_SUCH_DOMAIN if absent. */
virDomainPtr virt_lookup_domain(virConnectPtr conn, const char *spec, GError **error);

/* The domain's canonical name and UUID (newly allocated). */
void virt_domain_identity(virDomainPtr dom, char **name, char **uuid);

/* [worker] PT_ERROR_DOMAIN_NOT_RUNNING unless the domain is running. */
gboolean virt_require_running(virDomainPtr dom, GError **error);

/* [worker] The domain's live XML (persistent XML when it is shut off). */
char *virt_domain_xml(virDomainPtr dom, GError **error);

/* [worker] Domains (virDomainPtr, freed with the array). */
GPtrArray *virt_list_domains(virConnectPtr conn, gboolean active_only, GError **error);

/* [worker] Live-attach / live-detach device XML. */
gboolean virt_attach_live(virDomainPtr dom, const char *xml, GError **error);
gboolean virt_detach_live(virDomainPtr dom, const char *xml, GError **error);
/* [worker] Ask for the live detach of the device with `alias`; returns
 * without waiting for the guest (see virt_watch_removal). */
gboolean virt_detach_alias_live(virDomainPtr dom, const char *alias, GError **error);

/* "running", "paused", "shut off", ... as virsh prints them. */
const char *virt_state_name(int state);

/* Set error to `code` with "`what`: <libvirt's last error message>". */
void virt_set_error(GError **error, PtError code, const char *what);

/* Main thread. Call func(failed, data) when libvirt reports the device with
 * `alias` removed from (or refused by) the domain `uuid`. Register before
 * asking for the detach. Returns an id for virt_unwatch_removal(). */
typedef void (*VirtRemovalFunc)(gboolean failed, gpointer data);
guint virt_watch_removal(Virt *virt, const char *uuid, const char *alias, VirtRemovalFunc func, gpointer data);
void virt_unwatch_removal(Virt *virt, guint id);
/* Removal waiters registered. */
guint virt_waiting(Virt *virt);

/* Pure: a caller's domain string is 1-255 bytes without control characters
 * (PT_ERROR_INVALID_ARGUMENT otherwise). */
gboolean virt_domain_spec_valid(const char *spec, GError **error);
