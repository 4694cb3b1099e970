/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ListDisks, AttachDisk and DetachDisk.
 *
 * A change flows one way: validate -> resolve the disk (sysfs, main thread)
 * -> resolve the domain (worker) -> polkit (async) -> re-resolve and re-check
 * everything, since state may have changed while the user typed a password
 * -> the libvirt call (worker) -> reply and signal (main thread). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "busdict.h"
#include "devxml.h"
#include "disks.h"
#include "manager.h"
#include "options.h"
#include "worker.h"

/* ---- who has which host disk: scanned from every running domain ---- */

typedef struct {
        char *domain;
        char *target;
} Holder;

static void holder_free(gpointer p) {
        Holder *h = p;

        g_free(h->domain);
        g_free(h->target);
        g_free(h);
}

static dev_t source_devnum(const char *source) {
        struct stat st;

        if (!source || stat(source, &st) < 0 || !S_ISBLK(st.st_mode))
                return 0;
        return st.st_rdev;
}

static void scan_domain(virDomainPtr dom, GHashTable *held) {
        g_autofree char *xml = virt_domain_xml(dom, NULL);
        g_autoptr(DomainXml) parsed = xml ? devxml_parse_domain(xml, NULL) : NULL;

        for (guint i = 0; parsed && i < parsed->disks->len; i++) {
                const DomainDisk *d = parsed->disks->pdata[i];
                dev_t devnum = g_strcmp0(d->type, "block") == 0 ? source_devnum(d->source) : 0;
                Holder *h;

                if (!devnum)
                        continue;
                h = g_new0(Holder, 1);
                h->domain = g_strdup(parsed->name);
                h->target = g_strdup(d->target);
                g_hash_table_insert(held, g_memdup2(&devnum, sizeof(guint64)), h);
        }
}

/* [worker] guint64 devnum -> Holder* for every block disk of running domains. */
static GHashTable *scan_attachments(virConnectPtr conn, GError **error) {
        g_autoptr(GPtrArray) doms = virt_list_domains(conn, TRUE, error);
        GHashTable *held;

        if (!doms)
                return NULL;
        held = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, holder_free);
        for (guint i = 0; i < doms->len; i++)
                scan_domain(doms->pdata[i], held);
        return held;
}

static const Holder *find_holder(GHashTable *held, dev_t devnum) {
        guint64 key = devnum;

        return held ? g_hash_table_lookup(held, &key) : NULL;
}

/* ---- ListDisks ---- */

typedef struct {
        Manager *m;
        sd_bus_message *message;
        GHashTable *held;
} ListRequest;

static void list_disks_work(gpointer data, GError **error) {
        ListRequest *req = data;
        g_autoptr(GError) local = NULL;
        virConnectPtr conn = virt_get_conn(req->m->virt, &local);

        if (conn)
                req->held = scan_attachments(conn, &local);
        if (conn)
                virConnectClose(conn);
        /* Disks are listed even when libvirt is away; AttachedTo is then unknown. */
        if (local)
                g_warning("ListDisks without libvirt: %s", local->message);
}

static int append_disk(sd_bus_message *reply, const DiskInfo *disk, const DiskUsage *usage, const Holder *holder) {
        g_autofree char *attached = holder ? g_strdup_printf("attached to VM %s", holder->domain) : NULL;
        const char *in_use = *usage->in_use ? usage->in_use : (attached ? attached : "");
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");

        if (r >= 0) r = dict_add_s(reply, "Id", disk->id);
        if (r >= 0) r = dict_add_s(reply, "Name", disk->name);
        if (r >= 0) r = dict_add_s(reply, "Path", disk->path);
        if (r >= 0) r = dict_add_t(reply, "Size", disk->size);
        if (r >= 0) r = dict_add_s(reply, "Model", disk->model);
        if (r >= 0) r = dict_add_s(reply, "Serial", disk->serial);
        if (r >= 0) r = dict_add_s(reply, "Wwn", disk->wwn);
        if (r >= 0) r = dict_add_s(reply, "Transport", disk->transport);
        if (r >= 0) r = dict_add_b(reply, "Removable", disk->removable);
        if (r >= 0) r = dict_add_b(reply, "ReadOnly", disk->read_only);
        if (r >= 0) r = dict_add_as(reply, "Mountpoints", usage->mountpoints);
        if (r >= 0) r = dict_add_b(reply, "System", usage->system);
        if (r >= 0) r = dict_add_s(reply, "InUse", in_use);
        if (r >= 0) r = dict_add_s(reply, "AttachedTo", holder ? holder->domain : "");
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

static int append_disk_list(sd_bus_message *reply, GPtrArray *disks, HostUsage *host, GHashTable *held) {
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");

        for (guint i = 0; r >= 0 && i < disks->len; i++) {
                const DiskInfo *disk = disks->pdata[i];
                g_autoptr(DiskUsage) usage = disk_usage_compute(disk, host);

                r = append_disk(reply, disk, usage, find_holder(held, disk->devnum));
        }
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

static void list_disks_done(gpointer data, GError *unused) {
        ListRequest *req = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) disks = disks_list(&error);
        g_autoptr(HostUsage) host = disks ? host_usage_read(&error) : NULL;
        sd_bus_message *reply = NULL;
        int r;

        if (!host) {
                reply_error(req->message, error);
                goto out;
        }
        r = sd_bus_message_new_method_return(req->message, &reply);
        if (r >= 0)
                r = append_disk_list(reply, disks, host, req->held);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                g_warning("Cannot reply to ListDisks: %s", g_strerror(-r));
out:
        sd_bus_message_unref(reply);
        sd_bus_message_unref(req->message);
        g_clear_pointer(&req->held, g_hash_table_unref);
        g_free(req);
}

int method_list_disks(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        ListRequest *req = g_new0(ListRequest, 1);

        req->m = userdata;
        req->message = sd_bus_message_ref(message);
        worker_run(list_disks_work, list_disks_done, req);
        return 1;
}

/* ---- the request shared by AttachDisk and DetachDisk ---- */

typedef struct {
        gint ref;
        Manager *m;
        sd_bus_message *message;      /* NULL once answered */
        char *domain_spec;
        char *device_spec;
        CallOptions options;
        DiskInfo *disk;               /* the host disk (NULL in source-only detach) */
        char *source;                 /* the path we attach, or found in the domain */
        dev_t devnum;
        char *id;                     /* Id for signals */
        gboolean system;
        char *domain_name;            /* canonical, from libvirt */
        char *domain_uuid;
        char *target;                 /* attach result / detach: the disk's target */
        char *alias;                  /* detach: the disk's alias */
        guint waiter;                 /* detach: removal waiter id */
        guint timer;                  /* detach: timeout source */
} DiskRequest;

static DiskRequest *request_new(Manager *m, sd_bus_message *message) {
        DiskRequest *req = g_new0(DiskRequest, 1);

        req->ref = 1;
        req->m = m;
        req->message = sd_bus_message_ref(message);
        return req;
}

static DiskRequest *request_ref(DiskRequest *req) {
        g_atomic_int_inc(&req->ref);
        return req;
}

static void request_unref(DiskRequest *req) {
        if (!g_atomic_int_dec_and_test(&req->ref))
                return;
        sd_bus_message_unref(req->message);
        g_free(req->domain_spec);
        g_free(req->device_spec);
        call_options_clear(&req->options);
        g_clear_pointer(&req->disk, disk_info_free);
        g_free(req->source);
        g_free(req->id);
        g_free(req->domain_name);
        g_free(req->domain_uuid);
        g_free(req->target);
        g_free(req->alias);
        g_free(req);
}

static void request_fail(DiskRequest *req, const GError *error) {
        if (!req->message)
                return;
        reply_error(req->message, error);
        g_clear_pointer(&req->message, sd_bus_message_unref);
}

static gboolean read_call(sd_bus_message *message, DiskRequest *req, guint allowed, GError **error) {
        const char *domain = NULL, *device = NULL;

        if (sd_bus_message_read(message, "ss", &domain, &device) < 0) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT, "Cannot read the arguments");
                return FALSE;
        }
        if (!options_read(message, allowed, &req->options, error))
                return FALSE;
        if (!virt_domain_spec_valid(domain, error) || !disk_spec_valid(device, error))
                return FALSE;
        req->domain_spec = g_strdup(domain);
        req->device_spec = g_strdup(device);
        return TRUE;
}

/* Look the domain up and record its canonical name and UUID. Once recorded
 * (the first look-up), later look-ups go by UUID and leave both alone: the
 * main thread reads them meanwhile (detach timer, removal waiter). */
static virDomainPtr lookup_domain(DiskRequest *req, virConnectPtr conn, GError **error) {
        const char *spec = req->domain_uuid ? req->domain_uuid : req->domain_spec;
        virDomainPtr dom = virt_lookup_domain(conn, spec, error);
        char uuid[VIR_UUID_STRING_BUFLEN] = "";

        if (!dom)
                return NULL;
        if (!virt_require_running(dom, error)) {
                virDomainFree(dom);
                return NULL;
        }
        if (req->domain_uuid)
                return dom;
        (void) virDomainGetUUIDString(dom, uuid);
        g_free(req->domain_name);
        req->domain_name = g_strdup(virDomainGetName(dom));
        g_free(req->domain_uuid);
        req->domain_uuid = g_strdup(uuid);
        return dom;
}

static GHashTable *make_details(DiskRequest *req) {
        GHashTable *details = g_hash_table_new(g_str_hash, g_str_equal);

        g_hash_table_insert(details, (gpointer) "domain", req->domain_name);
        g_hash_table_insert(details, (gpointer) "domain.uuid", req->domain_uuid);
        g_hash_table_insert(details, (gpointer) "device", req->source);
        if (req->disk) {
                g_hash_table_insert(details, (gpointer) "device.serial", req->disk->serial);
                g_hash_table_insert(details, (gpointer) "device.model", req->disk->model);
        }
        return details;
}

static void authorize(DiskRequest *req, const char *action, AuthzDone done) {
        g_autoptr(GHashTable) details = make_details(req);

        authz_check(req->m->authz, req->message, action, details, done, req);
}

/* ---- AttachDisk ---- */

/* Main thread: resolve the disk and check it may be given away. */
static gboolean check_disk(DiskRequest *req, GError **error) {
        g_autoptr(DiskInfo) disk = disks_resolve(req->device_spec, error);
        g_autoptr(HostUsage) host = NULL;
        g_autoptr(DiskUsage) usage = NULL;

        if (!disk)
                return FALSE;
        if (req->devnum && disk->devnum != req->devnum) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                            "%s changed while waiting for authorization; try again", req->device_spec);
                return FALSE;
        }
        host = host_usage_read(error);
        if (!host)
                return FALSE;
        usage = disk_usage_compute(disk, host);
        if (!disk_check_attachable(disk, usage, req->options.readonly, error))
                return FALSE;
        req->system = usage->system;
        req->devnum = disk->devnum;
        g_free(req->source);
        req->source = g_strdup(disk->path);
        g_free(req->id);
        req->id = g_strdup(disk->id);
        g_clear_pointer(&req->disk, disk_info_free);
        req->disk = g_steal_pointer(&disk);
        return TRUE;
}

/* [worker] Refuse a disk any running domain already has. */
static gboolean check_not_attached(DiskRequest *req, virConnectPtr conn, GError **error) {
        g_autoptr(GHashTable) held = scan_attachments(conn, error);
        const Holder *h;

        if (!held)
                return FALSE;
        h = find_holder(held, req->devnum);
        if (!h)
                return TRUE;
        g_set_error(error, PT_ERROR, PT_ERROR_ALREADY_ATTACHED,
                    "%s is already attached to VM %s as %s. Detach it first: passthroughctl disk-detach %s %s",
                    req->source, h->domain, h->target ? h->target : "?", h->domain, req->source);
        return FALSE;
}

static void attach_lookup_work(gpointer data, GError **error) {
        DiskRequest *req = data;
        virConnectPtr conn = virt_get_conn(req->m->virt, error);
        virDomainPtr dom = conn ? lookup_domain(req, conn, error) : NULL;

        if (dom)
                (void) check_not_attached(req, conn, error);
        if (dom)
                virDomainFree(dom);
        if (conn)
                virConnectClose(conn);
}

/* [worker] The target to use: the caller's (if free) or the first free one. */
static char *choose_target(DiskRequest *req, virDomainPtr dom, GError **error) {
        g_autofree char *xml = virt_domain_xml(dom, error);
        g_autoptr(DomainXml) parsed = xml ? devxml_parse_domain(xml, error) : NULL;

        if (!parsed)
                return NULL;
        if (!req->options.target)
                return devxml_next_target(parsed);
        for (guint i = 0; i < parsed->disks->len; i++) {
                const DomainDisk *d = parsed->disks->pdata[i];

                if (g_strcmp0(d->target, req->options.target) == 0) {
                        g_set_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                                    "Target %s is already used in VM %s; choose another or leave it out",
                                    req->options.target, req->domain_name);
                        return NULL;
                }
        }
        return g_strdup(req->options.target);
}

/* [worker] Prove nobody on the host holds the disk, then attach while we
 * hold the exclusive open so nothing can mount it in between. */
static gboolean attach_exclusive(DiskRequest *req, virDomainPtr dom, const char *target, GError **error) {
        g_autofree char *alias = g_strdup_printf("ua-pt-%s", target);
        DiskXmlSpec spec = {
                .source = req->source, .target = target, .serial = req->options.name,
                .alias = alias, .readonly = req->options.readonly,
        };
        g_autofree char *xml = devxml_build_disk(&spec);
        int fd = open(req->source, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
        gboolean ok;

        if (fd < 0) {
                int err = errno;
                g_set_error(error, PT_ERROR, err == EBUSY ? PT_ERROR_DEVICE_BUSY : PT_ERROR_FAILED,
                            "%s is in use on the host (exclusive open failed: %s). Stop what uses it first",
                            req->source, g_strerror(err));
                return FALSE;
        }
        ok = virt_attach_live(dom, xml, error);
        close(fd);
        return ok;
}

static void attach_work(gpointer data, GError **error) {
        DiskRequest *req = data;
        virConnectPtr conn = virt_get_conn(req->m->virt, error);
        virDomainPtr dom = conn ? lookup_domain(req, conn, error) : NULL;
        g_autofree char *target = NULL;

        if (dom && check_not_attached(req, conn, error))
                target = choose_target(req, dom, error);
        if (target && attach_exclusive(req, dom, target, error))
                req->target = g_steal_pointer(&target);
        if (dom)
                virDomainFree(dom);
        if (conn)
                virConnectClose(conn);
}

/* Main thread: the host disks (devnum) an attach is under way for. The check
 * that no domain has the disk and the attach run in a worker; two requests
 * for one disk must not both pass the check before either has attached (the
 * exclusive open does not keep out a second attach: QEMU opens without O_EXCL). */
static GHashTable *attaching;

static gboolean attaching_claim(dev_t devnum) {
        guint64 key = devnum;

        if (!attaching)
                attaching = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        if (g_hash_table_contains(attaching, &key))
                return FALSE;
        g_hash_table_add(attaching, g_memdup2(&key, sizeof(key)));
        return TRUE;
}

static void attaching_release(dev_t devnum) {
        guint64 key = devnum;

        g_hash_table_remove(attaching, &key);
}

static void attach_done(gpointer data, GError *error) {
        DiskRequest *req = data;
        int r;

        attaching_release(req->devnum);
        if (error) {
                request_fail(req, error);
        } else {
                g_message("Attached %s to %s as %s", req->source, req->domain_name, req->target);
                r = sd_bus_reply_method_return(req->message, "s", req->target);
                if (r < 0)
                        g_warning("Cannot reply to AttachDisk: %s", g_strerror(-r));
                api_emit_device_attached(req->m, req->domain_name, "disk", req->id, req->target);
        }
        request_unref(req);
}

static void attach_authorized(GError *error, gpointer data) {
        DiskRequest *req = data;
        g_autoptr(GError) local = NULL;
        gboolean authorized_system = req->system;

        if (error) {
                request_fail(req, error);
                request_unref(req);
                return;
        }
        if (!check_disk(req, &local)) {
                request_fail(req, local);
                request_unref(req);
                return;
        }
        /* The action polkit allowed must still be the one this disk needs. */
        if (req->system != authorized_system) {
                local = g_error_new(PT_ERROR, PT_ERROR_FAILED,
                                    "%s changed while waiting for authorization; try again", req->device_spec);
                request_fail(req, local);
                request_unref(req);
                return;
        }
        if (!attaching_claim(req->devnum)) {
                local = g_error_new(PT_ERROR, PT_ERROR_DEVICE_BUSY,
                                    "%s is being attached by another request; try again later", req->source);
                request_fail(req, local);
                request_unref(req);
                return;
        }
        worker_run(attach_work, attach_done, req);
}

static void attach_looked_up(gpointer data, GError *error) {
        DiskRequest *req = data;

        if (error) {
                request_fail(req, error);
                request_unref(req);
                return;
        }
        authorize(req, req->system ? ACTION_ATTACH_SYSTEM_DISK : ACTION_ATTACH_DISK, attach_authorized);
}

int method_attach_disk(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        DiskRequest *req = request_new(userdata, message);
        g_autoptr(GError) local = NULL;
        int r;

        if (!read_call(message, req, OPTION_NAME | OPTION_TARGET | OPTION_READONLY, &local) ||
            !check_disk(req, &local)) {
                r = pt_error_to_bus(local, error);
                request_unref(req);
                return r;
        }
        worker_run(attach_lookup_work, attach_looked_up, req);
        return 1;
}

/* ---- DetachDisk ---- */

/* Main thread: the host disk if it is still there; a /dev path whose disk is
 * gone can still be detached by its source path. */
static gboolean resolve_for_detach(DiskRequest *req, GError **error) {
        g_autoptr(GError) local = NULL;
        g_autoptr(DiskInfo) disk = disks_resolve(req->device_spec, &local);

        if (!disk && g_error_matches(local, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE) &&
            g_str_has_prefix(req->device_spec, "/dev/")) {
                req->source = g_strdup(req->device_spec);
                req->id = g_strdup(req->device_spec);
                return TRUE;
        }
        if (!disk) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        req->devnum = disk->devnum;
        req->source = g_strdup(disk->path);
        req->id = g_strdup(disk->id);
        req->disk = g_steal_pointer(&disk);
        return TRUE;
}

static gboolean disk_matches(DiskRequest *req, const DomainDisk *d) {
        if (g_strcmp0(d->type, "block") != 0 || !d->source)
                return FALSE;
        if (g_str_equal(d->source, req->source))
                return TRUE;
        return req->devnum && source_devnum(d->source) == req->devnum;
}

/* [worker] Find the disk in the domain's live XML: record target and alias. */
static gboolean find_in_domain(DiskRequest *req, virDomainPtr dom, DomainDisk **found, DomainXml **xml_out,
                               GError **error) {
        g_autofree char *xml = virt_domain_xml(dom, error);
        DomainXml *parsed = xml ? devxml_parse_domain(xml, error) : NULL;

        if (!parsed)
                return FALSE;
        for (guint i = 0; i < parsed->disks->len; i++)
                if (disk_matches(req, parsed->disks->pdata[i])) {
                        *found = parsed->disks->pdata[i];
                        *xml_out = parsed;
                        return TRUE;
                }
        domain_xml_free(parsed);
        g_set_error(error, PT_ERROR, PT_ERROR_NOT_ATTACHED,
                    "%s is not attached to VM %s. See passthroughctl disk-attached %s",
                    req->source, req->domain_name, req->domain_name);
        return FALSE;
}

static void detach_lookup_work(gpointer data, GError **error) {
        DiskRequest *req = data;
        virConnectPtr conn = virt_get_conn(req->m->virt, error);
        virDomainPtr dom = conn ? lookup_domain(req, conn, error) : NULL;
        DomainDisk *disk = NULL;
        g_autoptr(DomainXml) parsed = NULL;

        if (dom && find_in_domain(req, dom, &disk, &parsed, error)) {
                req->target = g_strdup(disk->target);
                req->alias = g_strdup(disk->alias);
                if (!req->alias)
                        g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                                    "%s has no device alias in VM %s; libvirt cannot report its removal",
                                    req->source, req->domain_name);
        }
        if (dom)
                virDomainFree(dom);
        if (conn)
                virConnectClose(conn);
}

/* Answer the call (once), then drop the timer and the waiter. Dropping the
 * waiter releases its reference, so `req` may be gone afterwards. */
static void detach_finish(DiskRequest *req, const GError *error) {
        int r;

        g_clear_handle_id(&req->timer, g_source_remove);
        if (req->message && error) {
                request_fail(req, error);
        } else if (req->message) {
                g_message("Detached %s from %s", req->source, req->domain_name);
                r = sd_bus_reply_method_return(req->message, "");
                if (r < 0)
                        g_warning("Cannot reply to DetachDisk: %s", g_strerror(-r));
                g_clear_pointer(&req->message, sd_bus_message_unref);
                api_emit_device_detached(req->m, req->domain_name, "disk", req->id);
        }
        if (req->waiter) {
                virt_unwatch_removal(req->m->virt, req->waiter);
                req->waiter = 0;
                request_unref(req);
        }
}

/* libvirt says the guest let go (or refused). */
static void detach_removed(gboolean failed, gpointer data) {
        DiskRequest *req = data;
        g_autoptr(GError) error = NULL;

        if (failed)
                error = g_error_new(PT_ERROR, PT_ERROR_FAILED, "The guest in VM %s refused to release %s",
                                    req->domain_name, req->source);
        detach_finish(req, error);
}

static gboolean detach_timed_out(gpointer data) {
        DiskRequest *req = data;
        g_autoptr(GError) error = NULL;

        req->timer = 0;
        error = g_error_new(PT_ERROR, PT_ERROR_TIMEOUT,
                            "The guest in VM %s did not release %s (%s) within %u ms; it stays attached and the "
                            "removal request stays pending in the guest. Retry, or shut the guest down",
                            req->domain_name, req->source, req->target, req->options.timeout_ms);
        detach_finish(req, error);
        return G_SOURCE_REMOVE;
}

static void detach_work(gpointer data, GError **error) {
        DiskRequest *req = data;
        virConnectPtr conn = virt_get_conn(req->m->virt, error);
        virDomainPtr dom = conn ? lookup_domain(req, conn, error) : NULL;
        DomainDisk *disk = NULL;
        g_autoptr(DomainXml) parsed = NULL;
        g_autofree char *xml = NULL;

        if (dom && find_in_domain(req, dom, &disk, &parsed, error)) {
                DiskXmlSpec spec = { .source = disk->source, .target = disk->target };

                xml = devxml_build_disk(&spec);
                (void) virt_detach_live(dom, xml, error);
        }
        if (dom)
                virDomainFree(dom);
        if (conn)
                virConnectClose(conn);
}

static void detach_requested(gpointer data, GError *error) {
        DiskRequest *req = data;

        if (error)
                detach_finish(req, error);
        request_unref(req);   /* the worker's reference */
}

static void detach_authorized(GError *error, gpointer data) {
        DiskRequest *req = data;

        if (error) {
                request_fail(req, error);
                request_unref(req);
                return;
        }
        /* The waiter and the timer exist before the request is made. The
         * initial reference now belongs to the waiter. */
        req->waiter = virt_watch_removal(req->m->virt, req->domain_uuid, req->alias, detach_removed, req);
        req->timer = g_timeout_add(req->options.timeout_ms, detach_timed_out, req);
        worker_run(detach_work, detach_requested, request_ref(req));
}

static void detach_looked_up(gpointer data, GError *error) {
        DiskRequest *req = data;

        if (error) {
                request_fail(req, error);
                request_unref(req);
                return;
        }
        authorize(req, ACTION_DETACH, detach_authorized);
}

int method_detach_disk(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        DiskRequest *req = request_new(userdata, message);
        g_autoptr(GError) local = NULL;
        int r;

        if (!read_call(message, req, OPTION_TIMEOUT_MS, &local) || !resolve_for_detach(req, &local)) {
                r = pt_error_to_bus(local, error);
                request_unref(req);
                return r;
        }
        worker_run(detach_lookup_work, detach_looked_up, req);
        return 1;
}
