/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libvirt/virterror.h>

#include "virt.h"
#include "worker.h"

#define RECONNECT_MAX_SECONDS 30
#define OPEN_WAIT_SECONDS 5      /* a worker waits this long for another's virConnectOpen */

/* One libvirt connection: the default URI's, or a per-domain URI's. */
typedef struct {
        Virt *virt;
        GMutex lock;               /* guards conn, callback ids, opening, canonical */
        GCond opened;              /* an open finished (either way) */
        gboolean opening;          /* a worker is in virConnectOpen (without the lock) */
        char *uri;                 /* NULL: libvirt's default */
        char *canonical;           /* the URI libvirt reports once open */
        gint same_as_default;      /* atomic: another spelling of the default's URI */
        virConnectPtr conn;
        int event_ids[4];
        gint closed;               /* atomic: the close callback fired */
        guint reconnect_timer;     /* main thread */
        guint backoff;
        gboolean connecting;
} VirtConn;

struct Virt {
        GPtrArray *conns;          /* VirtConn*: the default URI's first, then one per other URI */
        GHashTable *by_domain;     /* domain name -> VirtConn* of its configured URI */
        VirtHandlers handlers;
        GMainContext *main_context;
        GHashTable *waiters;       /* main thread: id -> Waiter */
        guint next_waiter_id;
};

typedef struct {
        char *uuid;
        char *alias;
        VirtRemovalFunc func;
        gpointer data;
} Waiter;

/* ---- the libvirt event loop ---- */

static void ignore_libvirt_error(void *data, virErrorPtr error) {
        /* Errors are reported to callers from virGetLastErrorMessage(). */
}

/* libvirt's default event implementation (GLib based since libvirt 6.1)
 * attaches its fds and timers to GLib's global default main context, which
 * the service's main loop runs. A thread of its own looping on
 * virEventRunDefaultImpl() would compete with the main loop for that
 * context and dispatch sd-bus, polkit and our callbacks off the main thread
 * (while main() is still setting up, and after the main loop has quit). */
gboolean virt_event_loop_start(GError **error) {
        virSetErrorFunc(NULL, ignore_libvirt_error);
        if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
                virt_set_error(error, PT_ERROR_FAILED, "Cannot start the libvirt event loop");
                return FALSE;
        }
        return TRUE;
}

/* ---- events, handed to the main thread (where the main loop dispatches them) ---- */

typedef struct {
        Virt *virt;
        char *name;
        char *uuid;
        char *alias;
        int event;
        int detail;
        gboolean removal_failed;
} Event;

static void event_free(gpointer p) {
        Event *e = p;

        g_free(e->name);
        g_free(e->uuid);
        g_free(e->alias);
        g_free(e);
}

static Event *event_new(Virt *virt, virDomainPtr dom) {
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        Event *e = g_new0(Event, 1);

        (void) virDomainGetUUIDString(dom, uuid);
        e->virt = virt;
        e->name = g_strdup(virDomainGetName(dom));
        e->uuid = g_strdup(uuid);
        return e;
}

static gboolean dispatch_devices_changed(gpointer p) {
        Event *e = p;

        if (e->virt->handlers.devices_changed)
                e->virt->handlers.devices_changed(e->uuid, e->virt->handlers.data);
        return G_SOURCE_REMOVE;
}

static void on_device_added(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque) {
        Virt *virt = ((VirtConn *) opaque)->virt;

        g_main_context_invoke_full(virt->main_context, G_PRIORITY_DEFAULT, dispatch_devices_changed,
                                   event_new(virt, dom), event_free);
}

static gboolean dispatch_removal(gpointer p) {
        Event *e = p;
        GHashTableIter iter;
        gpointer key, value;
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));

        /* Collect ids first: a callback may unwatch other waiters. */
        g_hash_table_iter_init(&iter, e->virt->waiters);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                Waiter *w = value;
                guint id = GPOINTER_TO_UINT(key);

                if (g_str_equal(w->uuid, e->uuid) && g_str_equal(w->alias, e->alias))
                        g_array_append_val(ids, id);
        }
        for (guint i = 0; i < ids->len; i++) {
                Waiter *w = g_hash_table_lookup(e->virt->waiters, GUINT_TO_POINTER(g_array_index(ids, guint, i)));

                if (w)
                        w->func(e->removal_failed, w->data);
        }
        if (!e->removal_failed)
                dispatch_devices_changed(e);
        return G_SOURCE_REMOVE;
}

static void on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque) {
        Virt *virt = ((VirtConn *) opaque)->virt;
        Event *e = event_new(virt, dom);

        e->alias = g_strdup(alias);
        g_main_context_invoke_full(virt->main_context, G_PRIORITY_DEFAULT, dispatch_removal, e, event_free);
}

static void on_device_removal_failed(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque) {
        Virt *virt = ((VirtConn *) opaque)->virt;
        Event *e = event_new(virt, dom);

        e->alias = g_strdup(alias);
        e->removal_failed = TRUE;
        g_main_context_invoke_full(virt->main_context, G_PRIORITY_DEFAULT, dispatch_removal, e, event_free);
}

static gboolean dispatch_lifecycle(gpointer p) {
        Event *e = p;

        if (e->virt->handlers.lifecycle)
                e->virt->handlers.lifecycle(e->name, e->uuid, e->event, e->detail, e->virt->handlers.data);
        return G_SOURCE_REMOVE;
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        Virt *virt = ((VirtConn *) opaque)->virt;
        Event *e = event_new(virt, dom);

        e->event = event;
        e->detail = detail;
        g_main_context_invoke_full(virt->main_context, G_PRIORITY_DEFAULT, dispatch_lifecycle, e, event_free);
        return 0;
}

/* ---- the connections ---- */

static const char *shown_uri(const VirtConn *c) {
        return c->uri ? c->uri : "the default URI";
}

static void schedule_reconnect(VirtConn *c);

static gboolean handle_closed(gpointer p) {
        VirtConn *c = p;

        g_message("libvirt connection closed (%s); reconnecting", shown_uri(c));
        schedule_reconnect(c);
        return G_SOURCE_REMOVE;
}

static void on_close(virConnectPtr conn, int reason, void *opaque) {
        VirtConn *c = opaque;

        g_atomic_int_set(&c->closed, 1);
        g_main_context_invoke(c->virt->main_context, handle_closed, c);
}

static void register_events(VirtConn *c, virConnectPtr conn) {
        c->event_ids[0] = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), c, NULL);
        c->event_ids[1] = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_device_removal_failed), c, NULL);
        c->event_ids[2] = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), c, NULL);
        c->event_ids[3] = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_device_added), c, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(c->event_ids); i++)
                if (c->event_ids[i] < 0)
                        g_warning("Cannot register libvirt event %u: %s", i, virGetLastErrorMessage());
}

/* Called with the lock held. */
static void drop_conn(VirtConn *c) {
        if (!c->conn)
                return;
        for (guint i = 0; i < G_N_ELEMENTS(c->event_ids); i++)
                if (c->event_ids[i] >= 0)
                        (void) virConnectDomainEventDeregisterAny(c->conn, c->event_ids[i]);
        (void) virConnectUnregisterCloseCallback(c->conn, on_close);
        virConnectClose(c->conn);
        c->conn = NULL;
}

static gboolean notify_connected(gpointer p) {
        Virt *virt = p;

        if (virt->handlers.connected)
                virt->handlers.connected(virt->handlers.data);
        return G_SOURCE_REMOVE;
}

/* "qemu:///system", "qemu+unix:///system?socket=…": no host, a local socket. */
static gboolean uri_is_local(const char *uri) {
        g_autoptr(GUri) parsed = uri ? g_uri_parse(uri, G_URI_FLAGS_NONE, NULL) : NULL;
        const char *host = parsed ? g_uri_get_host(parsed) : NULL;

        return parsed && (!host || !*host);
}

/* Called with the lock held: `conn` (just opened) becomes the live one. */
static void install_conn(VirtConn *c, virConnectPtr conn) {
        char *uri = virConnectGetURI(conn);

        g_atomic_int_set(&c->closed, 0);
        c->conn = conn;
        g_free(c->canonical);
        c->canonical = g_strdup(uri);
        free(uri);
        if (virConnectRegisterCloseCallback(conn, on_close, c, NULL) < 0)
                g_warning("Cannot watch the libvirt connection: %s", virGetLastErrorMessage());
        /* A local libvirtd that dies closes the socket (the close callback);
         * keepalive pings, a wake-up every 5 s, are for remote ones. */
        if (!uri_is_local(c->canonical) && virConnectSetKeepAlive(conn, 5, 3) < 0)
                g_debug("libvirt keepalive not available: %s", virGetLastErrorMessage());
        register_events(c, conn);
        g_message("Connected to libvirt at %s", c->canonical ? c->canonical : "(unknown URI)");
        g_main_context_invoke(c->virt->main_context, notify_connected, c->virt);
}

/* Called with the lock held; returns with it held. The open itself runs
 * without the lock, so a libvirtd that does not answer holds up only the
 * workers that need this connection, each for OPEN_WAIT_SECONDS at most. */
static gboolean open_conn(VirtConn *c, GError **error) {
        gint64 deadline = g_get_monotonic_time() + OPEN_WAIT_SECONDS * G_TIME_SPAN_SECOND;
        virConnectPtr conn;

        while (c->opening) {
                if (!g_cond_wait_until(&c->opened, &c->lock, deadline)) {
                        g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                                    "libvirt at %s does not answer (a connection attempt is under way)",
                                    shown_uri(c));
                        return FALSE;
                }
        }
        if (c->conn)
                return TRUE;
        c->opening = TRUE;
        g_mutex_unlock(&c->lock);
        conn = virConnectOpen(c->uri);
        if (!conn)
                virt_set_error(error, PT_ERROR_FAILED, "Cannot connect to libvirt");
        g_mutex_lock(&c->lock);
        c->opening = FALSE;
        g_cond_broadcast(&c->opened);
        if (conn)
                install_conn(c, conn);
        return conn != NULL;
}

/* [worker] A new reference to the live connection, opening it if needed. */
static virConnectPtr conn_get_own(VirtConn *c, GError **error) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&c->lock);

        if (c->conn && (g_atomic_int_get(&c->closed) || virConnectIsAlive(c->conn) != 1))
                drop_conn(c);
        if (!c->conn && !open_conn(c, error))
                return NULL;
        virConnectRef(c->conn);
        return c->conn;
}

/* [worker] The connection if it is open and alive; never opens or waits. */
static virConnectPtr conn_get_open(VirtConn *c, GError **error) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&c->lock);

        if (!c->conn || g_atomic_int_get(&c->closed) || virConnectIsAlive(c->conn) != 1) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "libvirt at %s is not connected (yet)", shown_uri(c));
                return NULL;
        }
        virConnectRef(c->conn);
        return c->conn;
}

/* [worker] The default connection's URI as libvirt reports it, or NULL. */
static char *default_canonical(Virt *virt) {
        VirtConn *d = virt->conns->pdata[0];
        virConnectPtr conn = conn_get_own(d, NULL);
        char *uri;

        if (!conn)
                return NULL;
        virConnectClose(conn);
        g_mutex_lock(&d->lock);
        uri = g_strdup(d->canonical);
        g_mutex_unlock(&d->lock);
        return uri;
}

/* [worker] A per-domain URI that is the default's, spelt out ("qemu:///system"
 * while the default is left to libvirt): one connection, the default's. */
static VirtConn *conn_resolve(VirtConn *c) {
        VirtConn *d = c->virt->conns->pdata[0];
        g_autofree char *canonical = NULL;

        if (c == d || !c->uri)
                return c;
        if (!g_atomic_int_get(&c->same_as_default)) {
                canonical = default_canonical(c->virt);
                if (g_strcmp0(canonical, c->uri) != 0)
                        return c;
                g_atomic_int_set(&c->same_as_default, 1);
                g_message("%s is the default connection's URI: using that connection", c->uri);
        }
        return d;
}

/* [worker] The connection `c` stands for: its own, or the default's. */
static virConnectPtr conn_get(VirtConn *c, GError **error) {
        return conn_get_own(conn_resolve(c), error);
}

virConnectPtr virt_get_conn(Virt *virt, GError **error) {
        return conn_get(virt->conns->pdata[0], error);
}

static void reconnect_work(gpointer data, GError **error) {
        virConnectPtr conn = conn_get(data, error);

        if (conn)
                virConnectClose(conn);
}

static void reconnect_done(gpointer data, GError *error) {
        VirtConn *c = data;

        c->connecting = FALSE;
        if (!error) {
                c->backoff = 0;
                return;
        }
        g_warning("%s", error->message);
        schedule_reconnect(c);
}

static gboolean reconnect_tick(gpointer data) {
        VirtConn *c = data;

        c->reconnect_timer = 0;
        c->connecting = TRUE;
        worker_run(reconnect_work, reconnect_done, c);
        return G_SOURCE_REMOVE;
}

static void schedule_reconnect(VirtConn *c) {
        if (c->reconnect_timer || c->connecting)
                return;
        c->backoff = CLAMP(c->backoff * 2, 1, RECONNECT_MAX_SECONDS);
        c->reconnect_timer = g_timeout_add_seconds(c->backoff, reconnect_tick, c);
}

void virt_connect_in_background(Virt *virt) {
        for (guint i = 0; i < virt->conns->len; i++) {
                VirtConn *c = virt->conns->pdata[i];

                if (c->connecting || c->reconnect_timer)
                        continue;
                c->connecting = TRUE;
                worker_run(reconnect_work, reconnect_done, c);
        }
}

static VirtConn *conn_new(Virt *virt, const char *uri) {
        VirtConn *c = g_new0(VirtConn, 1);

        c->virt = virt;
        g_mutex_init(&c->lock);
        g_cond_init(&c->opened);
        c->uri = g_strdup(uri);
        for (guint i = 0; i < G_N_ELEMENTS(c->event_ids); i++)
                c->event_ids[i] = -1;
        return c;
}

static void conn_free(VirtConn *c) {
        g_clear_handle_id(&c->reconnect_timer, g_source_remove);
        g_mutex_lock(&c->lock);
        drop_conn(c);
        g_mutex_unlock(&c->lock);
        g_mutex_clear(&c->lock);
        g_cond_clear(&c->opened);
        g_free(c->uri);
        g_free(c->canonical);
        g_free(c);
}

/* The connection for `uri`, made when it is the first one. */
static VirtConn *conn_for_uri(Virt *virt, const char *uri) {
        for (guint i = 0; i < virt->conns->len; i++) {
                VirtConn *c = virt->conns->pdata[i];

                if (g_strcmp0(c->uri, uri) == 0)
                        return c;
        }
        g_ptr_array_add(virt->conns, conn_new(virt, uri));
        return g_ptr_array_index(virt->conns, virt->conns->len - 1);
}

static void waiter_free(gpointer p) {
        Waiter *w = p;

        g_free(w->uuid);
        g_free(w->alias);
        g_free(w);
}

Virt *virt_new(const char *uri, GHashTable *domain_uris, const VirtHandlers *handlers) {
        Virt *virt = g_new0(Virt, 1);
        GHashTableIter iter;
        gpointer name, domain_uri;

        virt->conns = g_ptr_array_new_with_free_func((GDestroyNotify) conn_free);
        g_ptr_array_add(virt->conns, conn_new(virt, uri));
        virt->by_domain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        if (domain_uris) {
                g_hash_table_iter_init(&iter, domain_uris);
                while (g_hash_table_iter_next(&iter, &name, &domain_uri))
                        g_hash_table_insert(virt->by_domain, g_strdup(name), conn_for_uri(virt, domain_uri));
        }
        if (handlers)
                virt->handlers = *handlers;
        virt->main_context = g_main_context_ref_thread_default();
        virt->waiters = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, waiter_free);
        return virt;
}

void virt_free(Virt *virt) {
        if (!virt)
                return;
        g_ptr_array_unref(virt->conns);
        g_hash_table_unref(virt->by_domain);
        g_hash_table_unref(virt->waiters);
        g_main_context_unref(virt->main_context);
        g_free(virt);
}

/* [worker] The domain `spec` names on connection `c`. */
static virDomainPtr find_on(VirtConn *c, const char *spec, GError **error) {
        virConnectPtr conn = conn_get(c, error);
        virDomainPtr dom = conn ? virt_lookup_domain(conn, spec, error) : NULL;

        if (conn)
                virConnectClose(conn);   /* the domain keeps its own reference */
        return dom;
}

virDomainPtr virt_find_domain(Virt *virt, const char *spec, GError **error) {
        VirtConn *configured = g_hash_table_lookup(virt->by_domain, spec);
        g_autoptr(GError) first = NULL;

        if (configured)
                return find_on(configured, spec, error);
        for (guint i = 0; i < virt->conns->len; i++) {
                g_autoptr(GError) local = NULL;
                virDomainPtr dom = find_on(virt->conns->pdata[i], spec, &local);

                if (dom)
                        return dom;
                if (i == 0 && !g_error_matches(local, PT_ERROR, PT_ERROR_NO_SUCH_DOMAIN))
                        first = g_steal_pointer(&local);
        }
        if (first)
                g_propagate_error(error, g_steal_pointer(&first));
        else
                g_set_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DOMAIN, "No domain '%s'", spec);
        return NULL;
}

static void domain_free(gpointer dom);

GPtrArray *virt_list_all_domains(Virt *virt, gboolean active_only, GError **error) {
        g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(domain_free);

        for (guint i = 0; i < virt->conns->len; i++) {
                VirtConn *c = virt->conns->pdata[i];
                g_autoptr(GError) local = NULL;
                virConnectPtr conn = NULL;
                GPtrArray *doms = NULL;

                if (conn_resolve(c) != c)
                        continue;   /* the default's, listed already */
                /* Another URI's libvirtd that is not reached (the
                 * background connect keeps trying) does not hold up the
                 * listing: its domains are left out. */
                conn = i == 0 ? conn_get_own(c, &local) : conn_get_open(c, &local);
                doms = conn ? virt_list_domains(conn, active_only, &local) : NULL;

                if (conn)
                        virConnectClose(conn);
                if (doms) {
                        g_ptr_array_extend_and_steal(all, doms);
                } else if (i == 0) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return NULL;
                } else {
                        g_warning("Leaving out the domains at %s: %s", shown_uri(c), local->message);
                }
        }
        return g_steal_pointer(&all);
}

/* ---- domains ---- */

void virt_set_error(GError **error, PtError code, const char *what) {
        const char *msg = virGetLastErrorMessage();

        g_set_error(error, PT_ERROR, code, "%s: %s", what, msg ? msg : "unknown libvirt error");
}

static gboolean looks_like_uuid(const char *s) {
        return strlen(s) == 36 && g_uuid_string_is_valid(s);
}

virDomainPtr virt_lookup_domain(virConnectPtr conn, const char *spec, GError **error) {
        virDomainPtr dom = NULL;

        if (looks_like_uuid(spec))
                dom = virDomainLookupByUUIDString(conn, spec);
        if (!dom)
                dom = virDomainLookupByName(conn, spec);
        if (dom)
                return dom;
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN || virGetLastErrorCode() == VIR_ERR_OK)
                g_set_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DOMAIN,
                            "No domain '%s'", spec);
        else
                virt_set_error(error, PT_ERROR_FAILED, "Cannot look up the domain");
        return NULL;
}

void virt_domain_identity(virDomainPtr dom, char **name, char **uuid) {
        char text[VIR_UUID_STRING_BUFLEN] = "";

        (void) virDomainGetUUIDString(dom, text);
        *name = g_strdup(virDomainGetName(dom));
        *uuid = g_strdup(text);
}

const char *virt_state_name(int state) {
        switch (state) {
        case VIR_DOMAIN_RUNNING: return "running";
        case VIR_DOMAIN_BLOCKED: return "idle";
        case VIR_DOMAIN_PAUSED: return "paused";
        case VIR_DOMAIN_SHUTDOWN: return "in shutdown";
        case VIR_DOMAIN_SHUTOFF: return "shut off";
        case VIR_DOMAIN_CRASHED: return "crashed";
        case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
        default: return "no state";
        }
}

gboolean virt_require_running(virDomainPtr dom, GError **error) {
        int state = VIR_DOMAIN_NOSTATE, reason = 0;

        if (virDomainGetState(dom, &state, &reason, 0) < 0) {
                virt_set_error(error, PT_ERROR_FAILED, "Cannot read the domain's state");
                return FALSE;
        }
        if (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED)
                return TRUE;
        g_set_error(error, PT_ERROR, PT_ERROR_DOMAIN_NOT_RUNNING,
                    "Domain '%s' is %s. Start it first: virsh start %s",
                    virDomainGetName(dom), virt_state_name(state), virDomainGetName(dom));
        return FALSE;
}

char *virt_domain_xml(virDomainPtr dom, GError **error) {
        char *raw = virDomainGetXMLDesc(dom, 0);
        char *xml;

        if (!raw) {
                virt_set_error(error, PT_ERROR_FAILED, "Cannot read the domain's XML");
                return NULL;
        }
        xml = g_strdup(raw);
        free(raw);
        return xml;
}

static void domain_free(gpointer dom) {
        virDomainFree(dom);
}

GPtrArray *virt_list_domains(virConnectPtr conn, gboolean active_only, GError **error) {
        virDomainPtr *doms = NULL;
        unsigned int flags = active_only ? VIR_CONNECT_LIST_DOMAINS_ACTIVE : 0;
        int n = virConnectListAllDomains(conn, &doms, flags);
        GPtrArray *array;

        if (n < 0) {
                virt_set_error(error, PT_ERROR_FAILED, "Cannot list domains");
                return NULL;
        }
        array = g_ptr_array_new_full(n, domain_free);
        for (int i = 0; i < n; i++)
                g_ptr_array_add(array, doms[i]);
        free(doms);
        return array;
}

gboolean virt_attach_live(virDomainPtr dom, const char *xml, GError **error) {
        if (virDomainAttachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) == 0)
                return TRUE;
        virt_set_error(error, PT_ERROR_FAILED, "libvirt could not attach the device");
        return FALSE;
}

gboolean virt_detach_live(virDomainPtr dom, const char *xml, GError **error) {
        if (virDomainDetachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) == 0)
                return TRUE;
        virt_set_error(error, PT_ERROR_FAILED, "libvirt could not detach the device");
        return FALSE;
}

gboolean virt_detach_alias_live(virDomainPtr dom, const char *alias, GError **error) {
        if (virDomainDetachDeviceAlias(dom, alias, VIR_DOMAIN_AFFECT_LIVE) == 0)
                return TRUE;
        virt_set_error(error, PT_ERROR_FAILED, "libvirt could not detach the device");
        return FALSE;
}

/* ---- removal waiters ---- */

guint virt_watch_removal(Virt *virt, const char *uuid, const char *alias, VirtRemovalFunc func, gpointer data) {
        Waiter *w = g_new0(Waiter, 1);
        guint id = ++virt->next_waiter_id;

        w->uuid = g_strdup(uuid);
        w->alias = g_strdup(alias);
        w->func = func;
        w->data = data;
        g_hash_table_insert(virt->waiters, GUINT_TO_POINTER(id), w);
        return id;
}

void virt_unwatch_removal(Virt *virt, guint id) {
        g_hash_table_remove(virt->waiters, GUINT_TO_POINTER(id));
}

guint virt_waiting(Virt *virt) {
        return g_hash_table_size(virt->waiters);
}

gboolean virt_domain_spec_valid(const char *spec, GError **error) {
        gsize len = strlen(spec);

        if (len == 0 || len > 255) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                                    "The domain must be a libvirt domain name or UUID (1-255 bytes)");
                return FALSE;
        }
        for (const char *p = spec; *p; p++)
                if (g_ascii_iscntrl(*p)) {
                        g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                                            "The domain name contains control characters");
                        return FALSE;
                }
        return TRUE;
}
