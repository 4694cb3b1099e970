/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "audit.h"
#include "model.h"
#include "request.h"

/* Main thread, before a worker step: what the VMs hold, as the model has it. */
static void take_vm_holds(Request *req) {
        if (req->vm_held)
                g_hash_table_unref(req->vm_held);
        req->vm_held = model_vm_holds_copy(req->m->model);
}

gpointer request_new(const RequestKind *kind, Manager *m, sd_bus_message *message) {
        Request *req = g_malloc0(kind->size);

        g_assert(kind->size >= sizeof(Request));
        req->ref = 1;
        req->kind = kind;
        req->m = m;
        req->message = sd_bus_message_ref(message);
        req->subject = sd_bus_message_ref(message);
        req->caller_uid = G_MAXUINT32;
        return req;
}

gpointer request_new_internal(const RequestKind *kind, Manager *m, const RequestOrigin *origin, const char *device,
                              const char *domain) {
        Request *req = g_malloc0(kind->size);

        g_assert(kind->size >= sizeof(Request) && origin->done);
        req->ref = 1;
        req->kind = kind;
        req->m = m;
        req->subject = origin->subject ? sd_bus_message_ref(origin->subject) : NULL;
        req->caller_uid = G_MAXUINT32;
        if (req->subject)
                (void) callers_uid(m->callers, sd_bus_message_get_sender(req->subject), &req->caller_uid);
        req->done = origin->done;
        req->done_data = origin->data;
        req->options.dry_run = origin->dry_run;
        req->assignment = g_strdup(origin->assignment);
        take_vm_holds(req);
        req->options.timeout_ms = DEFAULT_DETACH_TIMEOUT_MS;
        req->device_spec = g_strdup(device);
        req->domain_spec = g_strdup(domain);
        return req;
}

gpointer request_ref(gpointer p) {
        Request *req = p;

        g_atomic_int_inc(&req->ref);
        return req;
}

void request_unref(gpointer p) {
        Request *req = p;

        if (!g_atomic_int_dec_and_test(&req->ref))
                return;
        if (req->kind->clear)
                req->kind->clear(req);
        if (req->counted)
                callers_give(req->m->callers, CALLERS_REQUESTS, req->caller_uid);
        if (req->caller_watch)
                callers_unwatch(req->m->callers, req->caller_watch);
        sd_bus_message_unref(req->message);
        sd_bus_message_unref(req->subject);
        g_free(req->domain_spec);
        g_free(req->device_spec);
        call_options_clear(&req->options);
        g_free(req->domain_name);
        g_free(req->domain_uuid);
        g_free(req->id);
        g_free(req->source);
        g_free(req->target);
        g_free(req->alias);
        g_free(req->claim);
        g_free(req->xml);
        g_free(req->assignment);
        if (req->vm_held)
                g_hash_table_unref(req->vm_held);
        g_free(req);
}

static gboolean request_pending(Request *req) {
        return req->message || req->done;
}

/* Answered: the caller may come and go. */
static void unwatch_caller(Request *req) {
        if (req->caller_watch)
                callers_unwatch(req->m->callers, req->caller_watch);
        req->caller_watch = 0;
}

/* Call `done` once (it may drop the last other reference). */
static void request_call_done(Request *req, const GError *error) {
        RequestDone done = req->done;

        req->done = NULL;
        request_ref(req);
        done(req, error, req->done_data);
        request_unref(req);
}

void request_fail(Request *req, const GError *error) {
        if (req->done) {
                request_call_done(req, error);
                return;
        }
        if (!req->message)
                return;
        reply_error(req->message, error);
        g_clear_pointer(&req->message, sd_bus_message_unref);
        unwatch_caller(req);
}

/* Answer success: the call's reply (`target`, or nothing when NULL), or `done`. */
static void request_succeed(Request *req, const char *target, const char *what) {
        int r;

        if (req->done) {
                request_call_done(req, NULL);
                return;
        }
        if (!req->message)
                return;
        r = target ? sd_bus_reply_method_return(req->message, "s", target)
                   : sd_bus_reply_method_return(req->message, "");
        if (r < 0)
                g_warning("Cannot reply to %s call: %s", what, g_strerror(-r));
        g_clear_pointer(&req->message, sd_bus_message_unref);
        unwatch_caller(req);
}

void request_abort(Request *req, const GError *error) {
        request_fail(req, error);
        request_unref(req);
}

gboolean request_read_call(Request *req, sd_bus_message *message, guint allowed,
                           gboolean (*device_valid)(const char *spec, GError **error), GError **error) {
        const char *domain = NULL, *device = NULL;

        if (sd_bus_message_read(message, "ss", &domain, &device) < 0) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT, "Cannot read the arguments");
                return FALSE;
        }
        if (!options_read(message, allowed, &req->options, error))
                return FALSE;
        if (!virt_domain_spec_valid(domain, error) || !device_valid(device, error))
                return FALSE;
        req->domain_spec = g_strdup(domain);
        req->device_spec = g_strdup(device);
        return TRUE;
}

static void caller_left(gpointer data) {
        Request *req = data;

        req->caller_watch = 0;
        g_atomic_int_set(&req->caller_gone, 1);
        g_message("The caller of a request for %s left before its answer; cancelling it",
                  req->source ? req->source : req->device_spec);
        if (req->check)
                authz_cancel(req->check);
}

gboolean request_caller_gone(Request *req, GError **error) {
        if (!g_atomic_int_get(&req->caller_gone))
                return FALSE;
        g_set_error_literal(error, PT_ERROR, PT_ERROR_FAILED, "The caller left; the request was cancelled");
        return TRUE;
}

static void admitted(guint32 uid, const GError *error, gpointer data) {
        Request *req = data;
        g_autoptr(GError) local = NULL;

        if (error) {
                request_abort(req, error);
                return;
        }
        req->caller_uid = uid;
        if (!callers_take(req->m->callers, CALLERS_REQUESTS, uid, &local) || request_caller_gone(req, &local)) {
                request_abort(req, local);
                return;
        }
        req->counted = TRUE;
        take_vm_holds(req);
        worker_run(req->lookup, req->looked_up, req);
}

gboolean request_read_object_call(Request *req, sd_bus_message *message, const char *device, const char *domain,
                                  guint allowed, GError **error) {
        const char *dom = domain;

        if (!dom && sd_bus_message_read(message, "s", &dom) < 0) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT, "Cannot read the arguments");
                return FALSE;
        }
        if (!options_read(message, allowed, &req->options, error))
                return FALSE;
        if (!*dom) {
                g_set_error(error, PT_ERROR, PT_ERROR_NOT_ATTACHED, "%s is not attached to a VM", device);
                return FALSE;
        }
        if (!virt_domain_spec_valid(dom, error))
                return FALSE;
        req->domain_spec = g_strdup(dom);
        req->device_spec = g_strdup(device);
        return TRUE;
}

int request_begin(Request *req, const GError *failure, WorkerFunc lookup, WorkerDone looked_up,
                  sd_bus_error *error) {
        const char *sender = sd_bus_message_get_sender(req->message);
        int r;

        if (failure) {
                r = pt_error_to_bus(failure, error);
                request_unref(req);
                return r;
        }
        req->lookup = lookup;
        req->looked_up = looked_up;
        if (sender)
                req->caller_watch = callers_watch(req->m->callers, sender, caller_left, req);
        callers_lookup(req->m->callers, sender, admitted, req);
        return 1;
}

static virDomainPtr lookup_domain(Request *req, GError **error) {
        const char *spec = req->domain_uuid ? req->domain_uuid : req->domain_spec;
        virDomainPtr dom = virt_find_domain(req->m->virt, spec, error);

        if (!dom)
                return NULL;
        if (!virt_require_running(dom, error)) {
                virDomainFree(dom);
                return NULL;
        }
        if (req->domain_uuid)
                return dom;
        g_free(req->domain_name);
        g_free(req->domain_uuid);
        virt_domain_identity(dom, &req->domain_name, &req->domain_uuid);
        return dom;
}

/* [worker] The lock of one domain (by UUID), for attaches: they read the
 * domain's XML (free targets, its controllers) and then act on what they
 * read, so two at once would pick the same target or both add a controller.
 * One small mutex per domain that ever got an attach, kept for the
 * service's life (workers may still hold one at shutdown). */
static GMutex *domain_mutex(virDomainPtr dom) {
        static GMutex lock;
        static GHashTable *mutexes;   /* UUID -> GMutex */
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&lock);
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        GMutex *mutex;

        if (!mutexes)
                mutexes = g_hash_table_new(g_str_hash, g_str_equal);
        (void) virDomainGetUUIDString(dom, uuid);
        mutex = g_hash_table_lookup(mutexes, uuid);
        if (!mutex) {
                mutex = g_new0(GMutex, 1);
                g_mutex_init(mutex);
                g_hash_table_insert(mutexes, g_strdup(uuid), mutex);
        }
        return mutex;
}

static gboolean on_domain(Request *req, RequestDomainFunc func, gboolean alone, GError **error) {
        virDomainPtr dom = lookup_domain(req, error);
        gboolean ok = FALSE;

        if (dom) {
                GMutex *mutex = alone ? domain_mutex(dom) : NULL;

                if (mutex)
                        g_mutex_lock(mutex);
                ok = func(req, virDomainGetConnect(dom), dom, error);
                if (mutex)
                        g_mutex_unlock(mutex);
                virDomainFree(dom);
        }
        return ok;
}

gboolean request_on_domain(Request *req, RequestDomainFunc func, GError **error) {
        return on_domain(req, func, FALSE, error);
}

gboolean request_on_domain_alone(Request *req, RequestDomainFunc func, GError **error) {
        return on_domain(req, func, TRUE, error);
}

static void audit(Request *req, AuditAction action, const GError *error);

static void authorized(GError *error, gpointer data) {
        Request *req = data;

        req->check = NULL;
        /* A refused change is audited too (as Assign's is); a caller that left is not. */
        if (error && !req->options.dry_run && !g_atomic_int_get(&req->caller_gone))
                audit(req, req->authorized == request_detach_authorized ? AUDIT_DETACH : AUDIT_ATTACH, error);
        req->authorized(error, req);
}

void request_authorize(Request *req, const char *action, GHashTable *details, AuthzDone done) {
        g_autoptr(GHashTable) all = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter iter;
        gpointer key, value;

        if (!req->subject) {
                done(NULL, req);   /* an automatic attach: Assign was authorized */
                return;
        }
        g_hash_table_insert(all, (gpointer) "domain", req->domain_name);
        g_hash_table_insert(all, (gpointer) "domain.uuid", req->domain_uuid);
        if (details) {
                g_hash_table_iter_init(&iter, details);
                while (g_hash_table_iter_next(&iter, &key, &value))
                        g_hash_table_insert(all, key, value);
        }
        req->authorized = done;
        req->check = authz_check(req->m->authz, req->subject, action, all, authorized, req);
}

/* ---- the class of an attach ---- */

gboolean request_attach_class(Request *req, const char *what) {
        g_autoptr(GError) error = NULL;

        if (req->system && !req->subject) {
                error = g_error_new(PT_ERROR, PT_ERROR_SYSTEM_DEVICE, "%s %s", req->source, what);
                request_abort(req, error);
                return FALSE;
        }
        req->authorized_system = req->system;
        return TRUE;
}

gboolean request_same_class(Request *req, GError **error) {
        if (req->system == req->authorized_system)
                return TRUE;
        g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "%s changed while waiting for authorization; try again",
                    req->source);
        return FALSE;
}

/* ---- the audit trail: every attach and detach that was allowed, once ---- */

static void audit(Request *req, AuditAction action, const GError *error) {
        AuditRecord record = {
                .action = action,
                .automatic = !req->subject,
                .caller_uid = req->caller_uid,
                .caller = req->subject ? sd_bus_message_get_sender(req->subject) : NULL,
                .assignment = req->assignment,
                .vm = req->domain_name ? req->domain_name : req->domain_spec,
                .vm_uuid = req->domain_uuid,
                .kind = req->kind->name,
                /* A disk by its path, a USB device by its Id. */
                .device = g_str_equal(req->kind->name, "usb") && req->id ? req->id
                          : req->source ? req->source : req->device_spec,
                .target = req->target,
                .error = error,
        };

        audit_log(&record);
}

/* ---- attach ---- */

static GHashTable *claims;   /* main thread: keys of the attaches under way */

static void attach_done(gpointer data, GError *error) {
        Request *req = data;
        gboolean dry_run = req->options.dry_run;

        g_hash_table_remove(claims, req->claim);
        if (!dry_run)
                audit(req, AUDIT_ATTACH, error);
        if (error) {
                request_abort(req, error);
                return;
        }
        if (dry_run)
                g_message("Would attach %s to %s as %s: %s", req->source, req->domain_name, req->target, req->xml);
        request_succeed(req, req->kind->attach_returns_target ? req->target : NULL, "an attach");
        if (!dry_run && req->kind->attached)
                req->kind->attached(req);
        if (!dry_run)   /* the model sees the change and signals it */
                model_invalidate(req->m->model);
        request_unref(req);
}

void request_attach(Request *req, char *key) {
        g_autoptr(GError) error = NULL;

        if (request_caller_gone(req, &error)) {
                g_free(key);
                request_abort(req, error);
                return;
        }
        if (!claims)
                claims = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        if (g_hash_table_contains(claims, key)) {
                g_free(key);
                error = g_error_new(PT_ERROR, PT_ERROR_DEVICE_BUSY,
                                    "%s is being attached by another request; try again later", req->source);
                request_abort(req, error);
                return;
        }
        g_free(req->claim);
        req->claim = g_strdup(key);
        g_hash_table_add(claims, key);
        take_vm_holds(req);
        worker_run(req->kind->attach_work, attach_done, req);
}

/* ---- detach ---- */

/* Answer the call (once), then drop the timer and the waiter. Dropping the
 * waiter releases its reference, so `req` may be gone afterwards. */
static void detach_finish(Request *req, const GError *error) {
        g_clear_handle_id(&req->timer, g_source_remove);
        if (request_pending(req))
                audit(req, AUDIT_DETACH, error);
        if (request_pending(req) && error) {
                request_fail(req, error);
        } else if (request_pending(req)) {
                request_succeed(req, NULL, "a detach");
                model_invalidate(req->m->model);   /* which signals it */
        }
        if (req->waiter) {
                virt_unwatch_removal(req->m->virt, req->waiter);
                req->waiter = 0;
                request_unref(req);
        }
}

/* libvirt says the guest let go (or refused). */
static void detach_removed(gboolean failed, gpointer data) {
        Request *req = data;
        g_autoptr(GError) error = NULL;

        if (failed)
                error = g_error_new(PT_ERROR, PT_ERROR_FAILED, "The guest in VM %s refused to release %s",
                                    req->domain_name, req->source);
        detach_finish(req, error);
}

static gboolean detach_timed_out(gpointer data) {
        Request *req = data;
        g_autoptr(GError) error = NULL;

        req->timer = 0;
        error = g_error_new(PT_ERROR, PT_ERROR_TIMEOUT,
                            "The guest in VM %s did not release %s (%s) within %u ms; it stays attached and the "
                            "removal request stays pending in the guest. Retry, or shut the guest down",
                            req->domain_name, req->source, req->target, req->options.timeout_ms);
        detach_finish(req, error);
        return G_SOURCE_REMOVE;
}

static void detach_requested(gpointer data, GError *error) {
        Request *req = data;

        if (error)
                detach_finish(req, error);
        request_unref(req);   /* the worker's reference */
}

void request_detach_authorized(GError *error, gpointer data) {
        Request *req = data;
        g_autoptr(GError) local = NULL;

        if (error || request_caller_gone(req, &local)) {
                request_abort(req, error ? error : local);
                return;
        }
        if (req->options.dry_run) {
                g_message("Would detach %s from %s: %s", req->source, req->domain_name, req->xml);
                request_succeed(req, NULL, "a detach");
                request_unref(req);
                return;
        }
        /* The waiter and the timer exist before the request is made. The
         * caller's reference now belongs to the waiter. */
        req->waiter = virt_watch_removal(req->m->virt, req->domain_uuid, req->alias, detach_removed, req);
        req->timer = g_timeout_add(req->options.timeout_ms, detach_timed_out, req);
        worker_run(req->kind->detach_work, detach_requested, request_ref(req));
}

/* ---- the running domains ---- */

GPtrArray *request_scan_running(Virt *virt, GError **error) {
        g_autoptr(GPtrArray) doms = virt_list_all_domains(virt, TRUE, error);
        GPtrArray *parsed;

        if (!doms)
                return NULL;
        parsed = g_ptr_array_new_with_free_func((GDestroyNotify) domain_xml_free);
        for (guint i = 0; i < doms->len; i++) {
                g_autofree char *xml = virt_domain_xml(doms->pdata[i], NULL);
                DomainXml *dom = xml ? devxml_parse_domain(xml, NULL) : NULL;

                if (dom)
                        g_ptr_array_add(parsed, dom);
        }
        return parsed;
}
